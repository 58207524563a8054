"""Head rotation of the synthetic actor: idle motion tied to speech, posture, nods and shakes.

Angles are built in degrees and returned in radians, (T, 3) pitch, yaw, roll. Sign convention:
pitch > 0 tips the nose down, yaw > 0 turns the nose toward the subject's left, roll > 0 tilts
the top of the head toward the subject's right (the FaceRig's convention, face/rig.py). Nods and
shakes are the shared gestures of vocab/gestures.py.
"""
from __future__ import annotations

import numpy as np

from ...vocab.gestures import STILL_SCALE, gesture_amplitude_deg, oscillation_bursts
from .expression import smooth_noise
from .person import PersonStyle

# Static posture per emotion family at full intensity: pitch, yaw, roll in degrees.
POSTURE = {
    "neutral": (0.0, 0.0, 0.0), "happy": (-2.0, 0.0, 3.0), "sad": (7.0, 0.0, -2.0),
    "angry": (3.0, 0.0, 0.0), "fearful": (2.0, -3.0, 0.0), "surprised": (-4.0, 0.0, 0.0),
    "disgusted": (-2.0, 4.0, -2.0), "contempt": (-4.0, 2.0, 3.0),
}
IDLE_DEG = np.array([2.0, 2.5, 1.2])     # idle sway per axis at head_amplitude 1


def head_rotation(num_frames: int, fps: float, energy: np.ndarray, pitch: np.ndarray, stressed: list[float],
                  family: str, level: float, head_motion: str, delivery: str, person: PersonStyle,
                  rng: np.random.Generator) -> np.ndarray:
    """(T, 3) pitch, yaw, roll in radians. `energy`: (T,) loudness 0..1; `pitch`: (T,) voice F0
    z-score (0 when unvoiced)."""
    amp = person.head_amplitude * (0.7 + 0.6 * level)
    deg = smooth_noise(num_frames, fps, rng, 0.4, channels=3) * IDLE_DEG * amp
    # Speech drives the head: it lifts a little with loud and high-pitched stretches (smoothed over
    # ~0.3 s, heads are heavy) and dips on some stressed syllables. Singers follow the melody more
    # and sway slowly from side to side.
    singing = delivery == "sings"
    drive = 3.0 * (energy - energy.mean()) + (2.0 if singing else 1.0) * pitch
    kernel = np.hanning(15) / np.hanning(15).sum()
    deg[:, 0] -= amp * np.convolve(drive, kernel, mode="same")
    t = np.arange(num_frames) / fps
    if singing:
        deg[:, 2] += 3.0 * amp * np.sin(2 * np.pi * rng.uniform(0.2, 0.4) * t + rng.uniform(0, 2 * np.pi))
    for s in stressed:
        if rng.random() < 0.35:
            deg[:, 0] += 1.5 * amp * np.exp(-0.5 * ((t - s - 0.08) / 0.09) ** 2)
    if head_motion == "still":
        deg *= STILL_SCALE
    elif head_motion in ("nod", "shake"):
        size = gesture_amplitude_deg(level, person.head_amplitude)
        axis = 0 if head_motion == "nod" else 1
        deg[:, axis] += oscillation_bursts(num_frames, fps, rng, size)
    deg += np.array(POSTURE.get(family, POSTURE["neutral"])) * float(np.clip(level, 0, 1))   # held all along
    return np.radians(deg).astype(np.float32)
