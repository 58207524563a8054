"""FaceMotion: the one face-animation format of talkstyle.

Per frame: 52 ARKit blendshape weights in [0, 1] (ARKit names and order) and head rotation
(pitch, yaw, roll) in radians, at a fixed frame rate. Optionally the audio it was made for, a
per-frame confidence (captures), and free JSON metadata (prompt, attributes, provenance).
"""
from __future__ import annotations

import dataclasses
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path
from ..errors import TalkstyleError
from .arkit import ARKIT_NAMES, NUM_BLENDSHAPES

FORMAT_VERSION = 1
DEFAULT_FPS = 25.0
HEAD_AXES = ("pitch", "yaw", "roll")
# Rotations beyond this are not a head on a neck; most likely degrees were passed as radians.
MAX_HEAD_RAD = np.pi / 2


@dataclasses.dataclass
class FaceMotion:
    weights: np.ndarray                      # (T, 52) float32 in [0, 1]
    head: np.ndarray                         # (T, 3) float32 pitch, yaw, roll in radians
    fps: float = DEFAULT_FPS
    audio: np.ndarray | None = None          # (S,) float32 mono in [-1, 1]
    sample_rate: int | None = None
    confidence: np.ndarray | None = None     # (T,) float32 in [0, 1]; 0 = tracking lost
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, np.float32)
        self.head = np.asarray(self.head, np.float32)
        if self.audio is not None:
            self.audio = np.asarray(self.audio, np.float32)
        if self.confidence is not None:
            self.confidence = np.asarray(self.confidence, np.float32)
        self.fps = float(self.fps)
        self.validate()

    # ---------------------------------------------------------------- construction
    @classmethod
    def neutral(cls, num_frames: int, fps: float = DEFAULT_FPS) -> "FaceMotion":
        return cls(np.zeros((num_frames, NUM_BLENDSHAPES)), np.zeros((num_frames, 3)), fps)

    # ---------------------------------------------------------------- properties
    @property
    def num_frames(self) -> int:
        return int(self.weights.shape[0])

    def __len__(self) -> int:
        return self.num_frames

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    def channel(self, name: str) -> np.ndarray:
        """The (T,) curve of one ARKit blendshape by name."""
        return self.weights[:, ARKIT_NAMES.index(name)]

    # ---------------------------------------------------------------- checks
    def validate(self) -> None:
        """Raise TalkstyleError on wrong shapes, NaN, out-of-range values."""
        w, h = self.weights, self.head
        if w.ndim != 2 or w.shape[1] != NUM_BLENDSHAPES:
            raise TalkstyleError(f"weights must have shape (T, {NUM_BLENDSHAPES}), got {w.shape}")
        if h.shape != (w.shape[0], 3):
            raise TalkstyleError(f"head must have shape ({w.shape[0]}, 3), got {h.shape}")
        if w.shape[0] == 0:
            raise TalkstyleError("motion has no frames")
        if not (np.isfinite(w).all() and np.isfinite(h).all()):
            raise TalkstyleError("motion contains NaN or infinite values")
        if w.min() < -1e-4 or w.max() > 1 + 1e-4:
            raise TalkstyleError(f"blendshape weights must lie in [0, 1], found [{w.min():.3f}, {w.max():.3f}]")
        if np.abs(h).max() > MAX_HEAD_RAD:
            raise TalkstyleError("head rotation exceeds 90 degrees: it must be in radians")
        if not (0 < self.fps <= 1000):
            raise TalkstyleError(f"fps must be in (0, 1000], got {self.fps}")
        if self.audio is not None:
            if self.audio.ndim != 1 or not self.sample_rate or not 0 < self.sample_rate <= 1_000_000:
                raise TalkstyleError("audio must be mono (S,) with a sample_rate in (0, 1000000]")
            if not np.isfinite(self.audio).all():
                raise TalkstyleError("audio contains NaN or infinite values")
        if self.confidence is not None and self.confidence.shape != (w.shape[0],):
            raise TalkstyleError(f"confidence must have shape ({w.shape[0]},), got {self.confidence.shape}")
        self.weights = np.clip(w, 0.0, 1.0)

    # ---------------------------------------------------------------- transforms
    def resample(self, fps: float) -> "FaceMotion":
        """Linear resampling of weights, head and confidence to another frame rate."""
        if fps == self.fps:
            return dataclasses.replace(self)
        n = max(1, int(round(self.duration * fps)))
        src_t = np.arange(self.num_frames) / self.fps
        dst_t = np.arange(n) / fps

        def interp(x: np.ndarray) -> np.ndarray:
            x2 = x.reshape(len(x), -1)
            out = np.stack([np.interp(dst_t, src_t, x2[:, j]) for j in range(x2.shape[1])], 1)
            return out.reshape((n,) + x.shape[1:])

        conf = None if self.confidence is None else interp(self.confidence)
        return dataclasses.replace(self, weights=interp(self.weights), head=interp(self.head),
                                   fps=fps, confidence=conf)

    def slice(self, start: int, stop: int) -> "FaceMotion":
        """Frames [start, stop), with the matching stretch of audio."""
        audio = None
        if self.audio is not None:
            a, b = (int(round(f / self.fps * self.sample_rate)) for f in (start, stop))
            audio = self.audio[a:b]
        conf = None if self.confidence is None else self.confidence[start:stop]
        return dataclasses.replace(self, weights=self.weights[start:stop], head=self.head[start:stop],
                                   audio=audio, confidence=conf)

    # ---------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """Write an .npz atomically (format version, names, metadata as JSON)."""
        path = Path(path)
        arrays: dict[str, np.ndarray] = {
            "format_version": np.array(FORMAT_VERSION),
            "blendshape_names": np.array(ARKIT_NAMES),
            "weights": self.weights.astype(np.float32),
            "head": self.head.astype(np.float32),
            "fps": np.array(self.fps),
            "metadata": np.array(json.dumps(self.metadata)),
        }
        if self.audio is not None:
            arrays["audio"] = self.audio.astype(np.float32)
            arrays["sample_rate"] = np.array(self.sample_rate)
        if self.confidence is not None:
            arrays["confidence"] = self.confidence
        with atomic_path(path, suffix=".npz") as tmp:
            # What np.savez_compressed writes, with the zip closed by a `with`: numpy's own leaves
            # it open on Ctrl-C, and its __del__ then prints a traceback at exit.
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
                for key, value in arrays.items():
                    with zf.open(f"{key}.npy", "w", force_zip64=True) as f:
                        np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "FaceMotion":
        """Read a FaceMotion .npz; never unpickles. Bad files (damaged, or fields of the wrong
        type, shape or size) raise TalkstyleError naming the field."""
        path = Path(path)
        if path.is_dir():
            raise TalkstyleError(f"motion file is a folder, not a file: {path}")
        if not path.is_file():
            raise TalkstyleError(f"motion file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as z:
                if not hasattr(z, "files"):
                    raise TalkstyleError(f"{path} is a single .npy array, not a FaceMotion .npz")
                _check_sizes(z, path)
                data = {k: z[k] for k in z.files}
        except TalkstyleError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError, NotImplementedError,
                zlib.error, MemoryError) as e:
            raise TalkstyleError(f"not a readable FaceMotion .npz: {path} ({e.__class__.__name__})") from None
        for key in ("format_version", "weights", "head", "fps"):
            if key not in data:
                raise TalkstyleError(f"{path} is not a FaceMotion file (missing '{key}')")
        version = _scalar(data, "format_version", path, int)
        if version > FORMAT_VERSION:
            raise TalkstyleError(f"{path} has format version {version}; this talkstyle reads up to {FORMAT_VERSION}")
        if "blendshape_names" in data:
            names_arr = data["blendshape_names"]
            if names_arr.dtype.kind not in "US" or names_arr.ndim != 1:
                raise TalkstyleError(f"{path}: 'blendshape_names' must be a list of names")
            if tuple(str(n) for n in names_arr) != ARKIT_NAMES:
                raise TalkstyleError(f"{path} has blendshape names that are not ARKit-52 in ARKit order")
        metadata: Any = {}
        if "metadata" in data:
            raw = data["metadata"]
            if raw.dtype.kind not in "US" or raw.ndim != 0:
                raise TalkstyleError(f"{path}: 'metadata' must be one JSON text, got {raw.dtype} of shape {raw.shape}")
            try:
                metadata = json.loads(str(raw))
            except (json.JSONDecodeError, RecursionError):
                raise TalkstyleError(f"{path}: 'metadata' is not valid JSON") from None
            if not isinstance(metadata, dict):
                raise TalkstyleError(f"{path}: 'metadata' must be a JSON object, got {type(metadata).__name__}")
        fps = _scalar(data, "fps", path, float)
        sample_rate = _scalar(data, "sample_rate", path, int) if "sample_rate" in data else None
        arrays = {k: _numeric(data, k, path) for k in ("weights", "head", "audio", "confidence") if k in data}
        try:
            return cls(
                weights=arrays["weights"], head=arrays["head"], fps=fps,
                audio=arrays.get("audio"), sample_rate=sample_rate, confidence=arrays.get("confidence"),
                metadata=metadata,
            )
        except TalkstyleError as e:
            raise TalkstyleError(f"{path}: {e}") from None


# Bounds on what one motion file may ask us to allocate: a day at 1000 fps, 24 h of 48 kHz audio.
MAX_FIELD_ELEMENTS = 100_000_000 * 3


def _check_sizes(z, path: Path) -> None:
    """Refuse absurd array shapes from the .npy headers, before anything is decompressed."""
    read_header = getattr(np.lib.format, "_read_array_header", None)
    for name in z.files if read_header is not None else ():
        try:
            with z.zip.open(f"{name}.npy") as f:
                shape, _, _ = read_header(f, np.lib.format.read_magic(f))
        except (KeyError, ValueError, OSError, zipfile.BadZipFile, zlib.error):
            continue                    # left to np.load's own checks
        if int(np.prod(shape, dtype=np.float64)) > MAX_FIELD_ELEMENTS:
            raise TalkstyleError(f"{path}: '{name}' has shape {shape}, far larger than any motion")


def _scalar(data: dict, key: str, path: Path, kind: type) -> Any:
    a = data[key]
    if a.size != 1 or a.dtype.kind not in "iuf" or a.ndim > 1:
        raise TalkstyleError(f"{path}: '{key}' must be one number, got {a.dtype} of shape {a.shape}")
    value = a.reshape(()).item()
    if not np.isfinite(value) or (kind is int and value != int(value)):
        raise TalkstyleError(f"{path}: '{key}' must be a finite {'whole ' if kind is int else ''}number, got {value}")
    return kind(value)


def _numeric(data: dict, key: str, path: Path) -> np.ndarray:
    a = data[key]
    if a.dtype.kind not in "iufb":
        raise TalkstyleError(f"{path}: '{key}' must hold numbers, got {a.dtype}")
    return a
