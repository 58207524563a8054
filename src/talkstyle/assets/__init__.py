"""The one locator of the files that ship inside the package (importlib.resources).

Each package keeps its files in its own `assets/` folder: this one (the demo clip, the shipped
model), `talkstyle.face` (the canonical mesh), `talkstyle.data` (the speech lines) and
`talkstyle.data.capture` (the landmark model, the refiner).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def path(name: str, package: str = "talkstyle") -> Path:
    """The file or folder `name` in the `assets/` folder of `package`, e.g. path("demo_speech.wav"),
    path("canonical_mesh.npz", "talkstyle.face")."""
    return Path(str(resources.files(package).joinpath("assets", name)))
