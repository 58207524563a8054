"""The stage II interface every synthesis backend implements.

A backend turns one job (a prompt, a line to speak, a person, a seed) into a SynthClip: a
FaceMotion with its audio when the backend knows the motion (procedural), or a video file that
capture (stage IV) turns into motion (text-to-video backends, imported folders).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Protocol

from ..records import SynthClip
from ...vocab.attributes import Prompt


@dataclasses.dataclass(frozen=True)
class SynthJob:
    clip_id: str
    prompt: Prompt
    line: str
    person: str
    seed: int


@dataclasses.dataclass
class SynthResult:
    clip: SynthClip | None = None        # motion known (procedural backend)
    video: Path | None = None            # a video to capture (text-to-video backends)


class SynthBackend(Protocol):
    name: str

    def synthesize(self, job: SynthJob, workdir: Path) -> SynthResult:
        """Produce one clip. Files go under `workdir`; raise TalkstyleError on bad input."""
        ...
