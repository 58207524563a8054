"""Blinks a viewer can see: each blink of a weight track given the time course of a real one.

The generator learns blinks from the synthetic actor, whose blinks last about three frames at
25 fps, and keeps mostly their peak frame: a 40 ms flicker on the preview. People blink for about
100-150 ms, the lid falling fast and rising more slowly (FACE_FACTS.md). `shape_blinks` finds each
blink (a peak of either lid's closure) and lays that time course under it, scaled to the
peak of each eye, so winks stay winks. It only adds closure: longer closures are left as they are.
"""
from __future__ import annotations

import numpy as np

from .arkit import INDEX

EYES = (INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"])
CLOSING, CLOSED, OPENING = 0.05, 0.03, 0.12      # seconds: the lid falls, rests, rises (cosine ramps)
PEAK = 0.5                                       # a blink closes the lids at least half way
REFRACTORY = 0.25                                # s: two blinks closer than this are one


def blink_profile(t: np.ndarray) -> np.ndarray:
    """Closure in [0, 1] at times `t` (s) from a blink's peak."""
    x = np.where(t < 0, -t / CLOSING, np.maximum(t - CLOSED, 0) / OPENING)
    return 0.5 + 0.5 * np.cos(np.pi * np.clip(x, 0, 1))


def blink_peaks(weights: np.ndarray, fps: float) -> np.ndarray:
    """Frames where a blink (or a wink) peaks: local maxima of the more closed lid of at least
    PEAK, the highest of any that lie within REFRACTORY of each other."""
    lids = weights[:, list(EYES)].max(1)
    if len(lids) < 3:
        return np.zeros(0, int)
    inner = (lids[1:-1] >= PEAK) & (lids[1:-1] >= lids[:-2]) & (lids[1:-1] > lids[2:])
    candidates = np.flatnonzero(inner) + 1
    peaks: list[int] = []
    for f in candidates[np.argsort(-lids[candidates], kind="stable")]:     # highest first
        if all(abs(f - p) > REFRACTORY * fps for p in peaks):
            peaks.append(int(f))
    return np.sort(np.asarray(peaks, int))


def shape_blinks(weights: np.ndarray, fps: float) -> np.ndarray:
    """(T, 52) weights with every blink given a real blink's duration (see the module's note)."""
    w = np.array(weights, np.float32, copy=True)
    t = np.arange(len(w)) / fps
    for f in blink_peaks(w, fps):
        lo, hi = max(0, int(f - CLOSING * fps) - 1), min(len(w), int(f + (CLOSED + OPENING) * fps) + 2)
        shape = blink_profile(t[lo:hi] - t[f])[:, None] * w[f, list(EYES)][None]
        w[lo:hi, list(EYES)] = np.maximum(w[lo:hi, list(EYES)], shape)
    return w


class BlinkShaper:
    """shape_blinks for a stream, one frame at a time and causal: a peak is known when the frame
    after it arrives lower, so the stream gets the slow rise of a real blink (its larger part)
    with no added latency, and keeps the fall as generated."""

    def __init__(self, fps: float):
        self.fps = fps
        self.reset()

    def reset(self) -> None:
        self._index = 0
        self._before: list[np.ndarray] = []        # the last two frames' lids, as generated
        self._peak: tuple[int, np.ndarray] | None = None
        self._last_peak = -np.inf

    def __call__(self, weights: np.ndarray) -> np.ndarray:
        """One frame's (52,) weights -> the same with the current blink's rise under the lids."""
        w = np.array(weights, np.float32, copy=True)
        eyes = w[list(EYES)].copy()
        if len(self._before) == 2:
            earlier, last = self._before
            f = self._index - 1
            if (last.max() >= PEAK and last.max() >= earlier.max() and last.max() > eyes.max()
                    and f - self._last_peak > REFRACTORY * self.fps):
                self._peak, self._last_peak = (f, last), f
        if self._peak is not None:
            t = (self._index - self._peak[0]) / self.fps
            w[list(EYES)] = np.maximum(eyes, self._peak[1] * blink_profile(np.array(t)))
            if t > CLOSED + OPENING:
                self._peak = None
        self._before = (self._before + [eyes])[-2:]
        self._index += 1
        return w
