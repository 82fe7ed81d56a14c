"""Average DSpAST feature-attention weights over a data set's clips (the analysis of the paper's Figure 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seldkit.errors import InputError


def average_feature_gates(
    checkpoint: Path, data_dir: Path, *, split: str = "test", max_clips: int = 256, batch_size: int = 32
) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...], int]:
    """Mean DSpAST feature-attention gate per branch and feature over the first ``max_clips`` clips of ``split``.

    Returns (``[branches, features]``, branch names, feature names, clips used).
    """
    import torch

    from seldkit.data.layout import BinauralDataset, collate, read_dataset
    from seldkit.features.frontend import STACKS
    from seldkit.models.config import config_of
    from seldkit.models.dspast import BRANCHES, DSpAST
    from seldkit.train.checkpoint import load_trained_model
    from seldkit.train.loop import model_inputs

    model = load_trained_model(checkpoint)
    if not isinstance(model, DSpAST):
        raise InputError(
            f"feature attention exists in DSpAST checkpoints only (this one is {config_of(model).model})",
            file=str(checkpoint),
        )
    dataset = BinauralDataset.for_evaluation(read_dataset(data_dir), split)
    count = min(len(dataset), max_clips)
    totals = np.zeros((len(BRANCHES), len(STACKS["dspast"])))
    with torch.no_grad():
        for start in range(0, count, batch_size):
            batch = collate([dataset[item] for item in range(start, min(start + batch_size, count))])
            model(*model_inputs(batch, torch.device("cpu")))
            gates = model.feature_gates()
            for row, branch in enumerate(BRANCHES):
                gate = gates[branch]
                assert gate is not None  # set by the forward pass just run
                totals[row] += gate.double().sum(dim=0).numpy()
    return totals / max(count, 1), BRANCHES, STACKS["dspast"], count
