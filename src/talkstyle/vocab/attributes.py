"""The words every layer shares: what a style prompt asks for, and the phones of an alignment.

The model conditions on these attributes, the prompt parser (text/parse.py) produces them, the
data engine samples and stores them. They sit at the bottom so that none of those layers has to
import another for a tuple of emotion names.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ..plain import from_plain, to_plain

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
        return to_plain(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StyleAttributes":
        return from_plain(cls, d, "style attributes")


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
