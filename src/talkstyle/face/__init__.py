"""The face: ARKit-52 names, the FaceMotion format and the FaceRig blendshape head."""
from .arkit import ARKIT_NAMES, NUM_BLENDSHAPES
from .motion import FaceMotion

__all__ = ["ARKIT_NAMES", "NUM_BLENDSHAPES", "FaceMotion"]
