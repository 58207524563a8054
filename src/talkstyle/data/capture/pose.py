"""Head pose from 2D landmarks: a weak-perspective (scaled orthographic) fit to the rig neutral.

The image is treated as an orthographic view of the head scaled by s: u = s * (R X)[:2] + t, in a
y-up frame (x right, y up, +z toward the camera, as the rig). Only rigid vertices (those no
blendshape target moves) enter the fit. Solved per frame in closed form: the linear 2x3 map from
the template to the image, then the nearest scaled rotation (SVD); the third row is the cross
product, so R is a proper rotation. MediaPipe's depth is not used for pose: it is compressed
(a 3D fit underestimates yaw by about 30 percent).
"""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class PoseTrack:
    rotation: np.ndarray     # (T, 3, 3) template -> camera, y-up
    scale: np.ndarray        # (T,) pixels per template unit (mm)
    center: np.ndarray       # (T, 3) image position (y-up pixels; z = depth centroid) of the template's rigid centroid
    residual: np.ndarray     # (T,) RMS fit error of the rigid points, in template units (mm)


def rigid_vertices(deltas: np.ndarray, max_motion_mm: float = 0.5) -> np.ndarray:
    """Indices of vertices that no blendshape target moves by more than `max_motion_mm`."""
    motion = np.linalg.norm(deltas, axis=-1).max(axis=0)
    return np.flatnonzero(motion <= max_motion_mm)


def image_to_yup(points: np.ndarray) -> np.ndarray:
    """MediaPipe pixels (x right, y down, z negative toward camera) -> x right, y up, z toward camera."""
    return points * np.array([1.0, -1.0, -1.0], points.dtype)


def fit_pose(points: np.ndarray, template: np.ndarray, rigid: np.ndarray) -> PoseTrack:
    """Weak-perspective pose of every frame. points (T, N, 3) y-up pixels (no NaN), template (N, 3)."""
    X = template[rigid].astype(np.float64)
    X0 = X.mean(0)
    Xc = X - X0
    U = points[:, rigid, :2].astype(np.float64)
    U0 = U.mean(1, keepdims=True)
    # Linear least squares for the 2x3 map M in Uc = Xc M^T, all frames at once.
    M = np.einsum("kn,tnj->tjk", np.linalg.pinv(Xc), U - U0)           # (T, 2, 3)
    u, sv, vt = np.linalg.svd(M, full_matrices=False)                   # (T,2,2) (T,2) (T,2,3)
    rows = u @ vt                                                        # nearest orthonormal rows
    scale = sv.mean(1)
    R = np.concatenate([rows, np.cross(rows[:, 0], rows[:, 1])[:, None]], axis=1)
    pred = scale[:, None, None] * np.einsum("tij,nj->tni", R[:, :2], Xc)
    resid = np.sqrt(((U - U0 - pred) ** 2).sum(-1).mean(1)) / scale
    depth0 = points[:, rigid, 2].mean(1)
    center = np.concatenate([U0[:, 0], depth0[:, None]], axis=1)
    return PoseTrack(R.astype(np.float32), scale.astype(np.float32), center.astype(np.float32),
                     resid.astype(np.float32))


def euler_from_rotation(R: np.ndarray) -> np.ndarray:
    """(T, 3, 3) -> (T, 3) pitch, yaw, roll: the inverse of FaceRig's Ry(yaw) @ Rx(pitch) @ Rz(roll)."""
    pitch = np.arcsin(np.clip(-R[:, 1, 2], -1.0, 1.0))
    yaw = np.arctan2(R[:, 0, 2], R[:, 2, 2])
    roll = np.arctan2(R[:, 1, 0], R[:, 1, 1])
    return np.stack([pitch, yaw, roll], 1)
