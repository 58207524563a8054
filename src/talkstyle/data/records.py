"""Typed records that flow through the data engine and into training.

Prompt (stage I) -> SynthClip (stage II/IV output) -> ClipRecord (a stored row, loaded).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ..face.motion import FaceMotion

EMOTION_FAMILIES = ("neutral", "happy", "sad", "angry", "fearful", "surprised", "disgusted", "contempt")
HEAD_MOTIONS = ("still", "nod", "shake", "natural")
DELIVERIES = ("speaks", "whispers", "shouts", "sings")


@dataclasses.dataclass(frozen=True)
class StyleAttributes:
    """What a prompt asks for. Words as written, plus their canonical meaning."""
    subject: str = "person"          # word as written: "young lady", "male professor"
    gender: str = "unknown"          # female | male | unknown
    age_group: str = "adult"         # child | young | adult | senior
    emotion: str = "neutral"         # word as written: "delighted"
    family: str = "neutral"          # one of EMOTION_FAMILIES
    intensity: str = "medium"        # word as written: "strong"
    level: float = 0.5               # intensity in [0, 1]
    head_motion: str = "natural"     # one of HEAD_MOTIONS
    delivery: str = "speaks"         # one of DELIVERIES

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StyleAttributes":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclasses.dataclass(frozen=True)
class Prompt:
    text: str                        # "A young lady speaks with a strong delighted expression."
    attributes: StyleAttributes


@dataclasses.dataclass(frozen=True)
class Phone:
    """One phoneme of an alignment, times in seconds."""
    symbol: str                      # IPA from espeak-ng, or ARPAbet from pocketsphinx
    start: float
    end: float


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
