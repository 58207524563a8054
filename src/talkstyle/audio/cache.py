"""Per-clip audio feature cache: ROOT/<encoder cache id>/<sha1 of the audio samples>.npy.

Features are cached at the audio's natural length (round(duration * 25) frames) and trimmed or
padded on the way out, so one entry serves every requested `num_frames`. Writes are atomic; an
unreadable entry is recomputed.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import TalkstyleError
from .features import AudioEncoder, check_audio, fit_length


def audio_digest(audio: np.ndarray) -> str:
    """sha1 of the float32 samples: equal audio gives an equal key whatever file it came from."""
    return hashlib.sha1(np.ascontiguousarray(audio, np.float32).tobytes()).hexdigest()


class FeatureCache:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, encoder: AudioEncoder, audio: np.ndarray) -> Path:
        return self.root / encoder.cache_id / f"{audio_digest(audio)}.npy"

    def encode(self, encoder: AudioEncoder, audio: np.ndarray, num_frames: int | None = None) -> np.ndarray:
        """`encoder.encode(audio, num_frames)`, computed once per (encoder, audio)."""
        audio = check_audio(audio)
        path = self.path(encoder, audio)
        feats = self._read(path, encoder.dim)
        if feats is None:
            feats = encoder.encode(audio)
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path, suffix=".npy") as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, feats)
        if num_frames is None:
            return feats
        if num_frames < 1:
            raise TalkstyleError(f"num_frames must be at least 1, got {num_frames}")
        return fit_length(feats, num_frames)

    @staticmethod
    def _read(path: Path, dim: int) -> np.ndarray | None:
        if not path.is_file():
            return None
        try:
            feats = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if feats.ndim != 2 or feats.shape[1] != dim or feats.dtype != np.float32:
            return None
        return feats
