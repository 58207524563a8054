"""The generated head rotation, finished: smoothed, then the prompt's head-motion words
("nodding", "shaking the head", "keeping the head still") applied.

Smoothing: the denoiser's head channels carry frame-to-frame noise whatever the sampler (their
second difference is 2-10x the training data's; DDPM-200 and DDIM-25 as much as DPM-Solver-4),
which reads as a trembling head. A zero-phase Gaussian of one frame (40 ms) removes it and keeps
motion up to ~3 Hz (82 % of the amplitude at 2.5 Hz, the fastest nod).

Why a layer and not the model alone: in the training data, nods and shakes start at random
moments, not tied to the audio, so a model of this size learns their mean (no nod) and moves the
head the same whatever the words say (docs/model.md gives the measurement). The layer adds them
the way the data engine authored them (both use `vocab/gestures.py`): bursts of 1.5-2.5 Hz oscillation
for nods and shakes, the generated head's own motion damped for "still". The generated posture
(the clip's mean angle) is kept, and the seed makes it repeatable.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .face.motion import MAX_HEAD_RAD, FaceMotion
from .vocab.gestures import STILL_SCALE, gesture_amplitude_deg, oscillation_bursts

AXIS = {"nod": 0, "shake": 1}           # pitch, yaw
SMOOTH_FRAMES = 1.0                     # Gaussian sigma of the head smoothing, in frames


def smooth_head(motion: FaceMotion, sigma_frames: float = SMOOTH_FRAMES) -> FaceMotion:
    """`motion` with its head rotation low-passed in time (weights untouched)."""
    if motion.num_frames < 3 or sigma_frames <= 0:
        return motion
    head = gaussian_filter1d(motion.head.astype(np.float64), sigma_frames, axis=0, mode="nearest")
    return dataclasses.replace(motion, head=head.astype(np.float32))


def apply_head_words(motion: FaceMotion, head_motion: str, level: float = 0.5, seed: int = 0) -> FaceMotion:
    """Return `motion` with its head rotation following a parsed head-motion word.

    head_motion: "still" | "nod" | "shake" | "natural" (left as generated).
    """
    if head_motion == "natural":
        return motion
    head = motion.head.astype(np.float64)
    posture = head.mean(0)
    if head_motion == "still":
        head = posture + STILL_SCALE * (head - posture)
    elif head_motion in AXIS:
        rng = np.random.default_rng(seed)
        burst = oscillation_bursts(motion.num_frames, motion.fps, rng, gesture_amplitude_deg(level))
        head[:, AXIS[head_motion]] += np.radians(burst)
    else:
        raise ValueError(f"unknown head motion {head_motion!r}")
    limit = 0.99 * MAX_HEAD_RAD
    return dataclasses.replace(motion, head=np.clip(head, -limit, limit).astype(np.float32))
