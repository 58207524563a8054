"""Head gestures as the data engine authors them and inference re-applies them (head_motion.py).

A "nod" is a pitch oscillation and a "shake" a yaw oscillation of ~5-15 degrees at ~1.5-2.5 Hz
(FACE_FACTS.md), in bursts covering most of the clip; "still" keeps a small part of the motion.
Shared so that the words of a prompt move the generated head exactly as they moved the actor's.
"""
from __future__ import annotations

import numpy as np

STILL_SCALE = 0.08                       # "still" keeps a breath of motion, no nods


def gesture_amplitude_deg(level: float, head_amplitude: float = 1.0) -> float:
    """Peak nod / shake angle for an emotion level in [0, 1] and a person's head amplitude."""
    return float(np.clip(8.0 * head_amplitude * (0.8 + 0.4 * level), 5.0, 15.0))


def oscillation_bursts(num_frames: int, fps: float, rng: np.random.Generator, amplitude_deg: float,
                       coverage: float = 0.7) -> np.ndarray:
    """(T,) bursts of sinusoidal oscillation (1.5-2.5 Hz, Hann envelope) filling ~`coverage`."""
    out = np.zeros(num_frames)
    t = np.arange(num_frames) / fps
    duration = num_frames / fps
    start = rng.uniform(0.1, 0.6)
    while start < duration - 0.5:
        length = min(rng.uniform(1.0, 2.5), duration - start)
        freq = rng.uniform(1.5, 2.5)
        inside = (t >= start) & (t < start + length)
        u = (t[inside] - start) / length
        amp = amplitude_deg * rng.uniform(0.8, 1.2)
        out[inside] += amp * np.sin(np.pi * u) ** 2 * np.sin(2 * np.pi * freq * (t[inside] - start))
        start += length / coverage * rng.uniform(0.8, 1.2)
    return out
