"""A synthetic person's speaking style, drawn once from the person id.

The same id always gives the same person (the draw is seeded by a hash of the id, not by Python's
salted `hash`), so a person's style is consistent across all of their clips: this is the
person-specific style the motion style encoder is meant to pick up.
"""
from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from .voices import BASE_F0, ESPEAK, pick_voice

EXPRESSIVITY = (0.6, 1.4)      # range of the emotion layer's scale over persons
MALE_VARIANTS = tuple(f"m{i}" for i in range(1, 9))
FEMALE_VARIANTS = tuple(f"f{i}" for i in range(1, 6))

# Base espeak pitch (0-99) and rate (words/min) ranges per age group.
_AGE_PITCH = {"child": (72, 92), "young": (45, 65), "adult": (35, 60), "senior": (28, 50)}
_AGE_RATE = {"child": (150, 180), "young": (160, 190), "adult": (150, 180), "senior": (130, 160)}


@dataclasses.dataclass(frozen=True)
class PersonStyle:
    person_id: str
    gender: str               # female | male
    age_group: str            # child | young | adult | senior
    voice: str                # espeak-ng variant: m1-m8, f1-f5
    rate: int                 # speaking rate, words per minute
    pitch: int                # espeak base pitch 0-99
    pitch_range: int          # espeak pitch range 0-99 (monotone ... lively)
    articulation: float       # scale of mouth and jaw motion (mumbler 0.7 ... over-articulator 1.3)
    expressivity: float       # scale of the emotion layer
    smile_bias: float         # resting smile added to every clip
    asymmetry: float          # left/right imbalance of smiles and brows, -0.3 .. 0.3
    blink_rate: float         # blinks per minute
    head_amplitude: float     # scale of head motion
    gaze_spread: float        # how far the eyes wander (0 = always at the camera)
    engine: str = "espeak"    # the voice: espeak | piper:joe | festival:kal | flite:slt ... (voices.py)
    f0: float = 0.0           # base pitch in Hz for engines that take one (0: the voice's own)
    lead: float = 0.04        # how early the mouth moves before the sound, seconds
    lip_habit: float = 0.0    # resting lip shape while talking: < 0 spread, > 0 rounded
    jaw_side: float = 0.0     # the jaw drifts to one side as it opens: < 0 right, > 0 left

    @classmethod
    def from_id(cls, person_id: str, gender: str = "unknown", age_group: str = "adult",
                voices: tuple[str, ...] = (ESPEAK,)) -> "PersonStyle":
        """The person of `person_id`, speaking with one of `voices` (voices.py picks by gender and
        age; the draw has its own stream, so the other traits do not depend on the voice set)."""
        seed = int.from_bytes(hashlib.sha256(person_id.encode("utf-8")).digest()[:8], "little")
        rng = np.random.default_rng(seed)
        voice_rng = np.random.default_rng([seed, 1])
        if gender not in ("female", "male"):
            gender = "female" if rng.random() < 0.5 else "male"
        if age_group not in _AGE_PITCH:
            age_group = "adult"
        voice = str(rng.choice(FEMALE_VARIANTS if gender == "female" else MALE_VARIANTS))
        lo, hi = _AGE_PITCH[age_group]
        pitch = rng.uniform(lo, hi) + (8 if gender == "female" and age_group != "child" else 0)
        return cls(
            person_id=person_id, gender=gender, age_group=age_group, voice=voice,
            rate=int(rng.uniform(*_AGE_RATE[age_group])),
            pitch=int(min(pitch, 99)),
            pitch_range=int(rng.uniform(30, 75)),
            articulation=float(rng.uniform(0.7, 1.3)),
            expressivity=float(rng.uniform(*EXPRESSIVITY)),
            smile_bias=float(rng.uniform(0.0, 0.25) ** 1.5 * 2),   # most people near 0, a few smilers
            asymmetry=float(rng.uniform(-0.3, 0.3)),
            blink_rate=float(rng.uniform(8, 22)),
            head_amplitude=float(rng.uniform(0.5, 1.6)),
            gaze_spread=float(rng.uniform(0.2, 1.0)),
            engine=pick_voice(voices, gender, age_group, voice_rng),
            f0=float(BASE_F0[gender, age_group] * np.exp(voice_rng.normal(0.0, 0.08))),
            lead=float(rng.uniform(0.02, 0.06)),
            lip_habit=float(rng.uniform(-1, 1)),
            jaw_side=float(rng.uniform(-1, 1)),
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
