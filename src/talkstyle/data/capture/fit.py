"""ARKit-52 weights from pose-normalised landmarks: bounded least squares on the FaceRig targets.

Landmarks are brought into the rig's frame (undo scale, rotation, translation; MediaPipe's depth
rescaled to match the template), then offsets from a per-video neutral are explained as a
non-negative, at most 1, combination of the rig's targets as MediaPipe sees them (measured on
renders, calibrate.py), a MAP estimate under a prior on the weights. All frames are solved at once
with accelerated projected gradient (FISTA) on the 52x52 normal equations, which is exact up to
convergence and far faster than one active-set solve per frame.
"""
from __future__ import annotations

import numpy as np

from .pose import PoseTrack

# Depth from MediaPipe is relative and noisy: it counts for less than the image-plane axes.
AXIS_WEIGHT = np.array([1.0, 1.0, 0.3])


def depth_scale(points: np.ndarray, pose: PoseTrack, template: np.ndarray, rigid: np.ndarray) -> float:
    """Factor k so that k * MediaPipe depth matches the rotated template's depth (all frames)."""
    X = template[rigid] - template[rigid].mean(0)
    model_z = pose.scale[:, None] * np.einsum("tj,nj->tn", pose.rotation[:, 2], X)
    obs_z = points[:, rigid, 2] - points[:, rigid, 2].mean(1, keepdims=True)
    return float((obs_z * model_z).sum() / max((obs_z ** 2).sum(), 1e-9))


def frontalise(points: np.ndarray, pose: PoseTrack, template: np.ndarray, rigid: np.ndarray,
               k: float) -> np.ndarray:
    """Landmarks (T, N, 3) y-up pixels -> the rig's frame (mm), head rotation and scale removed."""
    q = points.astype(np.float64).copy()
    q[..., 2] *= k
    q = (q - pose.center[:, None, :] * np.array([1.0, 1.0, k])) / pose.scale[:, None, None]
    return np.einsum("tji,tnj->tni", pose.rotation, q) + template[rigid].mean(0)


def solve_bounded(G: np.ndarray, c: np.ndarray, iters: int = 300) -> np.ndarray:
    """argmin_w 0.5 w'Gw - c'w subject to 0 <= w <= 1, for each row of c (T, K). G (K, K) SPD."""
    step = 1.0 / np.linalg.eigvalsh(G)[-1]
    w = np.clip(c * step, 0.0, 1.0)
    y, t = w.copy(), 1.0
    for _ in range(iters):
        w_next = np.clip(y - step * (y @ G - c), 0.0, 1.0)
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        y = w_next + ((t - 1.0) / t_next) * (w_next - w)
        w, t = w_next, t_next
    return w


class BlendshapeSolver:
    """Fixed linear model: offsets (N, 3) ~ sum_k w_k deltas_k (axis-weighted), with a zero-mean
    Gaussian prior on w (MAP estimate). Its covariance, the weights' second moment over the
    procedural actor's clips, tells apart targets whose landmark motion looks alike (a smile
    comes with cheek and eye squint) and keeps shapes without evidence at rest."""

    def __init__(self, deltas: np.ndarray, prior: np.ndarray, strength: float) -> None:
        A = (deltas * AXIS_WEIGHT).reshape(len(deltas), -1).T.astype(np.float64)   # (3N, K)
        self.A = A
        self.G = A.T @ A + strength * np.linalg.inv(prior + 1e-3 * np.eye(len(prior)))

    def solve(self, offsets: np.ndarray) -> np.ndarray:
        """offsets (T, N, 3) mm -> weights (T, K) in [0, 1]."""
        b = (offsets * AXIS_WEIGHT).reshape(len(offsets), -1)
        return solve_bounded(self.G, b @ self.A)


def fit_weights(front: np.ndarray, neutral: np.ndarray, deltas: np.ndarray, active: np.ndarray,
                prior: np.ndarray, strength: float = 30.0, rounds: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Weights (T, K) and the per-video neutral (N, 3) from frontalised landmarks (T, N, 3).
    Only the `active` targets (indices) are fitted; the others stay 0. `prior`: (K, K) second
    moment of the weights; `strength`: its weight against squared landmark error (mm^2).

    The neutral starts as the rig's (as MediaPipe sees it) and is refined by the median residual
    the targets cannot explain (identity, and MediaPipe's own bias on this face), alternating
    with the weights.
    """
    solver = BlendshapeSolver(deltas[active], prior[np.ix_(active, active)], strength)
    offset = np.zeros_like(neutral, dtype=np.float64)
    for _ in range(rounds):
        weights = solver.solve(front - neutral - offset)
        residual = front - neutral - np.einsum("tk,knj->tnj", weights, deltas[active])
        offset = np.median(residual, axis=0)
    full = np.zeros((len(front), len(deltas)))
    full[:, active] = solver.solve(front - neutral - offset)
    return full, neutral + offset
