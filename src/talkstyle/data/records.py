"""Typed records that flow through the data engine and into training.

Prompt (stage I) -> SynthClip (stage II/IV output) -> ClipRecord (a stored row, loaded).
"""
from __future__ import annotations

import dataclasses

from ..face.motion import FaceMotion
from ..vocab.attributes import Phone, Prompt


@dataclasses.dataclass
class SynthClip:
    """What a stage II backend (or capture) produces for one prompt: motion with its audio."""
    motion: FaceMotion               # 25 fps, audio attached (16 kHz mono) when there is speech
    prompt: Prompt
    line: str                        # the spoken text ("" when unknown)
    person: str                      # synthetic or real person id
    phones: list[Phone] = dataclasses.field(default_factory=list)
    has_speech_audio: bool = True


@dataclasses.dataclass
class ClipRecord:
    """A clip of the dataset store, loaded: its manifest row and its motion (with audio)."""
    clip_id: str
    person: str
    split: str                       # train | val | test
    prompt: Prompt
    line: str
    motion: FaceMotion
    phones: list[Phone] = dataclasses.field(default_factory=list)
