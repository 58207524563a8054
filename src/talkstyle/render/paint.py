"""The preview's default albedo: skin with lips and brows painted in the mesh's UV space.

An untextured head hides the features animators read first (brows, lip line); a little colour
on them makes brow raises and lip shapes legible in previews. `paint` is the painter itself; the
capture calibration paints varied faces with it (data/capture/variation.py).
"""
from __future__ import annotations

import functools

import numpy as np

from ..face import regions as R
from ..face.rig import FaceRig

SKIN_RGB = (219, 168, 140)
LIP_RGB = (184, 104, 100)
BROW_RGB = (96, 70, 56)


LASH_RGB = (40, 30, 30)


def paint(size: int, skin, lips: np.ndarray, lip_rgb, brows: list[np.ndarray], brow_rgb,
          lids: list[np.ndarray] = (), lash_width: int = 1) -> np.ndarray:
    """(size, size, 3) uint8 texture: `skin` everywhere, the `lips` polygon and each `brows`
    polygon filled, a lash line along each of `lids`, edges softened. Polygons are (N, 2) points
    in texture pixels (u right, v down); colours are RGB (clipped to 0-255)."""
    import cv2

    poly = lambda pts: np.round(pts).astype(np.int32)      # noqa: E731
    colour = lambda rgb: tuple(float(x) for x in np.clip(rgb, 0, 255))   # noqa: E731
    img = np.zeros((size, size, 3), np.uint8)
    img[:] = np.clip(np.asarray(skin), 0, 255).astype(np.uint8)
    cv2.fillPoly(img, [poly(lips)], colour(lip_rgb), cv2.LINE_AA)
    for brow in brows:
        cv2.fillPoly(img, [poly(brow)], colour(brow_rgb), cv2.LINE_AA)
    for lid in lids:
        cv2.polylines(img, [poly(lid)], False, LASH_RGB, lash_width, cv2.LINE_AA)
    k = max(3, size // 128) | 1                             # soft edges, as on a face
    return cv2.GaussianBlur(img, (k, k), 0)


@functools.lru_cache(maxsize=2)
def default_texture(size: int = 512) -> np.ndarray:
    """(size, size, 3) uint8 texture: skin, lips between the outer and inner lip loops, brows."""
    uv = FaceRig.default().uvs * size                       # u right, v down: pixel x, y
    brows = [uv[np.r_[upper, lower[::-1]]]
             for upper, lower in ((R.BROW_LEFT_UPPER, R.BROW_LEFT_LOWER), (R.BROW_RIGHT_UPPER, R.BROW_RIGHT_LOWER))]
    return paint(size, SKIN_RGB, uv[R.LIPS_OUTER], LIP_RGB, brows, BROW_RGB)
