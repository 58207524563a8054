"""Shared by the `talkstyle serve` tests: skip without three.js, and write a take folder to play back."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from talkstyle.face.arkit import INDEX
from talkstyle.face.motion import FaceMotion


def need_three() -> None:
    """Skip, saying why, where the npm package three is not installed (`make web`)."""
    from talkstyle.errors import TalkstyleError
    from talkstyle.server import three_dir

    try:
        three_dir()
    except TalkstyleError as e:
        pytest.skip(str(e))


def write_take(folder: Path, jaw: np.ndarray, audio: np.ndarray) -> None:
    """An `animate` output folder (motion.npz + face.glb) whose only motion is this jawOpen curve."""
    from talkstyle.animate import write_outputs

    motion = FaceMotion.neutral(len(jaw))
    motion.weights[:, INDEX["jawOpen"]] = jaw
    motion.audio, motion.sample_rate = audio, 16000
    write_outputs(motion, folder, progress=False, outputs=("npz", "glb"))
