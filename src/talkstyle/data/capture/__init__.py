"""Stage IV: video -> FaceMotion. The pipeline is in pipeline.py (its MAP fit in track_fit.py); this
re-exports the entry points."""
from .fit import OBSERVABLE
from .pipeline import Capture, capture_video, motion_from_landmarks
from .pose import euler_from_rotation
from .track_fit import fit_track

__all__ = ["OBSERVABLE", "Capture", "capture_video", "euler_from_rotation", "fit_track", "motion_from_landmarks"]
