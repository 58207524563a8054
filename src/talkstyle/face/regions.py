"""Named vertex groups of the 468-vertex MediaPipe face topology, and measures built on them.

Indices follow MediaPipe's landmark numbering (FACEMESH_* sets in mediapipe's
face_mesh_connections). "Left" is the subject's own left, which is +x in the canonical mesh
(landmark 33, the subject's right outer eye corner, lies at x < 0).

Loops are listed from the subject's right (-x) to the left (+x); an upper and a lower list of the
same name are paired column by column (same x), so that `upper - lower` is a per-point gap.
"""
from __future__ import annotations

import numpy as np

# ------------------------------------------------------------------ lips
LIP_CORNER_RIGHT, LIP_CORNER_LEFT = 61, 291               # outer mouth corners
INNER_CORNER_RIGHT, INNER_CORNER_LEFT = 78, 308           # inner mouth corners
UPPER_LIP_MID, LOWER_LIP_MID = 13, 14                     # inner-lip midpoints
LIPS_UPPER_OUTER = np.array([185, 40, 39, 37, 0, 267, 269, 270, 409])
LIPS_LOWER_OUTER = np.array([146, 91, 181, 84, 17, 314, 405, 321, 375])
LIPS_UPPER_INNER = np.array([191, 80, 81, 82, 13, 312, 311, 310, 415])
LIPS_LOWER_INNER = np.array([95, 88, 178, 87, 14, 317, 402, 318, 324])
# The inner-lip loop, closed, in order around the mouth opening.
LIPS_INNER = np.array([78, *LIPS_UPPER_INNER, 308, *LIPS_LOWER_INNER[::-1]])
LIPS_OUTER = np.array([61, *LIPS_UPPER_OUTER, 291, *LIPS_LOWER_OUTER[::-1]])
LIPS = np.array(sorted({*LIPS_INNER.tolist(), *LIPS_OUTER.tolist()}))

# ------------------------------------------------------------------ eyes (lid contours)
EYE_RIGHT_CORNERS = np.array([33, 133])                   # outer, inner
EYE_RIGHT_UPPER = np.array([246, 161, 160, 159, 158, 157, 173])
EYE_RIGHT_LOWER = np.array([7, 163, 144, 145, 153, 154, 155])
EYE_LEFT_CORNERS = np.array([263, 362])                   # outer, inner
EYE_LEFT_UPPER = np.array([398, 384, 385, 386, 387, 388, 466])
EYE_LEFT_LOWER = np.array([382, 381, 380, 374, 373, 390, 249])
EYE_RIGHT = np.array([33, *EYE_RIGHT_UPPER, 133, *EYE_RIGHT_LOWER[::-1]])   # closed loop
EYE_LEFT = np.array([362, *EYE_LEFT_UPPER, 263, *EYE_LEFT_LOWER[::-1]])

# ------------------------------------------------------------------ brows (upper and lower edge)
BROW_RIGHT_UPPER = np.array([70, 63, 105, 66, 107])       # outer -> inner
BROW_RIGHT_LOWER = np.array([46, 53, 52, 65, 55])
BROW_LEFT_UPPER = np.array([300, 293, 334, 296, 336])     # outer -> inner
BROW_LEFT_LOWER = np.array([276, 283, 282, 295, 285])
BROWS = np.concatenate([BROW_RIGHT_UPPER, BROW_RIGHT_LOWER, BROW_LEFT_UPPER, BROW_LEFT_LOWER])

# ------------------------------------------------------------------ nose, cheeks, chin
NOSE_TIP = 1
NOSE_WING_RIGHT = np.array([98, 64, 48, 129, 102])
NOSE_WING_LEFT = np.array([327, 294, 278, 358, 331])
CHIN = 152


def _upper_face() -> np.ndarray:
    # Brows, forehead and eyes: every vertex at or above the lower eyelids, less a small margin.
    from .mesh import canonical_mesh

    v = canonical_mesh()[0]
    lower_lid_y = min(v[EYE_RIGHT_LOWER, 1].min(), v[EYE_LEFT_LOWER, 1].min())
    return np.flatnonzero(v[:, 1] >= lower_lid_y - 5.0)


UPPER_FACE = _upper_face()


# ------------------------------------------------------------------ measures
# The three central inner-lip pairs (82/87, 13/14, 312/317) whose distance is the mouth opening.
MID_LIP_UPPER, MID_LIP_LOWER = LIPS_UPPER_INNER[3:6], LIPS_LOWER_INNER[3:6]


def mouth_opening(vertices: np.ndarray) -> np.ndarray:
    """Inner-lip gap in mm per frame: mean distance of the three central upper/lower inner-lip pairs.

    vertices: (T, 468, 3) or (468, 3). Rotation-invariant, so it ignores head motion.
    """
    v = np.asarray(vertices)
    gap = v[..., MID_LIP_UPPER, :] - v[..., MID_LIP_LOWER, :]
    return np.linalg.norm(gap, axis=-1).mean(-1)


def eye_opening(vertices: np.ndarray, side: str) -> np.ndarray:
    """Lid gap in mm per frame for side 'left' or 'right': mean over the three central lid pairs."""
    upper, lower = {"left": (EYE_LEFT_UPPER, EYE_LEFT_LOWER),
                    "right": (EYE_RIGHT_UPPER, EYE_RIGHT_LOWER)}[side]
    v = np.asarray(vertices)
    gap = v[..., upper[2:5], :] - v[..., lower[2:5], :]
    return np.linalg.norm(gap, axis=-1).mean(-1)
