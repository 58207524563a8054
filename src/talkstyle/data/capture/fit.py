"""ARKit-52 weights from pose-normalised landmarks: bounded least squares on the FaceRig targets.

Landmarks are brought into the rig's frame (undo scale, rotation, translation; MediaPipe's depth
rescaled to match the template), then explained as

    landmarks_t = neutral(pose_t) + identity + sum_k w_tk * target_k

with the rig's neutral and targets as MediaPipe sees them (measured on renders by calibrate.py,
loaded by landmark_model.py).
Three parts, each from calibration data kept apart from the benchmark:

- neutral(pose): MediaPipe's view of the neutral face drifts with head pose (its depth is a
  guess, and after frontalisation depth errors leak into x and y): a cubic in the head angles.
- identity: one offset per video (face shape, MediaPipe's bias on this face). It is estimated
  together with the clip's *average* weights from the clip's average frame, under a prior on each:
  the offsets MediaPipe gave on varied painted faces and rig shapes (identity) and the clip-average
  weights of procedural clips (expression), a mixture over emotion families: a clip holds one
  expression (a smile, a frown, raised brows), not the blend of all of them that a single Gaussian
  is centred on. A median residual instead takes every expression held for the whole clip as
  identity (a clip-long smile came out at half).
- weights: per frame a MAP estimate under a prior on the weights, solved for all frames at once
  with accelerated projected gradient (FISTA).

Residuals are weighted per camera axis: MediaPipe's depth counts less than the image plane, in
the camera's frame, where it is measured (weighted in the frontal frame instead, a turned head's
depth error leaks into x at full weight).
"""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from ...face.arkit import ARKIT_NAMES
from .pose import PoseTrack

# Gaze needs iris landmarks and the tongue is never a landmark: these targets are not fitted (0).
OBSERVABLE = np.array([i for i, n in enumerate(ARKIT_NAMES) if not n.startswith("eyeLook") and n != "tongueOut"])

# Depth from MediaPipe is relative and noisy: it counts for less than the image-plane axes.
AXIS_WEIGHT = np.array([1.0, 1.0, 0.3])
# The two constants below were chosen on a tuning set of benchmark clips (bench_capture.py
# --first 12 --clips 12) that the reported figures (clips 0-11) do not use, from the grid
# 3, 10, 30 mm^2 x 1, 3, 10 (tuning MAE 0.076-0.079 over it).
# Landmark misfit (mm^2 per axis-weighted coordinate) of the clip's average frame that the
# identity samples do not cover: the larger, the more of the average frame goes to expression.
IDENTITY_NOISE_MM2 = 10.0
# Weight of the clip-average prior against that misfit.
CLIP_PRIOR_STRENGTH = 3.0


@dataclasses.dataclass(frozen=True)
class LandmarkModel:
    """The FaceRig as MediaPipe sees it, in the rig's frame (mm); see calibrate.py."""
    neutral: np.ndarray        # (N, 3) at the front pose
    deltas: np.ndarray         # (K, N, 3) landmark offset per unit weight
    pose_neutral: np.ndarray   # (F, N, 3) neutral change per pose feature (pose_features)
    identity: np.ndarray       # (V, N, 3) per-face offsets seen on varied faces
    prior: np.ndarray          # (K, K) second moment E[w w'] of per-frame weights
    clip_mean: np.ndarray      # (E, K) mean of clip-average weights per emotion family
    clip_prob: np.ndarray      # (E,) share of each family
    clip_cov: np.ndarray       # (K, K) covariance of clip-average weights within a family (pooled)


def pose_features(angles: np.ndarray) -> np.ndarray:
    """(T, 3) weak-perspective pitch, yaw, roll (radians) -> (T, 20): all monomials to degree 3."""
    cols = [np.ones(len(angles))]
    for degree in (1, 2, 3):
        for axes in itertools.combinations_with_replacement(range(3), degree):
            cols.append(np.prod(angles[:, list(axes)], axis=1))
    return np.stack(cols, 1)


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
    """argmin_w 0.5 w'Gw - c'w subject to 0 <= w <= 1, for each row of c (T, K).
    G: (K, K) shared by all rows, or (T, K, K) one per row; symmetric positive definite."""
    if G.ndim == 2:
        step = 1.0 / np.linalg.eigvalsh(G)[-1]
        grad = lambda y: y @ G - c                                         # noqa: E731
    else:
        step = 1.0 / np.linalg.eigvalsh(G)[:, -1:]
        grad = lambda y: np.einsum("tk,tkj->tj", y, G) - c                 # noqa: E731
    w = np.clip(c * step, 0.0, 1.0)
    y, t = w.copy(), 1.0
    for _ in range(iters):
        w_next = np.clip(y - step * grad(y), 0.0, 1.0)
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        y = w_next + ((t - 1.0) / t_next) * (w_next - w)
        w, t = w_next, t_next
    return w


def clip_average(mean_offset: np.ndarray, model: LandmarkModel, active: np.ndarray, axis_metric: np.ndarray,
                 noise: float = IDENTITY_NOISE_MM2, prior_strength: float = CLIP_PRIOR_STRENGTH) -> np.ndarray:
    """The clip's average weights (K_active,) from its average frame minus the neutral (N, 3),
    under the identity offset (Gaussian: the identity samples' mean and covariance plus `noise`)
    and the clip-average prior (a mixture over emotion families, one shared covariance), bounded
    to [0, 1]: the bounded MAP under each family, averaged with the families' posterior weights.
    What it leaves over is the identity offset.
    `axis_metric` (3, 3): the clip's average per-axis residual weight R'W^2R (frontal frame)."""
    L = np.linalg.cholesky(axis_metric)                     # |L'x|^2 = x' axis_metric x
    D = model.deltas[active]
    A = np.einsum("knj,jl->knl", D, L).reshape(len(D), -1).T
    b = np.einsum("nj,jl->nl", mean_offset, L).ravel()
    # The identity samples have a mean (1.8 mm RMS of their 2.3: the painted faces on perturbed
    # shapes sit, on average, apart from the neutral the targets were measured with): it is the
    # prior's mean, and only the spread about it its covariance. Taken as zero-mean instead, that
    # common offset is a direction any face may take, and what a clip holds leaks into it.
    V = len(model.identity)
    identity_mean = model.identity.mean(0) if V else np.zeros_like(mean_offset)
    b = b - np.einsum("nj,jl->nl", identity_mean, L).ravel()
    # C^-1 A for C = Y Y' + noise I (1404 x 1404, low rank plus a diagonal): Woodbury.
    Y = np.einsum("vnj,jl->vnl", model.identity - identity_mean, L).reshape(V, A.shape[0]).T / np.sqrt(max(V - 1, 1))
    CA = (A - Y @ np.linalg.solve(noise * np.eye(V) + Y.T @ Y, Y.T @ A)) / noise
    cov_inv = prior_strength * np.linalg.inv(model.clip_cov[np.ix_(active, active)] + 1e-3 * np.eye(len(active)))
    G = A.T @ CA + cov_inv
    means = model.clip_mean[:, active]
    c = (b @ CA)[None] + means @ cov_inv
    w = solve_bounded(G, c, iters=2000)                                      # (E, K) one per family
    # -log posterior of each family at its MAP (up to a constant shared by all: G is the same
    # for every family, so the Laplace volume terms cancel).
    energy = (0.5 * np.einsum("ek,kl,el->e", w, G, w) - np.einsum("ek,ek->e", c, w)
              + 0.5 * np.einsum("ek,kl,el->e", means, cov_inv, means) - np.log(model.clip_prob))
    posterior = np.exp(-(energy - energy.min()))
    return (posterior / posterior.sum()) @ w


@dataclasses.dataclass
class Fit:
    """What the MAP fit of one video found (the refiner's input, refine.py)."""
    weights: np.ndarray        # (T, 52) per frame; targets not fitted stay 0
    neutral: np.ndarray        # (N, 3) the per-video neutral at the front pose (model + identity)
    rest: np.ndarray           # (T, N, 3) frontalised landmarks minus the pose-dependent model neutral


def fit_weights(front: np.ndarray, rotation: np.ndarray, angles: np.ndarray, model: LandmarkModel,
                active: np.ndarray, strength: float = 30.0, **clip_options) -> Fit:
    """Weights and the per-video neutral from frontalised landmarks (T, N, 3), the head rotation
    (T, 3, 3, template -> camera) and weak-perspective angles (T, 3).
    Only the `active` targets (indices) are fitted; the others stay 0. `strength`: the per-frame
    prior's weight against squared landmark error (mm^2); `clip_options` go to clip_average."""
    D = model.deltas[active]
    neutral = model.neutral + np.einsum("tf,fnj->tnj", pose_features(angles), model.pose_neutral)
    # Residual weighted per camera axis: |W R r|^2 = r' Q r with Q = R' W^2 R, per frame.
    R = rotation.astype(np.float64)
    Q = np.einsum("tai,a,taj->tij", R, AXIS_WEIGHT ** 2, R)
    observed = front - neutral
    mean_weights = clip_average(observed.mean(0), model, active, Q.mean(0), **clip_options)
    identity = observed.mean(0) - np.einsum("k,knj->nj", mean_weights, D)
    rest = observed - identity
    H = np.einsum("kni,lnj->ijkl", D, D)                                      # (3, 3, K, K)
    prior = strength * np.linalg.inv(model.prior[np.ix_(active, active)] + 1e-3 * np.eye(len(active)))
    G = np.einsum("tij,ijkl->tkl", Q, H) + prior
    c = np.einsum("knj,tnj->tk", D, np.einsum("tnj,tij->tni", rest, Q))
    full = np.zeros((len(front), len(model.deltas)))
    full[:, active] = solve_bounded(G, c)
    return Fit(full, model.neutral + identity, observed)
