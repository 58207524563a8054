"""The preview's default albedo: skin with lips and brows painted in the mesh's UV space.

An untextured head hides the features animators read first (brows, lip line); a little colour
on them makes brow raises and lip shapes legible in previews.
"""
from __future__ import annotations

import functools

import numpy as np

from ..face import regions as R
from ..face.rig import FaceRig

SKIN_RGB = (219, 168, 140)
LIP_RGB = (184, 104, 100)
BROW_RGB = (96, 70, 56)


@functools.lru_cache(maxsize=2)
def default_texture(size: int = 512) -> np.ndarray:
    """(size, size, 3) uint8 texture: skin, lips between the outer and inner lip loops, brows."""
    import cv2

    uv = FaceRig.default().uvs * size                       # u right, v down: pixel x, y
    img = np.zeros((size, size, 3), np.uint8)
    img[:] = SKIN_RGB
    poly = lambda idx: np.round(uv[idx]).astype(np.int32)   # noqa: E731
    cv2.fillPoly(img, [poly(R.LIPS_OUTER)], LIP_RGB, cv2.LINE_AA)
    for upper, lower in ((R.BROW_LEFT_UPPER, R.BROW_LEFT_LOWER), (R.BROW_RIGHT_UPPER, R.BROW_RIGHT_LOWER)):
        cv2.fillPoly(img, [poly(np.r_[upper, lower[::-1]])], BROW_RGB, cv2.LINE_AA)
    k = max(3, size // 128) | 1                             # soft edges, as on a face
    return cv2.GaussianBlur(img, (k, k), 0)
