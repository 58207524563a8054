"""The rest of the preview head: eyeballs, teeth, tongue, mouth interior, skull, hair and neck.

The FaceRig's 468 MediaPipe vertices are a mask: capture and the lip-gap loss depend on exactly
those, so the rest of the head is a set of separate meshes in the rig's frame (mm, y up, +z toward
the viewer, the subject's left at +x), posed from the same FaceMotion:

    eyeballs   rotate about their centres with the gaze (yaw = (out - in) * 30 deg, pitch =
               (down - up) * 30 deg per eye, as the Live Link CSV's eye angles); the lids already
               follow the gaze through the eyeLook* targets of the rig
    upper teeth, skull, hair, the cavity's roof   ride on the head
    lower teeth, tongue, the cavity's floor       ride on the jaw: jawForward / jawLeft / jawRight
               shift them as they shift the chin, then the rig's hinge turns them by jawOpen
    tongue     tongueOut pushes its tip out past the lips
    neck       turns with half the head rotation (the rest is in the neck's lower joints)

Sizes are adult averages: eyeball 24 mm across, iris 11.5 mm, pupil 3.5 mm; incisors about 10 mm
tall. The eyeballs are set just behind the lid contours so that closed lids cover them.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from . import regions as R
from .arkit import INDEX
from .rig import FaceRig, head_rotation

EYE_RADIUS = 12.0
IRIS_RADIUS = 5.75
PUPIL_RADIUS = 1.75
EYE_MAX_RAD = np.deg2rad(30.0)       # eyeLook* = 1 turns the eye this far (as the Live Link CSV)
TONGUE_OUT_MM = 30.0

SCLERA = (0.92, 0.90, 0.86)
IRIS = (0.32, 0.22, 0.14)
PUPIL = (0.03, 0.03, 0.03)
TEETH = (0.93, 0.90, 0.82)
TONGUE = (0.74, 0.36, 0.36)
CAVITY = (0.20, 0.06, 0.06)
GUMS = (0.66, 0.30, 0.30)
SKIN = (0.86, 0.66, 0.55)            # the default texture's skin (render/paint.py SKIN_RGB / 255)
HAIR = (0.20, 0.14, 0.10)

# How each part moves: with the head, the jaw, one eye, the tongue (jaw + tongueOut) or the neck.
FOLLOWS = ("head", "jaw", "eye_left", "eye_right", "tongue", "neck")


@dataclasses.dataclass
class Part:
    name: str
    vertices: np.ndarray        # (V, 3) mm at rest
    triangles: np.ndarray       # (F, 3) counter-clockwise seen from outside
    colour: tuple[float, float, float]
    follows: str
    lit: bool = True


# ====================================================================== primitive shapes
def ellipsoid(centre, radii, rings: int = 16, segments: int = 24, polar_axis: int = 2,
              cap: float = np.pi) -> tuple[np.ndarray, np.ndarray]:
    """A UV ellipsoid around `polar_axis` (its pole at +axis); `cap` < pi keeps only the polar
    angles below it (a bowl or a cap). Triangles wind outward."""
    phis = np.linspace(0, cap, rings + 1)
    ths = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ph, th = np.meshgrid(phis[1:], ths, indexing="ij")
    local = np.stack([np.sin(ph) * np.cos(th), np.sin(ph) * np.sin(th), np.cos(ph)], -1).reshape(-1, 3)
    local = np.r_[[[0.0, 0.0, 1.0]], local]
    unit = {2: local, 1: np.stack([local[:, 0], local[:, 2], -local[:, 1]], 1),      # the pole on polar_axis
            0: np.stack([local[:, 2], local[:, 0], local[:, 1]], 1)}[polar_axis]
    verts = unit * np.asarray(radii, float) + np.asarray(centre, float)
    ring = lambda i, j: 1 + i * segments + j % segments                    # noqa: E731
    tris = [[0, ring(0, j), ring(0, j + 1)] for j in range(segments)]
    for i in range(rings - 1):
        for j in range(segments):
            a, b, c, d = ring(i, j), ring(i, j + 1), ring(i + 1, j), ring(i + 1, j + 1)
            tris += [[a, c, b], [b, c, d]]
    tris = np.asarray(tris, np.int32)
    # The pole ordering above winds outward for polar axis z; check and flip if not.
    a, b, c = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
    outward = np.einsum("ij,ij->i", np.cross(b - a, c - a), (a + b + c) / 3 - np.asarray(centre))
    if np.median(outward) < 0:
        tris = tris[:, [0, 2, 1]]
    return verts, tris


def _curved_box(arch_x: np.ndarray, arch_z: np.ndarray, y0: float, y1: float, depth: float) -> tuple[np.ndarray, np.ndarray]:
    """A box bent along an arch in the x-z plane (front face on the arch, `depth` mm behind it),
    from height y0 to y1: one tooth."""
    t = np.stack([np.gradient(arch_x), np.gradient(arch_z)], 1)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    inward = np.stack([t[:, 1], -t[:, 0]], 1)            # toward the inside of the arch (-z at the front)
    if inward[len(inward) // 2, 1] > 0:
        inward = -inward
    rows = []
    for dz in (0.0, depth):
        for y in (y0, y1):
            rows.append(np.stack([arch_x + inward[:, 0] * dz, np.full_like(arch_x, y), arch_z + inward[:, 1] * dz], 1))
    n = len(arch_x)
    verts = np.concatenate(rows)                         # 4 strips: front-bottom, front-top, back-bottom, back-top
    idx = lambda s, i: s * n + i                         # noqa: E731
    tris = []
    for s0, s1 in ((0, 1), (1, 3), (3, 2), (2, 0)):      # front, top, back, bottom
        for i in range(n - 1):
            tris += [[idx(s0, i), idx(s0, i + 1), idx(s1, i)], [idx(s0, i + 1), idx(s1, i + 1), idx(s1, i)]]
    for i in (0, n - 1):                                 # end caps
        tris += [[idx(0, i), idx(1, i), idx(3, i)], [idx(0, i), idx(3, i), idx(2, i)]]
    tris = np.asarray(tris, np.int32)
    centre = verts.mean(0)
    a, b, c = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
    flip = np.einsum("ij,ij->i", np.cross(b - a, c - a), (a + b + c) / 3 - centre) < 0
    tris[flip] = tris[flip][:, [0, 2, 1]]
    return verts, tris


def _merge(pieces: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    verts, tris, n = [], [], 0
    for v, t in pieces:
        verts.append(v)
        tris.append(t + n)
        n += len(v)
    return np.concatenate(verts), np.concatenate(tris)


# ====================================================================== the parts
def _eye(rig: FaceRig, loop: np.ndarray, side: str) -> tuple[list[Part], np.ndarray]:
    """Sclera, iris and pupil of one eye, and the eye's centre."""
    P = rig.neutral
    ring = P[loop]
    centre_xy = ring[:, :2].mean(0)
    # Deep enough that the sphere stays 1 mm behind every lid-contour vertex and the lids' skin.
    lid_zone = np.linalg.norm(P[:, :2] - centre_xy, axis=1) < 16.0
    d2 = ((P[lid_zone, :2] - centre_xy) ** 2).sum(1)
    inside = d2 < EYE_RADIUS ** 2
    cz = float(np.min(P[lid_zone][inside, 2] - np.sqrt(EYE_RADIUS ** 2 - d2[inside]))) - 1.0
    centre = np.array([centre_xy[0], centre_xy[1], cz])
    verts, tris = ellipsoid(centre, [EYE_RADIUS] * 3, rings=24, segments=32)
    # Colour by the angle from the eye's forward axis (+z): pupil, iris, sclera.
    cos = (verts[tris].mean(1) - centre)[:, 2] / EYE_RADIUS
    ang = np.arccos(np.clip(cos, -1, 1))
    pupil = ang < np.arcsin(PUPIL_RADIUS / EYE_RADIUS)
    iris = ~pupil & (ang < np.arcsin(IRIS_RADIUS / EYE_RADIUS))
    follows = f"eye_{side}"
    parts = [Part(f"{follows}_{name}", verts, tris[mask], colour, follows)
             for name, mask, colour in (("sclera", ~pupil & ~iris, SCLERA), ("iris", iris, IRIS), ("pupil", pupil, PUPIL))]
    return parts, centre


def _teeth(rig: FaceRig) -> list[Part]:
    """Upper and lower rows of teeth on an arch behind the lips; gums above / below them."""
    P = rig.neutral
    mouth_y = float(P[R.LIPS_INNER, 1].mean())
    front_z = float(P[[R.UPPER_LIP_MID, R.LOWER_LIP_MID], 2].min()) - 4.0      # behind the lips
    corner_x = float(np.abs(P[[R.INNER_CORNER_LEFT, R.INNER_CORNER_RIGHT], 0]).mean())
    half_width, depth_back = corner_x + 1.0, 24.0
    widths = [4.3, 3.4, 4.0, 3.6, 3.6, 4.6]               # incisors, canine, premolars, molar (mm of arch)
    parts = []
    for row, (top, bottom, colour_y, z_shift) in {
            "upper": (mouth_y + 10.0, mouth_y - 0.6, 1.0, 0.0),
            "lower": (mouth_y - 1.0, mouth_y - 10.0, -1.0, -1.6)}.items():
        def arch(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            # A parabola-like arch: x = s * half_width, z falls off toward the back.
            return s * half_width, front_z + z_shift - depth_back * np.abs(s) ** 1.8
        pieces = []
        edges = np.cumsum([0.0, *widths]) / sum(widths)
        for side in (-1, 1):
            for k in range(len(widths)):
                s = np.linspace(edges[k] + 0.012, edges[k + 1] - 0.012, 4) * side
                x, z = arch(s)
                length = 1.0 - 0.15 * k / len(widths)
                y0, y1 = (bottom, bottom + (top - bottom) * length) if row == "upper" else (top - (top - bottom) * length, top)
                pieces.append(_curved_box(x, z, y0, y1, 5.0 + 1.2 * k))
        v, t = _merge(pieces)
        follows = "head" if row == "upper" else "jaw"
        parts.append(Part(f"teeth_{row}", v, t, TEETH, follows))
        # Gums: a band beyond the teeth's root ends, a little behind their front.
        s = np.linspace(-1, 1, 41)
        x, z = arch(s)
        gy = (top, top + 5.0) if row == "upper" else (bottom - 5.0, bottom)
        gv, gt = _curved_box(x, z - 0.8, gy[0], gy[1], 8.0)
        parts.append(Part(f"gums_{row}", gv, gt, GUMS, follows))
    return parts


def _mouth(rig: FaceRig) -> list[Part]:
    """A dark bowl behind the teeth (open toward the lips; its floor rides on the jaw) and the tongue."""
    P = rig.neutral
    mouth_y = float(P[R.LIPS_INNER, 1].mean())
    front_z = float(P[[R.UPPER_LIP_MID, R.LOWER_LIP_MID], 2].min())
    centre = np.array([0.0, mouth_y - 2.0, front_z - 20.0])
    bv, bt = ellipsoid(centre, [24.0, 16.0, 26.0], rings=14, segments=28, polar_axis=2, cap=np.pi)
    keep = bv[:, 2] <= centre[2] + 10.0              # stays behind the skin around the lips
    # Keep the back of the bowl (everything but a window toward the lips), inner side out.
    bt = bt[keep[bt].all(1)][:, [0, 2, 1]]
    roof = Part("cavity_roof", bv, bt[bv[bt].mean(1)[:, 1] >= mouth_y - 1.0], CAVITY, "head", lit=False)
    floor = Part("cavity_floor", bv, bt[bv[bt].mean(1)[:, 1] < mouth_y - 1.0], CAVITY, "jaw", lit=False)
    tv, tt = ellipsoid([0.0, mouth_y - 9.5, front_z - 26.0], [16.0, 5.5, 18.0], rings=14, segments=24)   # behind the teeth
    return [roof, floor, Part("tongue", tv, tt, TONGUE, "tongue")]


def _shell(rig: FaceRig) -> list[Part]:
    """Skull and hair behind the face mask, and the neck under it."""
    P = rig.neutral
    top_y, ear_x = float(P[:, 1].max()), float(P[:, 0].max())
    # The cranium: wide as the mask at the ears, reaching just under the forehead's top edge.
    centre = np.array([0.0, 8.0, -18.0])
    radii = np.array([ear_x - 2.0, top_y - 8.0 + 10.0, 96.0])
    sv, st = ellipsoid(centre, radii, rings=28, segments=40, polar_axis=1)
    # Narrower toward the face (an egg seen from above), so that it stays inside the mask's sides.
    sv[:, 0] *= 1 - 0.2 * np.clip((sv[:, 2] + 10.0) / 35.0, 0, 1)
    # Only behind the face: the part of the ellipsoid the mask does not cover.
    keep = ~((sv[:, 2] > 10.0) & (sv[:, 1] < top_y - 12.0))
    st = st[keep[st].all(1)]
    skull = Part("skull", sv, st, SKIN, "head")
    # Hair: a slightly larger cap over the top and back, its hairline at the top of the forehead.
    hv, ht = ellipsoid(centre + [0, 3.0, -3.0], radii + [5.0, 8.0, 7.0], rings=64, segments=96, polar_axis=1)
    hv[:, 0] *= 1 - 0.2 * np.clip((hv[:, 2] + 10.0) / 35.0, 0, 1)
    # Hairline: along the mask's top edge at the front, above the ears at the sides, the nape at the back.
    hairline = top_y - 10.0 - 0.75 * np.maximum(25.0 - hv[:, 2], 0)
    above = hv[:, 1] > np.maximum(hairline, -45.0)
    hair = Part("hair", hv, ht[above[ht].all(1)], HAIR, "head")
    neck_v, neck_t = ellipsoid([0.0, -140.0, -30.0], [52.0, 95.0, 50.0], rings=20, segments=32, polar_axis=1)
    neck = Part("neck", neck_v, neck_t, SKIN, "neck")
    return [skull, hair, neck]


# ====================================================================== posing
def gaze_angles(weights: np.ndarray) -> dict[str, np.ndarray]:
    """(T,52) -> {'left', 'right'}: (T,2) yaw, pitch in radians (yaw > 0 toward the subject's left,
    pitch > 0 down), the Live Link CSV's eye angles."""
    w = lambda n: np.asarray(weights)[:, INDEX[n]]                              # noqa: E731
    return {"left": np.stack([w("eyeLookOutLeft") - w("eyeLookInLeft"),
                              w("eyeLookDownLeft") - w("eyeLookUpLeft")], 1) * EYE_MAX_RAD,
            "right": np.stack([w("eyeLookInRight") - w("eyeLookOutRight"),
                               w("eyeLookDownRight") - w("eyeLookUpRight")], 1) * EYE_MAX_RAD}


class HeadParts:
    """The extra meshes of the preview head, concatenated, and how to pose them from weights."""

    def __init__(self, rig: FaceRig, parts: list[Part], eye_centres: dict[str, np.ndarray]):
        self.rig = rig
        self.parts = parts
        offsets = np.cumsum([0] + [len(p.vertices) for p in parts])
        self.vertices = np.concatenate([p.vertices for p in parts]).astype(np.float32)
        self.groups = [(p.triangles + o, p.colour, p.lit, p.name) for p, o in zip(parts, offsets)]
        self.triangles = np.concatenate([g[0] for g in self.groups]).astype(np.int32)
        self.follows = {f: np.concatenate([np.arange(o, o + len(p.vertices)) for p, o in zip(parts, offsets)
                                           if p.follows == f] or [np.zeros(0, int)]) for f in FOLLOWS}
        self.eye_centres = eye_centres
        # The jaw's linear shifts, read off the rig at the chin so that teeth move with the chin.
        self.jaw_shift = {n: rig.deltas[INDEX[n], R.CHIN].astype(np.float64)
                          for n in ("jawForward", "jawLeft", "jawRight")}
        tongue = self.vertices[self.follows["tongue"]]
        z0, z1 = tongue[:, 2].min(), tongue[:, 2].max()
        self._tip = np.clip((tongue[:, 2] - z0) / (z1 - z0), 0, 1) ** 1.5       # 0 at the root, 1 at the tip

    @classmethod
    @functools.lru_cache(maxsize=1)
    def default(cls) -> "HeadParts":
        rig = FaceRig.default()
        left, cl = _eye(rig, R.EYE_LEFT, "left")
        right, cr = _eye(rig, R.EYE_RIGHT, "right")
        parts = [*_shell(rig), *_mouth(rig), *_teeth(rig), *left, *right]
        return cls(rig, parts, {"left": cl, "right": cr})

    def pose(self, weights: np.ndarray, head: np.ndarray | None = None) -> np.ndarray:
        """(T,52) weights [+ (T,3) head] -> (T, N, 3) float32 part vertices in mm. In float32 with
        batched matrix products: a preview poses 14k vertices per frame."""
        w = np.asarray(weights, np.float64)
        T = len(w)
        head = np.zeros((T, 3)) if head is None else np.asarray(head, np.float64)
        rig = self.rig
        V = np.broadcast_to(self.vertices.astype(np.float32), (T, *self.vertices.shape)).copy()
        # Eyes: turn about their centres (pitch about x, then yaw about y).
        for side, (yaw, pitch) in ((s, g.T) for s, g in gaze_angles(w).items()):
            _rotate(V, self.follows[f"eye_{side}"], head_rotation(np.stack([pitch, yaw, np.zeros(T)], 1)),
                    self.eye_centres[side])
        # Tongue out: the tip slides forward and a little down; the root stays.
        idx = self.follows["tongue"]
        out = (w[:, INDEX["tongueOut"], None] * self._tip[None]).astype(np.float32)
        V[:, idx, 2] += TONGUE_OUT_MM * out
        V[:, idx, 1] -= 3.0 * out
        # Jaw: the chin's shifts, then the hinge (as the rig's lower face).
        jaw_idx = np.r_[self.follows["jaw"], idx]
        shift = sum(w[:, INDEX[n], None] * d for n, d in self.jaw_shift.items())
        V[:, jaw_idx] += shift[:, None].astype(np.float32)
        theta = w[:, INDEX["jawOpen"]] * rig.jaw_max
        c, s = np.cos(theta), np.sin(theta)
        one, zero = np.ones(T), np.zeros(T)
        hinge = np.stack([one, zero, zero, zero, c, -s, zero, s, c], -1).reshape(T, 3, 3)   # about x
        _rotate(V, jaw_idx, hinge, np.array([0.0, rig.hinge[1], rig.hinge[2]]))
        # Head about the neck pivot; the neck takes half of it.
        neck = self.follows["neck"]
        neck_rest = V[:, neck]
        pivot = rig.neck_pivot.astype(np.float32)
        V -= pivot
        V = np.matmul(V, head_rotation(head).transpose(0, 2, 1).astype(np.float32), out=V)
        V += pivot
        V[:, neck] = neck_rest
        _rotate(V, neck, head_rotation(head * 0.5), pivot)
        return V


def _rotate(V: np.ndarray, idx: np.ndarray, rotations: np.ndarray, centre: np.ndarray) -> None:
    """V[:, idx] turned in place by per-frame `rotations` (T,3,3) about `centre`."""
    c = np.asarray(centre, np.float32)
    V[:, idx] = (V[:, idx] - c) @ rotations.transpose(0, 2, 1).astype(np.float32) + c
