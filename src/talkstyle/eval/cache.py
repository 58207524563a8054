"""Generations of the evaluation kept on disk, so that a repeated or interrupted run only
generates what is missing (the key covers weights, settings, clips and the generation's code)."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..face.motion import FaceMotion
from ..model.generator import array_to_motion, motion_to_array
from ..pipeline import Settings
from .protocol import MODES, Checkpoint, TestClip


PACKAGE = Path(__file__).resolve().parents[1]
# What turns a checkpoint and settings into motion: a change to any of it (post-processing such as
# the lip seal or blink shaping included) must not reuse generations made before it.
GENERATION_CODE = ("pipeline.py", "style_control.py", "head_motion.py", "audio", "face", "model", "text", "vocab")


def code_digest(package: Path = PACKAGE) -> str:
    """A digest of the generation's source files under `package`."""
    h = hashlib.sha1()
    for name in GENERATION_CODE:
        path = package / name
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(f.relative_to(package).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


@functools.cache
def _installed_code() -> str:
    return code_digest()


def cache_file(cache: Path | None, ck: Checkpoint, settings: Settings, clips: list[TestClip]) -> Path | None:
    if cache is None:
        return None
    weights = (ck.path / "model.safetensors").stat()
    key = json.dumps([_installed_code(), str(ck.path.resolve()), weights.st_size, weights.st_mtime_ns, dataclasses.asdict(settings),
                      [c.clip_id for c in clips], [c.target.num_frames for c in clips]])
    return cache / f"{ck.name}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"


def save_motions(path: Path, motions: dict[str, list[FaceMotion]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"{mode}_{i}": motion_to_array(m) for mode, ms in motions.items() for i, m in enumerate(ms)}
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)


def load_motions(path: Path, n: int, fps: float) -> dict[str, list[FaceMotion]] | None:
    if not path.is_file():
        return None
    with np.load(path) as z:
        return {mode: [array_to_motion(z[f"{mode}_{i}"], fps) for i in range(n)] for mode in MODES}
