"""Stage V: nod and shake augmentation of head motion, with the prompt updated to say so.

A nod is a pitch oscillation, a shake a yaw oscillation, of about 5-15 degrees at 1-3 Hz
(FACE_FACTS.md), laid over the clip's own head motion in short bursts under a smooth (Hann)
envelope so the gesture starts and ends at rest. Blendshape weights and audio are untouched.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..face.motion import FaceMotion
from .prompts import with_head_motion
from .records import SynthClip
from ..vocab.attributes import Prompt

AXIS = {"nod": 0, "shake": 1}            # head columns: pitch, yaw, roll
AMPLITUDE_DEG = (5.0, 15.0)
FREQUENCY_HZ = (1.0, 3.0)
BURST_S = (1.5, 3.0)                     # one gesture (two or more nods) lasts this long
SECONDS_PER_BURST = 4.0                  # a 12 s clip gets three gestures


def gesture_curve(num_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """(T,) radians: bursts of a sinusoid, each under a Hann window, at random times."""
    t = np.arange(num_frames) / fps
    curve = np.zeros(num_frames)
    duration = num_frames / fps
    for _ in range(max(1, int(round(duration / SECONDS_PER_BURST)))):
        length = min(rng.uniform(*BURST_S), duration)
        start = rng.uniform(0.0, duration - length)
        amp = np.deg2rad(rng.uniform(*AMPLITUDE_DEG))
        freq = rng.uniform(*FREQUENCY_HZ)
        inside = (t >= start) & (t <= start + length)
        phase = (t[inside] - start) / length
        envelope = np.sin(np.pi * phase) ** 2
        curve[inside] += amp * envelope * np.sin(2 * np.pi * freq * (t[inside] - start))
    return curve


def _add_gesture(kind: str, motion: FaceMotion, prompt: Prompt, rng: np.random.Generator
                 ) -> tuple[FaceMotion, Prompt]:
    head = motion.head.copy()
    head[:, AXIS[kind]] += gesture_curve(motion.num_frames, motion.fps, rng)
    head = np.clip(head, -np.pi / 2 + 1e-3, np.pi / 2 - 1e-3)
    new_prompt = with_head_motion(prompt, kind)
    metadata = {**motion.metadata, "augmented": kind}
    return dataclasses.replace(motion, head=head, metadata=metadata), new_prompt


def add_nod(motion: FaceMotion, prompt: Prompt, rng: np.random.Generator) -> tuple[FaceMotion, Prompt]:
    """Add nods (pitch) to the head motion; the prompt says "... while nodding"."""
    return _add_gesture("nod", motion, prompt, rng)


def add_shake(motion: FaceMotion, prompt: Prompt, rng: np.random.Generator) -> tuple[FaceMotion, Prompt]:
    """Add head shakes (yaw); the prompt says "... while shaking the head"."""
    return _add_gesture("shake", motion, prompt, rng)


def augment_clip(clip: SynthClip, kind: str, rng: np.random.Generator) -> SynthClip:
    """A copy of the clip with a nod or shake added (same person, line, audio, phones)."""
    motion, prompt = _add_gesture(kind, clip.motion, clip.prompt, rng)
    return dataclasses.replace(clip, motion=motion, prompt=prompt)
