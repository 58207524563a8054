"""The landmark model at run time: the FaceRig as MediaPipe sees it (neutral, targets, pose drift,
identity and weight priors) and the head-angle correction, loaded from assets/landmark_model.npz.

calibrate.py measures both on renders and writes the asset (offline, ~5 minutes).
"""
from __future__ import annotations

import functools

import numpy as np

from .fit import LandmarkModel
from ... import assets

ASSET = assets.path("landmark_model.npz", "talkstyle.data.capture")


@functools.lru_cache(maxsize=1)
def capture_model() -> LandmarkModel:
    """The whole LandmarkModel the fit uses (fit.py)."""
    with np.load(ASSET) as z:
        f = {k: z[k].astype(np.float64) for k in ("neutral", "deltas", "pose_neutral", "identity", "prior_mean",
                                                  "prior_cov", "clip_mean", "clip_prob", "clip_cov")}
    # Second moment E[w w']: the covariance of a zero-mean prior (most shapes rest at 0 most of the time).
    prior = f["prior_cov"] + np.outer(f["prior_mean"], f["prior_mean"])
    return LandmarkModel(f["neutral"], f["deltas"], f["pose_neutral"], f["identity"], prior,
                         f["clip_mean"], f["clip_prob"], f["clip_cov"])


@functools.lru_cache(maxsize=1)
def pose_correction() -> tuple[np.ndarray, np.ndarray]:
    """(gain (3,), offset (3,) radians): corrected angle = gain * weak-perspective angle + offset."""
    with np.load(ASSET) as z:
        return z["pose_gain"].astype(np.float64), np.deg2rad(z["pose_offset_deg"].astype(np.float64))
