"""Metrics of the seed paper (MSE/MVE, LVE, FDD, MOD) on FaceRig vertices in mm, plus
blendshape-space errors and diversity.

All functions take plain arrays so they can be checked on hand-made cases; `motion_metrics`
decodes two FaceMotions on the rig and applies them with the rig's region index sets.
Conventions follow CodeTalker's cal_metric.py where the seed paper cites it:
- LVE: per frame, the max over lip vertices of the squared L2 distance; mean over frames (mm^2).
  The Euclidean variant (max of the L2 distance, mm) is reported beside it.
- FDD: per upper-face vertex, the std over time of the squared displacement from the template;
  mean over vertices; ground truth minus prediction (signed; |.| is reported too).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..face.motion import FaceMotion


def mve(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean vertex error: mean L2 distance over all vertices and frames (mm)."""
    return float(np.linalg.norm(pred - gt, axis=-1).mean())


def vertex_mse(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean squared L2 distance over all vertices and frames (mm^2)."""
    return float(((pred - gt) ** 2).sum(-1).mean())


def lve(pred: np.ndarray, gt: np.ndarray, lip_idx: np.ndarray) -> float:
    """Lip vertex error as CodeTalker: mean over frames of max over lip vertices of squared L2."""
    sq = ((pred[:, lip_idx] - gt[:, lip_idx]) ** 2).sum(-1)
    return float(sq.max(axis=1).mean())


def lve_euclidean(pred: np.ndarray, gt: np.ndarray, lip_idx: np.ndarray) -> float:
    """LVE with the plain L2 distance (mm) instead of its square."""
    return float(np.sqrt(((pred[:, lip_idx] - gt[:, lip_idx]) ** 2).sum(-1)).max(axis=1).mean())


def upper_face_dynamics(verts: np.ndarray, template: np.ndarray, upper_idx: np.ndarray) -> float:
    """Mean over upper-face vertices of the temporal std of the squared displacement."""
    sq = ((verts[:, upper_idx] - template[upper_idx]) ** 2).sum(-1)  # (T, V)
    return float(sq.std(axis=0).mean())


def fdd(pred: np.ndarray, gt: np.ndarray, template: np.ndarray, upper_idx: np.ndarray) -> float:
    """Upper-face dynamics deviation: dynamics(gt) - dynamics(pred) (signed, mm^2)."""
    return upper_face_dynamics(gt, template, upper_idx) - upper_face_dynamics(pred, template, upper_idx)


def inner_lip_gap(verts: np.ndarray, upper_mid: int, lower_mid: int) -> np.ndarray:
    """(T,) distance between the inner-lip midpoints (mm)."""
    return np.linalg.norm(verts[:, upper_mid] - verts[:, lower_mid], axis=-1)


def mod(pred: np.ndarray, gt: np.ndarray, upper_mid: int, lower_mid: int) -> float:
    """Mouth opening difference: mean |inner-lip gap(pred) - gap(gt)| over frames (mm)."""
    return float(np.abs(inner_lip_gap(pred, upper_mid, lower_mid) - inner_lip_gap(gt, upper_mid, lower_mid)).mean())


def blendshape_mae(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(52,) mean absolute error per ARKit channel."""
    return np.abs(pred - gt).mean(axis=0)


def diversity(samples: list[np.ndarray]) -> float:
    """Mean pairwise L2 distance per frame between motions made for the same audio (e.g. by
    different styles); 0 when every sample is the same."""
    if len(samples) < 2:
        raise ValueError("diversity needs at least two samples")
    n = min(len(s) for s in samples)
    flat = [s[:n].reshape(n, -1) for s in samples]
    dists = [np.linalg.norm(a - b, axis=-1).mean() for i, a in enumerate(flat) for b in flat[i + 1:]]
    return float(np.mean(dists))


@dataclasses.dataclass
class MotionMetrics:
    mve: float           # mm
    mse: float           # mm^2
    lve: float           # mm^2 (CodeTalker)
    lve_l2: float        # mm
    fdd: float           # mm^2, signed: positive = prediction has less upper-face motion
    mod: float           # mm
    weights_mae: float   # blendshape space, mean over channels
    head_mae_deg: float  # degrees, mean over axes


def motion_metrics(pred: FaceMotion, gt: FaceMotion) -> MotionMetrics:
    """Every metric between two motions of the same clip, decoded on the default FaceRig.

    Head rotation is left out of the vertex metrics (as in the paper's expression space) and
    scored separately in degrees.
    """
    from ..face import regions
    from ..face.rig import FaceRig

    rig = FaceRig.default()
    n = min(len(pred), len(gt))
    pw, gw = pred.weights[:n], gt.weights[:n]
    pv = rig.decode_weights(pw, None)
    gv = rig.decode_weights(gw, None)
    lips = np.asarray(regions.LIPS)
    upper = np.asarray(regions.UPPER_FACE)
    up, lo = regions.UPPER_LIP_MID, regions.LOWER_LIP_MID
    return MotionMetrics(
        mve=mve(pv, gv), mse=vertex_mse(pv, gv), lve=lve(pv, gv, lips), lve_l2=lve_euclidean(pv, gv, lips),
        fdd=fdd(pv, gv, rig.neutral, upper), mod=mod(pv, gv, up, lo),
        weights_mae=float(blendshape_mae(pw, gw).mean()),
        head_mae_deg=float(np.degrees(np.abs(pred.head[:n] - gt.head[:n])).mean()),
    )
