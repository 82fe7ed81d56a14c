"""Reference models SpatialAST and DSpAST, built from the blocks in :mod:`.layers`."""

from seldkit.models.config import ModelConfig, load_model_config
from seldkit.models.registry import (
    build,
    count_trainable,
    create_model,
    from_reference_state_dict,
    load_audiomae_encoder,
)

__all__ = [
    "ModelConfig",
    "build",
    "count_trainable",
    "create_model",
    "from_reference_state_dict",
    "load_audiomae_encoder",
    "load_model_config",
]
