"""The actor's voices: which engines a person may speak with, and how a line becomes speech.

espeak-ng (formant synthesis, always there) is one voice family among several: piper's neural US
male voice, and the Festival / Flite voices cut from real recordings when Debian's packages are
installed (`make voices`). A build resolves its voice set once (`resolve_voices`), records it in
dataset.json and gives it to every person draw, so a resumed build speaks with the same voices.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...audio import festvox
from ...errors import TalkstyleError

ESPEAK = "espeak"
PIPER = "piper:joe"
ESPEAK_SHARE = 0.3        # persons on espeak-ng when natural voices are there (it has whisper and song)


@dataclasses.dataclass(frozen=True)
class VoiceInfo:
    name: str
    gender: str          # female | male | any
    pitch_control: bool  # can speak at a child's pitch


def catalogue() -> dict[str, VoiceInfo]:
    """Every voice the actor knows, installed or not."""
    voices = {ESPEAK: VoiceInfo(ESPEAK, "any", True), PIPER: VoiceInfo(PIPER, "male", False)}
    for v in festvox.VOICES:
        voices[v.name] = VoiceInfo(v.name, v.gender, v.f0_control)
    return voices


def installed() -> tuple[str, ...]:
    """The voices this machine can speak with now."""
    return (ESPEAK, PIPER, *festvox.available_voices())


def resolve_voices(spec: str) -> tuple[str, ...]:
    """'all' (every installed voice), 'espeak', or a comma list of names -> a sorted tuple.
    A named voice that is not installed is an error; 'all' quietly takes what is there."""
    known = catalogue()
    if spec.strip() == "all":
        return tuple(sorted(installed()))
    names = tuple(sorted({n.strip() for n in spec.split(",") if n.strip()}))
    if not names:
        raise TalkstyleError("--voices is empty: give 'all' or a comma list of voice names")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise TalkstyleError(f"unknown voice {unknown[0]!r}: choose from {', '.join(known)}")
    missing = [n for n in names if n not in installed()]
    if missing:
        raise TalkstyleError(f"voice {missing[0]!r} is not installed here (make voices installs "
                             "Festival and Flite)")
    return names


def pick_voice(voices: tuple[str, ...], gender: str, age_group: str, rng: np.random.Generator) -> str:
    """One person's voice: espeak-ng for ESPEAK_SHARE of them, else a natural voice of their
    gender (children only voices whose pitch can be raised)."""
    known = catalogue()
    natural = [n for n in voices if n != ESPEAK and known[n].gender in (gender, "any")
               and (age_group != "child" or known[n].pitch_control)]
    if not natural or (ESPEAK in voices and rng.random() < ESPEAK_SHARE):
        return ESPEAK
    return str(natural[int(rng.integers(len(natural)))])


# Typical speaking pitch in Hz by gender and age group (for voices whose base pitch can be set).
BASE_F0 = {("female", "child"): 265, ("female", "young"): 215, ("female", "adult"): 200, ("female", "senior"): 185,
           ("male", "child"): 255, ("male", "young"): 125, ("male", "adult"): 115, ("male", "senior"): 110}
