"""Building blocks of the reference models, one per module."""

from seldkit.models.layers.adacos import AdaCos
from seldkit.models.layers.feature_attention import FeatureAttention
from seldkit.models.layers.masking import mask_interval, patch_mask, spec_augment, spec_masks
from seldkit.models.layers.patch_embed import PatchEmbed, sincos_position_table
from seldkit.models.layers.transformer import Block

__all__ = [
    "AdaCos",
    "Block",
    "FeatureAttention",
    "PatchEmbed",
    "mask_interval",
    "patch_mask",
    "sincos_position_table",
    "spec_augment",
    "spec_masks",
]
