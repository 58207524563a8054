"""Stage IV: video -> FaceMotion. The pipeline is in pipeline.py; this re-exports its entry points."""
from .fit import OBSERVABLE
from .pipeline import Capture, capture_video, fit_track, motion_from_landmarks
from .pose import euler_from_rotation

__all__ = ["OBSERVABLE", "Capture", "capture_video", "euler_from_rotation", "fit_track", "motion_from_landmarks"]
