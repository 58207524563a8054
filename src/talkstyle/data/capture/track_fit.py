"""The MAP fit of a landmark track: head pose, frontalised landmarks and bounded weights per frame.

The first half of the capture pipeline (pipeline.py), before the refiner and smoothing; also how
the refiner's training examples are fitted (refine.fit_examples), exactly as a capture fits them.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...errors import TalkstyleError
from .fit import OBSERVABLE, Fit
from .landmarks import LandmarkTrack
from .pose import euler_from_rotation


@dataclasses.dataclass
class TrackFit:
    """The MAP fit of a track's frames with a face (`found`), before the refiner and smoothing."""
    fit: Fit                    # weights, per-video neutral, frontalised rest landmarks (found frames)
    angles: np.ndarray          # (T_found, 3) weak-perspective pitch, yaw, roll (radians)
    residual: np.ndarray        # (T_found,) RMS mm of the rigid pose fit


def fit_track(track: LandmarkTrack, rig=None) -> TrackFit:
    """Head pose and the MAP weight fit of every frame with a face."""
    from ...face.rig import FaceRig
    from .landmark_model import capture_model
    from .fit import depth_scale, fit_weights, frontalise
    from .pose import fit_pose, image_to_yup, rigid_vertices

    rig = rig or FaceRig.default()
    if track.found.sum() < 2:
        raise TalkstyleError("no face found in the video")
    points = image_to_yup(track.points[track.found])
    rigid = rigid_vertices(rig.deltas)
    pose = fit_pose(points, rig.neutral, rigid)
    k = depth_scale(points, pose, rig.neutral, rigid)
    front = frontalise(points, pose, rig.neutral, rigid, k)
    angles = euler_from_rotation(pose.rotation.astype(np.float64))
    return TrackFit(fit_weights(front, pose.rotation, angles, capture_model(), OBSERVABLE), angles, pose.residual)
