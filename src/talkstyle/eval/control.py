"""Measures of style control (style_control.py), used by benchmarks/bench_style_control.py.

- intensity: Spearman correlation of the asked intensity with the independent evaluator's
  probability of the prompt's family and with the family's signature channels;
- timelines: when the expression reaches half-way between the two styles (against the asked
  time), and the largest frame-to-frame velocity around a change against the data's;
- blends: distances in the evaluator's embedding along a mix of two styles.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.stats import spearmanr

from ..face.arkit import ARKIT_NAMES
from ..face.motion import FaceMotion


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho; nan when either side is constant."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def channel_indices(channels: list[str]) -> np.ndarray:
    return np.array([ARKIT_NAMES.index(c) for c in channels])


def mix_fraction(y: np.ndarray, a: np.ndarray, b: np.ndarray, smooth_frames: int = 9) -> np.ndarray:
    """(T,) how far each frame of y lies from a towards b (0 at a, 1 at b), by least squares over
    the given channels (arrays (T, C)), smoothed over `smooth_frames` (speech moves the face
    faster than a mood changes)."""
    d = b - a
    num = uniform_filter1d(((y - a) * d).sum(1), smooth_frames, mode="nearest")
    den = uniform_filter1d((d * d).sum(1), smooth_frames, mode="nearest")
    return num / np.maximum(den, 1e-9)


def halfway_time(fraction: np.ndarray, asked: float, fps: float = 25.0, search: float = 2.0) -> float:
    """The first time at or after `asked - search` s where the fraction reaches 0.5 and stays
    above it for 0.2 s (linear interpolation between frames); nan if it never does."""
    start = max(0, int((asked - search) * fps))
    hold = max(1, int(0.2 * fps))
    for i in range(max(start, 1), len(fraction) - hold):
        if fraction[i - 1] < 0.5 <= fraction[i] and (fraction[i:i + hold] >= 0.5).all():
            f0, f1 = fraction[i - 1], fraction[i]
            return (i - 1 + (0.5 - f0) / (f1 - f0)) / fps
    return float("nan")


def velocity(motion: FaceMotion) -> np.ndarray:
    """(T-1,) frame-to-frame change of the 52 weights (L2), per second."""
    return np.linalg.norm(np.diff(motion.weights, axis=0), axis=1) * motion.fps


def peak_velocity_near(motion: FaceMotion, times: list[float], radius: float = 1.0) -> float:
    """The largest velocity within `radius` s of any of `times`."""
    v = velocity(motion)
    t = (np.arange(len(v)) + 0.5) / motion.fps
    near = np.zeros(len(v), bool)
    for s in times:
        near |= np.abs(t - s) <= radius
    return float(v[near].max()) if near.any() else float("nan")


@dataclasses.dataclass
class BlendPoint:
    weight: float                       # share of style B
    dist_a: float                       # distance to the pure-A generation (evaluator features)
    dist_b: float
    prob_a: float                       # evaluator probability of A's family
    prob_b: float


def blend_points(weights: list[float], feats: np.ndarray, probs: np.ndarray, fam_a: int, fam_b: int) -> list[BlendPoint]:
    """Along a mix (weights from 0 = pure A to 1 = pure B; evaluator features (W, F))."""
    ia, ib = weights.index(0.0), weights.index(1.0)
    d = lambda i, j: float(np.linalg.norm(feats[i] - feats[j]))      # noqa: E731
    return [BlendPoint(w, d(i, ia), d(i, ib), float(probs[i, fam_a]), float(probs[i, fam_b]))
            for i, w in enumerate(weights)]

def between(points: list[BlendPoint]) -> bool:
    """The issue's test: the 50/50 blend is nearer to each pure style than they are to each other."""
    mid = next(p for p in points if p.weight == 0.5)
    ab = next(p for p in points if p.weight == 1.0).dist_a
    return mid.dist_a < ab and mid.dist_b < ab


def evaluator_features(model, motions: list[FaceMotion]) -> np.ndarray:
    """(N, 2h) the independent evaluator's motion features (its temporal convolutions, mean and std
    over the centre 4 s) before its embedding head. Why: the embedding itself is trained to sort
    families and is nearly one-hot (cosine distances of 0 or ~1.15), so it cannot show a blend."""
    import torch

    from .style_eval import _crop, motion_features

    x = torch.from_numpy(np.stack([_crop(motion_features(m), None) for m in motions]))
    with torch.no_grad():
        h = model.motion(x.transpose(1, 2))
        return torch.cat([h.mean(-1), h.std(-1)], -1).numpy()
