"""The rig showcase: every blendshape ramps up and down in turn, then a nod and a shake."""
from __future__ import annotations

import numpy as np

from .arkit import ARKIT_NAMES, NUM_BLENDSHAPES
from .motion import DEFAULT_FPS, FaceMotion

RAMP_S = 0.6      # seconds per blendshape (up and down)
GESTURE_S = 2.0   # seconds for the nod, and for the shake
GESTURE_DEG = 12.0


def showcase_motion(fps: float = DEFAULT_FPS) -> FaceMotion:
    """A FaceMotion of len(ARKIT_NAMES) * RAMP_S + 2 * GESTURE_S seconds; metadata lists the timing."""
    ramp = max(2, int(round(RAMP_S * fps)))
    bump = np.sin(np.linspace(0, np.pi, ramp)) ** 2        # smooth 0 -> 1 -> 0
    gesture = int(round(GESTURE_S * fps))
    n = NUM_BLENDSHAPES * ramp + 2 * gesture
    weights = np.zeros((n, NUM_BLENDSHAPES), np.float32)
    for k in range(NUM_BLENDSHAPES):
        weights[k * ramp:(k + 1) * ramp, k] = bump
    head = np.zeros((n, 3), np.float32)
    t = np.arange(gesture) / fps
    swing = np.radians(GESTURE_DEG) * np.sin(2 * np.pi * 1.5 * t) * np.sin(np.pi * t / GESTURE_S)
    start = NUM_BLENDSHAPES * ramp
    head[start:start + gesture, 0] = swing                  # nod: pitch
    head[start + gesture:, 1] = swing                        # shake: yaw
    segments = [{"name": name, "start": k * ramp, "stop": (k + 1) * ramp} for k, name in enumerate(ARKIT_NAMES)]
    segments += [{"name": "nod", "start": start, "stop": start + gesture},
                 {"name": "shake", "start": start + gesture, "stop": n}]
    return FaceMotion(weights, head, fps, metadata={"showcase": segments})
