"""FaceRig: the project's own ARKit-52 blendshape head on the MediaPipe canonical face mesh.

    vertices = head_rotation( jaw_hinge( neutral + sum_k w_k * deltas_k ) + w_close * deltas_close )

Units are millimetres; y is up, +z points toward the viewer, and the subject's left is +x
(landmark 33, the right eye's outer corner, has x < 0). The jaw opens as a rotation about a hinge
(blended per vertex by `jaw_weight`), and `mouthClose` is added after the hinge so that
mouthClose == jawOpen brings the lips together. `deltas[jawOpen]` is the hinge linearised at
weight 1: exporters (GLB morph targets) and fitting use `neutral + weights @ deltas`.

Head rotation: pitch about +x (positive tips the nose down), yaw about +y (positive turns the nose
toward the subject's left), roll about +z (positive tilts the top of the head toward the subject's
right); applied as R = Ry(yaw) @ Rx(pitch) @ Rz(roll) about a neck pivot.

The targets are authored below from handle points on the landmark groups of `regions`, whose
displacements spread to their neighbours with a smooth falloff (see `_spread`). The neutral is the
canonical mesh with its slightly parted lips closed. Every target is described in TARGET_DOCS.
"""
from __future__ import annotations

import functools

import numba
import numpy as np

from . import regions as R
from .arkit import ARKIT_NAMES, INDEX, NUM_BLENDSHAPES
from .mesh import canonical_mesh
from .motion import FaceMotion

JAW_MAX_DEG = 20.0                                   # jawOpen = 1 rotates the jaw this far
HINGE = np.array([0.0, 0.0, -15.0], np.float32)      # y, z of the hinge axis (x is the axis)
NECK_PIVOT = np.array([0.0, -70.0, -40.0], np.float32)

TARGET_DOCS: dict[str, str] = {
    "eyeBlinkLeft": "upper lid of the left eye falls onto the lower lid (lower lid rises a little); lid skin follows",
    "eyeLookDownLeft": "left lids follow a downward gaze: upper lid lowers 2.5 mm, lower lid 1 mm",
    "eyeLookInLeft": "left lids shift 1.5 mm toward the nose, following an inward gaze",
    "eyeLookOutLeft": "left lids shift 1.5 mm toward the ear, following an outward gaze",
    "eyeLookUpLeft": "left lids follow an upward gaze: upper lid rises 1.5 mm, lower lid 1 mm",
    "eyeSquintLeft": ("left lids narrow the eye by half: lower lid rises 2.4 mm over the iris, upper lid lowers 0.8 mm; "
                      "the cheek under it bunches up"),
    "eyeWideLeft": "left upper lid rises 4.5 mm (lower lid drops 0.8 mm), baring the white above the iris",
    "jawForward": "lower face (jaw region) slides 6 mm forward",
    "jawLeft": "lower face slides 7 mm toward the subject's left",
    "jawOpen": f"jaw rotates {JAW_MAX_DEG:.0f} degrees about the hinge, opening the mouth (linearised here)",
    "mouthClose": "the whole lower lip returns up to the upper lip against jawOpen (lips together, jaw open)",
    "mouthFunnel": "lips flare 7 mm forward and part into an open funnel; corners 4 mm in",
    "mouthPucker": "lips push 10 mm forward and purse shut; the mouth a third narrower",
    "mouthLeft": "the whole mouth shifts 9 mm toward the subject's left",
    "mouthSmileLeft": ("left mouth corner 14 mm up, out and back; the lips curve up to it and part beside the middle "
                       "(teeth show, the middle stays closed); the cheek beside the nose bulges"),
    "mouthFrownLeft": "left mouth corner 9 mm down, the lips arched down to it; the skin below follows",
    "mouthDimpleLeft": "left mouth corner 8 mm back and out into the cheek (dimpler)",
    "mouthStretchLeft": "left mouth corner 9 mm outward and down; left lower lip stretches down",
    "mouthRollLower": "the red of the lower lip rolls in over the teeth",
    "mouthRollUpper": "the red of the upper lip rolls in over the teeth",
    "mouthShrugLower": "chin boss 6 mm up and forward, pushing the lower lip up (chin raiser)",
    "mouthShrugUpper": "upper lip lifts and pushes forward",
    "mouthPressLeft": "left halves of both lips press together, the red of each lip thinning by about 40%",
    "mouthLowerDownLeft": "left half of the lower lip pulls 5 mm down, baring the lower teeth; the skin below the corner follows",
    "mouthUpperUpLeft": "left half of the upper lip lifts 5 mm, baring the upper teeth; the skin beside the nose lifts",
    "browDownLeft": "left brow lowers 8.5 mm at its inner end and draws 4 mm toward the nose",
    "browInnerUp": "inner ends of both brows rise 11 mm, the forehead above follows",
    "browOuterUpLeft": "outer end of the left brow rises 11 mm",
    "cheekPuff": "both cheeks bulge 8 mm outward (and forward) beside the mouth",
    "cheekSquintLeft": "left upper cheek lifts 7 mm toward the eye, pushing the lower lid up",
    "noseSneerLeft": "left nose wing and the skin beside it pull 6.5 mm up (nose wrinkler); the inner brow is drawn down a little",
    "tongueOut": "no tongue in the mesh: the lower lip drops and pushes forward as if over a tongue",
}
for _name in list(TARGET_DOCS):
    if _name.endswith("Left"):
        TARGET_DOCS[_name[:-4] + "Right"] = "mirror of " + _name
TARGET_DOCS["jawRight"] = "mirror of jawLeft"
TARGET_DOCS["mouthRight"] = "mirror of mouthLeft"


# ====================================================================== mesh
def _split_fill(triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(open triangles, fill triangles): fills have all three corners on the inner-lip or an eye loop."""
    fill = np.zeros(len(triangles), bool)
    for loop in (R.LIPS_INNER, R.EYE_LEFT, R.EYE_RIGHT):
        fill |= np.isin(triangles, loop).all(1)
    return triangles[~fill], triangles[fill]


# ====================================================================== authoring tools
def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _falloff(d: np.ndarray, radius: float) -> np.ndarray:
    """1 at d = 0, smoothly down to 0 at d = radius (C1 at both ends)."""
    t = np.clip(d / radius, 0.0, 1.0)
    return (1 - t * t) ** 2


class _Author:
    """Builds displacement fields on the canonical geometry P (mm)."""

    def __init__(self, P: np.ndarray):
        self.P = P.astype(np.float64)
        # mirror[i] is the vertex at (-x, y, z) of vertex i: right-side targets mirror left ones.
        flipped = self.P * [-1, 1, 1]
        self.mirror = np.argmin(((self.P[:, None] - flipped[None]) ** 2).sum(-1), axis=1)
        self.lower = self._jaw_mask()

    def _jaw_mask(self) -> np.ndarray:
        """Per-vertex share of jaw motion: 1 below the mouth line, 0 above, soft toward the ears."""
        P = self.P
        # Mouth line: mid-height of the (parted) inner lips, then rising from the corner to the ear.
        lx = np.concatenate([P[[78], 0], P[R.LIPS_UPPER_INNER, 0], P[[308], 0]])
        ly = np.concatenate([P[[78], 1], (P[R.LIPS_UPPER_INNER, 1] + P[R.LIPS_LOWER_INNER, 1]) / 2, P[[308], 1]])
        ax = np.abs(P[:, 0])
        corner_x, corner_y = P[308, 0], P[308, 1]
        line = np.where(ax <= corner_x, np.interp(P[:, 0], lx, ly),
                        corner_y + (ax - corner_x) * (-15.0 - corner_y) / (75.0 - corner_x))
        band = 2.5 + np.clip((ax - corner_x) / (75.0 - corner_x), 0, 1) * 20.0
        return _smoothstep(0.5 - (P[:, 1] - line) / (2 * band))

    def side_of(self, upper: np.ndarray, lower: np.ndarray, corners: np.ndarray) -> np.ndarray:
        """Per-vertex 1 above the line between two paired lid/lip contours, 0 below (soft band)."""
        P = self.P
        xs = np.concatenate([P[corners[:1], 0], P[upper, 0], P[corners[1:], 0]])
        mid = np.concatenate([P[corners[:1], 1], (P[upper, 1] + P[lower, 1]) / 2, P[corners[1:], 1]])
        order = np.argsort(xs)
        line = np.interp(P[:, 0], xs[order], mid[order])
        band = np.abs(P[upper, 1] - P[lower, 1]).mean() / 2
        return _smoothstep(0.5 + (P[:, 1] - line) / (2 * band))

    def spread(self, handles, disp, radius: float, mask: np.ndarray | None = None) -> np.ndarray:
        """Displacement field from handle points: inverse-distance blend of the handle
        displacements (exact at the handles), faded to zero `radius` mm from the nearest handle."""
        handles = np.asarray(handles).reshape(-1)
        disp = np.broadcast_to(np.asarray(disp, np.float64), (len(handles), 3))
        d = np.linalg.norm(self.P[:, None] - self.P[handles][None], axis=-1)       # (468, H)
        w = 1.0 / (d ** 2 + 1e-6)
        field = (w @ disp) / w.sum(1, keepdims=True) * _falloff(d.min(1), radius)[:, None]
        return field if mask is None else field * mask[:, None]

    def lips(self, upper, d_upper, lower, d_lower, radius: float) -> np.ndarray:
        """Separate fields for the upper and lower lip (each masked to its side of the mouth)."""
        return (self.spread(upper, d_upper, radius, 1 - self.lower)
                + self.spread(lower, d_lower, radius, self.lower))

    def mirrored(self, field: np.ndarray) -> np.ndarray:
        return field[self.mirror] * [-1, 1, 1]


def _profile(x: np.ndarray, centre: float, width: float) -> np.ndarray:
    return _falloff(np.abs(x - centre), width)[:, None]


# ====================================================================== the 52 targets
# Amplitudes at weight 1 are those of a maximal expression (FACS intensity E); the figures and
# their sources are in docs/rig.md ("Amplitudes"). The six central inner-lip vertices
# (regions.MID_LIP_UPPER/LOWER) carry the lip-sync measures (FaceRig.mouth_opening, the lips
# loss, eval/lipsync.py): expression shapes that do not open the mouth move each central pair
# together (`_MID` anchors), and the shapes that open or close it keep their central geometry.
_MID = np.r_[R.MID_LIP_UPPER, R.MID_LIP_LOWER]


def _lip_curve(P: np.ndarray, corner, centre, upper_thin: float, lower_thin: float, part: float,
               skin, skin_disp) -> tuple[np.ndarray, np.ndarray]:
    """Handles and displacements for a left mouth-corner shape: every lip vertex (four contours
    and the corners) moves by `centre` plus `corner` times a ramp that rises from the middle
    (0 within 3 mm of the midline) to the corner (1), so the lips curve toward the moved corner;
    upper and lower vertices of one column move alike, so the lips stay closed, except that they
    part by `part` mm between the middle and the corner (0 within 6 mm of the midline, where the
    lip-sync measures sit). The outer edges also move by `upper_thin` / `lower_thin` mm (y)
    mid-way along, thinning or thickening the red of the lips; `skin` handles take `skin_disp`."""
    outer_x = (P[R.LIPS_UPPER_OUTER, 0] + P[R.LIPS_LOWER_OUTER, 0]) / 2      # paired columns share x
    inner_x = (P[R.LIPS_UPPER_INNER, 0] + P[R.LIPS_LOWER_INNER, 0]) / 2
    rows = [(R.LIPS_UPPER_OUTER, outer_x, 291, upper_thin), (R.LIPS_LOWER_OUTER, outer_x, 291, lower_thin),
            (R.LIPS_UPPER_INNER, inner_x, 308, part / 2), (R.LIPS_LOWER_INNER, inner_x, 308, -part / 2)]
    handles, disp = [[291, 308, 61, 78]], [np.r_[[corner] * 2, [np.zeros(3)] * 2]]
    for idx, x, c, thin in rows:
        u = np.clip(x / P[c, 0], -1.0, 1.0)[:, None]
        ramp = np.clip((x - 3.0) / (P[c, 0] - 3.0), 0.0, 1.0)[:, None] ** 1.7
        fade = _falloff(np.maximum(-u, 0.0), 1.0)                          # toward the other corner
        bump = np.sin(np.pi * np.clip((x[:, None] - 6.0) / (P[c, 0] - 6.0), 0, 1))
        handles.append(idx)
        disp.append(ramp * corner + (1 - ramp) * fade * centre + bump * [0.0, thin, 0.0])
    return np.r_[np.concatenate(handles), skin], np.r_[np.concatenate(disp), skin_disp]


def _left_targets(a: _Author) -> dict[str, np.ndarray]:
    """Targets of the subject's left side (+x); the right side is their mirror image."""
    P = a.P
    up, lo = R.EYE_LEFT_UPPER, R.EYE_LEFT_LOWER
    corners = R.EYE_LEFT_CORNERS
    above = a.side_of(up, lo, corners)
    below = 1 - above
    lid_gap = P[lo] - P[up]                                           # upper -> lower, per pair
    bulge = np.sin(np.linspace(0, np.pi, len(up) + 2)[1:-1])[:, None]  # 0 at corners, 1 mid-lid
    zero = np.zeros(3)

    def eye(d_up, d_lo, r_up=10.0, r_lo=8.0):
        hu, hl = np.r_[up, corners], np.r_[lo, corners]
        du = np.r_[np.broadcast_to(d_up, (len(up), 3)), [zero, zero]]
        dl = np.r_[np.broadcast_to(d_lo, (len(lo), 3)), [zero, zero]]
        return a.spread(hu, du, r_up, above) + a.spread(hl, dl, r_lo, below)

    t: dict[str, np.ndarray] = {}
    # The lids overlap slightly at weight 1 (0.95 + 0.15 > 1) so that no sliver of the opening shows.
    t["eyeBlinkLeft"] = eye(0.95 * lid_gap + bulge * [0, 0, 1.5], -0.15 * lid_gap, r_up=14.0)
    t["eyeLookDownLeft"] = eye(bulge * [0, -2.5, 0.3], bulge * [0, -1.0, 0])
    t["eyeLookUpLeft"] = eye(bulge * [0, 1.5, 0], bulge * [0, 1.0, 0])
    t["eyeLookInLeft"] = eye(bulge * [-1.5, 0, 0], bulge * [-1.5, 0, 0])
    t["eyeLookOutLeft"] = eye(bulge * [1.5, 0, 0], bulge * [1.5, 0, 0])
    cheek_under_eye = [346, 347, 348, 349, 350]
    # AU7 at E: the lids narrow the eye by half (lower lid up over the iris, upper lid down a little).
    t["eyeSquintLeft"] = (eye(bulge * [0, -0.8, 0], bulge * [0, 2.4, 0.4])
                          + a.spread(cheek_under_eye[:3], [0, 2.5, 0.8], 14.0, below))
    # AU5 at E: the upper lid retracts 4.5 mm, baring sclera above the iris.
    t["eyeWideLeft"] = eye(bulge * [0, 4.5, 0.6], bulge * [0, -0.8, 0], r_up=16.0)

    t["jawLeft"] = a.lower[:, None] * [7.0, 0, 0]

    # Mouth. Corner handles move; the other corner and the lip midline anchor the field.
    cl = [291, 308]
    anchors = [61, 78, 0, 17, *_MID]
    held = lambda d: [[0, 0, 0]] * 2 + [d] * (2 + len(_MID))       # noqa: E731 - other corner still
    # AU12 at E: the corner 14 mm up and out at about 55 degrees and 4.5 mm back round the teeth;
    # the lips curve up toward it and part 3 mm beside the middle (closed at the middle), the
    # lower lip thins, the middle rises 1.5 mm, and the cheek beside the nose bulges up and forward.
    nasolabial = [425, 426, 436, 427, 411, 287, 410]
    t["mouthSmileLeft"] = a.spread(*_lip_curve(P, [7.5, 11.0, -4.5], [0, 0.5, -0.3], -1.0, 3.0, 4.0, nasolabial,
                                               [[2.5, 6.0, 3.5], [1.5, 4.5, 3.0], [3.0, 5.0, 2.5], [3.0, 6.5, 3.0],
                                                [1.5, 4.5, 2.0], [5.0, 7.0, -2.0], [4.0, 7.5, 0.5]]), 30.0)
    # AU15 at E: the corner 9 mm down, the lips arched down toward it; the skin below it follows.
    t["mouthFrownLeft"] = a.spread(*_lip_curve(P, [2.0, -9.0, -1.5], [0, -0.8, 0], 0.0, -1.0, 0.0, [287, 432],
                                               [[1.5, -8.0, -1.2], [1.0, -5.5, -1.0]]), 25.0)
    # AU14 at E: the corner 6 mm back into the cheek.
    t["mouthDimpleLeft"] = a.spread(cl + anchors, [[4.0, 1.0, -6.5]] * 2 + held([0.5, 0, -0.5]), 18.0)
    lower_left = [314, 405, 321, 317, 402, 318]
    # AU20 at E: the corner 8 mm outward; the lower lip beside it pulled down (its inner edge as before).
    t["mouthStretchLeft"] = a.spread(cl + [61, 78, 0, 17, 13, 14] + lower_left,
                                     [[8.0, -3.0, -2.0]] * 2 + [[0, 0, 0]] * 6 + [[1.5, -2, -0.5]] * 6, 25.0)

    upper_lip = np.r_[R.LIPS_UPPER_OUTER, R.LIPS_UPPER_INNER]
    lower_lip = np.r_[R.LIPS_LOWER_OUTER, R.LIPS_LOWER_INNER]
    left_half = lambda idx: _profile(P[idx, 0], 11.0, 16.0)          # noqa: E731
    # AU24 at E: the red of each lip thins by about 40 % (outer edges toward the contact line); the
    # inner edges stay in contact, both pressed 1.5 mm back (moving them toward each other made
    # them cross, which the lip gap reads as the lips parting: sealed p/b/m of an angry face opened).
    # The inner contours are matched pairs (upper k meets lower k): one profile for both.
    inner_half = _profile((P[R.LIPS_UPPER_INNER, 0] + P[R.LIPS_LOWER_INNER, 0]) / 2, 11.0, 16.0) * [0, 0, -1.5]
    t["mouthPressLeft"] = a.lips(
        upper_lip, np.r_[left_half(R.LIPS_UPPER_OUTER) * [0, -4.5, -2.5], inner_half],
        lower_lip, np.r_[left_half(R.LIPS_LOWER_OUTER) * [0, 5.0, -2.5], inner_half],
        8.0)
    # AU16 / AU10 at E: the lip as before, and the skin beside it: chin corner down, nasolabial up.
    t["mouthLowerDownLeft"] = (a.spread(lower_lip, left_half(lower_lip) * [0, -5, 0.5], 12.0, a.lower)
                               + a.spread([287, 432, 273, 335, 406], [0, -3.0, 0.5], 12.0, a.lower))
    t["mouthUpperUpLeft"] = (a.spread(upper_lip, left_half(upper_lip) * [0, 5, 0.5], 12.0, 1 - a.lower)
                             + a.spread([425, 426, 436, 358], [0.5, 3.0, 1.0], 12.0, 1 - a.lower))

    # AU4 at E: the inner brow 8.5 mm down and 4 mm toward the nose, the outer end 3.5 mm down.
    t["browDownLeft"] = a.spread(np.r_[R.BROW_LEFT_UPPER, R.BROW_LEFT_LOWER, [9, 8]],
                                 np.r_[np.tile(np.linspace([0, -3.5, 0], [-4.0, -8.5, 1.0], 5), (2, 1)),
                                       [[0, -2.5, 0.8], [0, -1.0, 0.5]]], 18.0)
    # AU2 at E: the outer brow 11 mm up.
    t["browOuterUpLeft"] = a.spread(np.r_[R.BROW_LEFT_UPPER, R.BROW_LEFT_LOWER],
                                    np.tile(np.linspace([0, 11, 0], [0, 0, 0], 5), (2, 1)), 24.0)
    # AU6 at E: the cheek under the eye 7 mm up (and forward), bunching the lower lid up.
    t["cheekSquintLeft"] = (a.spread(cheek_under_eye, [0, 7.0, 2.5], 15.0, below)
                            + a.spread(lo, bulge * [0, 2.0, 0.3], 6.0, below))
    # AU9 at E: the nose wing and the skin beside it 6.5 mm up; the inner brow drawn down a little.
    t["noseSneerLeft"] = (a.spread(np.r_[R.NOSE_WING_LEFT, [437, 343, 425]], [0.5, 6.5, 1.0], 14.0, 1 - a.lower)
                          + a.spread(R.BROW_LEFT_LOWER[3:], [-1.0, -2.5, 0.5], 12.0))
    return t


def _symmetric_targets(a: _Author) -> dict[str, np.ndarray]:
    P = a.P
    t: dict[str, np.ndarray] = {}
    t["jawForward"] = a.lower[:, None] * [0, 0, 6.0]
    upper_outer, upper_inner = R.LIPS_UPPER_OUTER, R.LIPS_UPPER_INNER
    lower_outer, lower_inner = R.LIPS_LOWER_OUTER, R.LIPS_LOWER_INNER
    corners = [61, 78, 291, 308]
    inward = np.sign(P[corners, 0])[:, None] * [-1, 0, 0]                # toward the midline
    mid = lambda idx: _profile(P[idx, 0], 0.0, 24.0)                     # noqa: E731

    def both(u_idx, d_u, l_idx, d_l, d_corner, radius):
        # Corners belong to both lips: they join each side's handles.
        return a.lips(np.r_[u_idx, corners], np.r_[d_u, d_corner],
                      np.r_[l_idx, corners], np.r_[d_l, d_corner], radius)

    upper_lip, lower_lip = np.r_[upper_outer, upper_inner], np.r_[lower_outer, lower_inner]
    # AU22 at E: both lips flare 7 mm forward and part into a funnel; corners 4 mm in.
    t["mouthFunnel"] = both(upper_lip, mid(upper_lip) * [0, 3.5, 7.0], lower_lip, mid(lower_lip) * [0, -3.5, 7.0],
                            inward * 4 + [0, 0, 2], 12.0)
    squeeze = lambda idx: np.c_[-0.35 * P[idx, 0], np.zeros((len(idx), 2))]  # noqa: E731 - lips gather to the midline
    # AU18 at E: lips 10 mm forward, the mouth a third narrower.
    t["mouthPucker"] = both(upper_lip, mid(upper_lip) * [0, -0.8, 10.0] + squeeze(upper_lip),
                            lower_lip, mid(lower_lip) * [0, 0.8, 10.0] + squeeze(lower_lip),
                            inward * 9 + [0, 0, 4], 15.0)
    t["mouthLeft"] = a.spread(np.r_[R.LIPS_OUTER, R.LIPS_INNER], [9.0, 0, 0], 20.0)
    # AU28 at E: the red of the lip rolls in over the teeth about its inner edge, which stays where
    # the lips meet (so a roll during a p/b/m keeps them sealed).
    t["mouthRollLower"] = a.spread(np.r_[lower_outer, lower_inner],
                                   np.r_[mid(lower_outer) * [0, 5.0, -5.5], mid(lower_inner) * [0, 0, 0]], 7.0, a.lower)
    t["mouthRollUpper"] = a.spread(np.r_[upper_outer, upper_inner],
                                   np.r_[mid(upper_outer) * [0, -3.5, -5.0], mid(upper_inner) * [0, 0, 0]], 8.0, 1 - a.lower)
    # AU17 at E: the chin boss 5 mm up and forward, pushing the lower lip up (its inner edge as before).
    chin = [18, 200, 199, 175]
    t["mouthShrugLower"] = a.spread(np.r_[lower_lip, chin], np.r_[[[0, 3.0, 1.5]] * len(lower_lip), [[0, 5.0, 3.0]] * 4],
                                    22.0, a.lower)
    t["mouthShrugUpper"] = a.spread(upper_lip, mid(upper_lip) * [0, 2.5, 2.0], 10.0, 1 - a.lower)
    inner_brows = np.r_[R.BROW_LEFT_UPPER[3:], R.BROW_LEFT_LOWER[3:], R.BROW_RIGHT_UPPER[3:], R.BROW_RIGHT_LOWER[3:]]
    outer_brows = np.r_[R.BROW_LEFT_UPPER[:2], R.BROW_LEFT_LOWER[:2], R.BROW_RIGHT_UPPER[:2], R.BROW_RIGHT_LOWER[:2]]
    # AU1 at E: the inner brows 11 mm up, the forehead above them follows.
    t["browInnerUp"] = a.spread(np.r_[inner_brows, outer_brows],
                                [[0, 11.0, 0.5]] * len(inner_brows) + [[0, 0, 0]] * len(outer_brows), 22.0)
    cheeks = [207, 427, 187, 411, 206, 426]
    t["cheekPuff"] = a.spread(cheeks, np.sign(P[cheeks, 0])[:, None] * [8, 0, 0] + [0, -1, 4], 26.0,
                              1 - _falloff(np.abs(P[:, 0]), 20.0))
    t["tongueOut"] = a.spread(lower_lip, mid(lower_lip) * [0, -3, 3], 10.0, a.lower)
    return t


def _close_lips(a: _Author) -> np.ndarray:
    """Displacement that closes the canonical mesh's parted lips: each inner-lip pair meets halfway."""
    P = a.P
    half = (P[R.LIPS_LOWER_INNER] - P[R.LIPS_UPPER_INNER]) / 2
    return a.lips(R.LIPS_UPPER_INNER, half, R.LIPS_LOWER_INNER, -half, 6.0)


# ====================================================================== the rig
class FaceRig:
    """Neutral (468,3) mm, deltas (52,468,3), triangles (open mouth and eyes), uvs, jaw hinge."""

    def __init__(self, neutral: np.ndarray, deltas: np.ndarray, triangles: np.ndarray,
                 fill_triangles: np.ndarray, uvs: np.ndarray, jaw_weight: np.ndarray,
                 hinge: np.ndarray = HINGE, jaw_max_deg: float = JAW_MAX_DEG,
                 neck_pivot: np.ndarray = NECK_PIVOT):
        self.neutral = neutral.astype(np.float32)
        self.deltas = deltas.astype(np.float32)
        self.triangles = triangles
        self.fill_triangles = fill_triangles
        self.uvs = uvs
        self.jaw_weight = jaw_weight.astype(np.float32)
        self.hinge = np.asarray(hinge, np.float32)
        self.jaw_max = np.deg2rad(jaw_max_deg)
        self.neck_pivot = np.asarray(neck_pivot, np.float32)
        # decode(): linear targets before the hinge (they ride on the jaw), mouthClose after it.
        self._jaw, self._close = INDEX["jawOpen"], INDEX["mouthClose"]
        pre = np.ones(NUM_BLENDSHAPES, bool)
        pre[[self._jaw, self._close]] = False
        self._pre = np.flatnonzero(pre)
        self._pre_deltas = self.deltas[self._pre].reshape(len(self._pre), -1)

    @classmethod
    @functools.lru_cache(maxsize=1)
    def default(cls) -> "FaceRig":
        """The project's rig, built from the canonical mesh (cached)."""
        P, uvs, tris = canonical_mesh()
        a = _Author(P)
        fields = {**_symmetric_targets(a)}
        for name, field in _left_targets(a).items():
            fields[name] = field
            fields[name[:-4] + "Right"] = a.mirrored(field)
        fields["jawRight"] = a.mirrored(fields["jawLeft"])
        fields["mouthRight"] = a.mirrored(fields["mouthLeft"])
        neutral = (a.P + _close_lips(a)).astype(np.float32)
        deltas = np.zeros((NUM_BLENDSHAPES, len(P), 3), np.float32)
        for name, field in fields.items():
            deltas[INDEX[name]] = field
        open_tris, fill = _split_fill(tris)
        rig = cls(neutral, deltas, open_tris, fill, uvs, a.lower)
        # jawOpen: the hinge at weight 1, linearised; mouthClose cancels it on the lower lip.
        jaw_delta = rig._hinge(neutral[None], np.ones(1, np.float32))[0] - neutral
        # The whole lower lip comes back (it keeps its shape); the skin below it stretches.
        lower_lip = np.r_[R.LIPS_LOWER_INNER, R.LIPS_LOWER_OUTER]
        to_lip = np.linalg.norm(a.P[:, None] - a.P[lower_lip][None], axis=-1).min(1)
        lip_zone = _falloff(np.maximum(to_lip - 3.0, 0.0), 14.0)
        rig.deltas[INDEX["jawOpen"]] = jaw_delta
        rig.deltas[INDEX["mouthClose"]] = -jaw_delta * (lip_zone * a.lower)[:, None]
        missing = set(ARKIT_NAMES) - set(fields) - {"jawOpen", "mouthClose"}
        assert not missing, missing
        return rig

    # ------------------------------------------------------------------ decoding
    def _hinge(self, V: np.ndarray, jaw: np.ndarray) -> np.ndarray:
        """Rotate each vertex about the hinge (x axis) by jaw * jaw_max, blended by jaw_weight."""
        theta = (jaw * self.jaw_max)[:, None]
        c, s = np.cos(theta), np.sin(theta)
        y, z = V[..., 1] - self.hinge[1], V[..., 2] - self.hinge[2]
        out = V.copy()
        # Positive angle about +x carries points in front of the hinge downward.
        out[..., 1] += self.jaw_weight * (y * c - z * s - y)
        out[..., 2] += self.jaw_weight * (y * s + z * c - z)
        return out

    def decode_weights(self, weights: np.ndarray, head: np.ndarray | None = None) -> np.ndarray:
        """(T,52) weights [+ (T,3) head pitch/yaw/roll radians] -> (T,468,3) float32 vertices in mm."""
        w = np.asarray(weights, np.float32)
        if w.ndim != 2 or w.shape[1] != NUM_BLENDSHAPES:
            raise ValueError(f"weights must be (T, {NUM_BLENDSHAPES}), got {w.shape}")
        T = len(w)
        V = (w[:, self._pre] @ self._pre_deltas).reshape(T, -1, 3)
        V += self.neutral
        head = np.zeros((T, 3), np.float32) if head is None else np.asarray(head, np.float32)
        Rm = head_rotation(head).astype(np.float32)
        return _hinge_close_rotate(V, (w[:, self._jaw] * self.jaw_max).astype(np.float32),
                                   np.ascontiguousarray(w[:, self._close]), self.jaw_weight,
                                   self.deltas[self._close], np.float32(self.hinge[1]), np.float32(self.hinge[2]),
                                   Rm, self.neck_pivot)

    def decode(self, motion: FaceMotion) -> np.ndarray:
        """FaceMotion -> (T,468,3) float32 vertices in mm, head rotation applied."""
        return self.decode_weights(motion.weights, motion.head)

    def mouth_opening(self, motion: FaceMotion) -> np.ndarray:
        """(T,) inner-lip gap in mm (head rotation does not change it, so it is not applied)."""
        return R.mouth_opening(self.decode_weights(motion.weights))


@numba.njit(cache=True, fastmath=True)
def _hinge_close_rotate(V, jaw_angle, close_w, jaw_weight, close_delta, hinge_y, hinge_z, R, pivot):
    """In place, per vertex: jaw hinge (as `_hinge`), then mouthClose, then head rotation about the
    neck pivot. One fused pass: numpy's temporaries made decode 4x slower."""
    for t in range(V.shape[0]):
        c, s, cw, r = np.cos(jaw_angle[t]) - 1.0, np.sin(jaw_angle[t]), close_w[t], R[t]
        for v in range(V.shape[1]):
            x, y, z = V[t, v, 0], V[t, v, 1], V[t, v, 2]
            jw = jaw_weight[v]
            if jw != 0.0:
                yy, zz = y - hinge_y, z - hinge_z
                y += jw * (yy * c - zz * s)
                z += jw * (yy * s + zz * c)
            x += cw * close_delta[v, 0] - pivot[0]
            y += cw * close_delta[v, 1] - pivot[1]
            z += cw * close_delta[v, 2] - pivot[2]
            V[t, v, 0] = r[0, 0] * x + r[0, 1] * y + r[0, 2] * z + pivot[0]
            V[t, v, 1] = r[1, 0] * x + r[1, 1] * y + r[1, 2] * z + pivot[1]
            V[t, v, 2] = r[2, 0] * x + r[2, 1] * y + r[2, 2] * z + pivot[2]
    return V


def head_rotation(head: np.ndarray) -> np.ndarray:
    """(T,3) pitch, yaw, roll radians -> (T,3,3) rotation matrices Ry(yaw) @ Rx(pitch) @ Rz(roll)."""
    p, y, r = (head[:, i] for i in range(3))
    cp, sp, cy, sy, cr, sr = np.cos(p), np.sin(p), np.cos(y), np.sin(y), np.cos(r), np.sin(r)
    one, zero = np.ones_like(p), np.zeros_like(p)
    Rx = np.stack([one, zero, zero, zero, cp, -sp, zero, sp, cp], -1).reshape(-1, 3, 3)
    Ry = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(-1, 3, 3)
    Rz = np.stack([cr, -sr, zero, sr, cr, zero, zero, zero, one], -1).reshape(-1, 3, 3)
    return Ry @ Rx @ Rz
