"""Varied faces for calibration and the refiner's examples: painted texture variants, identity
shapes (changed face proportions on the rig's neutral) and lights. Used offline only, by
calibrate.py (the landmark model's targets and identity prior) and examples.py (the refiner's
training takes).
"""
from __future__ import annotations

import numpy as np

from ...face import regions as R


def painted_variant(rng: np.random.Generator, size: int = 512) -> np.ndarray:
    """A variant of the default painted texture (render/paint.py): lip outline scaled (fuller or
    thinner, wider or narrower) and its colour closer to or further from the skin, brows higher or
    lower, thicker or thinner, darker or lighter, lash lines on the upper lids or not, skin tone.
    Where these edges sit is where MediaPipe puts the lips, lids and brows, so each variant shifts
    the landmarks the way a different face does."""
    from ...face.rig import FaceRig
    from ...render.paint import BROW_RGB, LIP_RGB, SKIN_RGB, paint

    uv = FaceRig.default().uvs * size
    skin = np.array(SKIN_RGB) * rng.uniform(0.55, 1.1) * rng.uniform(0.93, 1.07, 3)
    lips = uv[R.LIPS_OUTER]
    centre = lips.mean(0)
    lips = centre + (lips - centre) * np.array([rng.uniform(0.92, 1.08), rng.uniform(0.8, 1.3)])
    a = rng.uniform(0.35, 1.0)
    lip_rgb = a * np.array(LIP_RGB) + (1 - a) * skin
    shift, thickness = rng.normal(0.0, 2.5), rng.uniform(0.6, 1.4)
    brow_rgb = np.array(BROW_RGB) * rng.uniform(0.5, 1.2)
    brows = []
    for upper, lower in ((R.BROW_LEFT_UPPER, R.BROW_LEFT_LOWER), (R.BROW_RIGHT_UPPER, R.BROW_RIGHT_LOWER)):
        mid = (uv[upper] + uv[lower]) / 2
        u = mid + (uv[upper] - mid) * thickness + [0.0, shift]
        lo = mid + (uv[lower] - mid) * thickness + [0.0, shift]
        brows.append(np.r_[u, lo[::-1]])
    lids, width = [], 1
    if rng.random() < 0.6:
        width = max(1, int(rng.uniform(1, 4)))
        lids = [uv[R.EYE_LEFT_UPPER], uv[R.EYE_RIGHT_UPPER]]
    return paint(size, skin, lips, lip_rgb, brows, brow_rgb, lids, width)


def identity_shape(rng: np.random.Generator, P: np.ndarray) -> np.ndarray:
    """(N, 3) mm: a left-right symmetric change of face proportions on the neutral P: mouth
    wider/narrower and fuller/thinner, eyes larger/smaller, brows higher/lower, nose larger/smaller,
    chin longer/shorter; each feature scaled about its centre with a smooth falloff."""
    def falloff(idx, radius):
        return np.clip(1 - (np.linalg.norm(P - P[idx].mean(0), axis=1) / radius) ** 2, 0, 1) ** 2

    def scale_about(idx, radius, sx, sy, sz=0.0):
        return falloff(idx, radius)[:, None] * (P - P[idx].mean(0)) * np.array([sx, sy, sz])

    d = scale_about(R.LIPS, 35.0, rng.normal(0, 0.06), rng.normal(0, 0.1))
    ex, ey = rng.normal(0, 0.06), rng.normal(0, 0.08)
    d += scale_about(R.EYE_LEFT, 18.0, ex, ey) + scale_about(R.EYE_RIGHT, 18.0, ex, ey)
    raise_mm = rng.normal(0, 2.0)
    for brow in (np.r_[R.BROW_LEFT_UPPER, R.BROW_LEFT_LOWER], np.r_[R.BROW_RIGHT_UPPER, R.BROW_RIGHT_LOWER]):
        d[:, 1] += raise_mm * falloff(brow, 25.0)
    nose = np.r_[R.NOSE_WING_LEFT, R.NOSE_WING_RIGHT, R.NOSE_TIP]
    d += scale_about(nose, 30.0, *rng.normal(0, 0.06, 3))
    chin = P[:, 1] < P[R.LIPS_LOWER_OUTER, 1].min()
    d[chin, 1] += rng.normal(0, 0.06) * (P[chin, 1] - P[R.LIPS_LOWER_OUTER, 1].min())
    return d


def random_light(rng: np.random.Generator) -> tuple[float, float, float]:
    """A light from the front half, varied around the preview's."""
    return tuple(float(x) for x in rng.normal(0.0, 0.4, 3) + np.array([0.0, 0.25, 1.0]))
