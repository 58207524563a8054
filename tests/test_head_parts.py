"""The preview head's extra parts: eyes turn with the gaze, teeth and tongue ride the jaw, the mask's
468 vertices stay what they were, and the renders show them."""
import numpy as np
import pytest

from talkstyle.face import ARKIT_NAMES, FaceMotion
from talkstyle.face import regions as R
from talkstyle.face.head_parts import EYE_MAX_RAD, HeadParts
from talkstyle.face.rig import FaceRig
from talkstyle.render.renderer import Renderer

I = {n: i for i, n in enumerate(ARKIT_NAMES)}


def _weights(**kw: float) -> np.ndarray:
    w = np.zeros((1, 52))
    for k, v in kw.items():
        w[0, I[k]] = v
    return w


@pytest.fixture(scope="module")
def parts() -> HeadParts:
    return HeadParts.default()


def _part(parts: HeadParts, posed: np.ndarray, name: str) -> np.ndarray:
    """The posed vertices that the part's triangles use (eye parts share one sphere's vertices)."""
    i = [p.name for p in parts.parts].index(name)
    start = sum(len(p.vertices) for p in parts.parts[:i])
    return posed[..., start + np.unique(parts.parts[i].triangles), :]


def test_rest_pose_is_the_built_geometry_and_the_mask_is_untouched(parts):
    np.testing.assert_allclose(parts.pose(np.zeros((1, 52)))[0], parts.vertices, atol=1e-4)
    assert FaceRig.default().neutral.shape == (468, 3)      # parts are separate meshes


def test_pupils_follow_the_gaze(parts):
    rest = _part(parts, parts.pose(np.zeros((1, 52))), "eye_left_pupil")[0].mean(0)
    for name, axis, sign in (("eyeLookOutLeft", 0, 1), ("eyeLookInLeft", 0, -1),
                             ("eyeLookUpLeft", 1, 1), ("eyeLookDownLeft", 1, -1)):
        moved = _part(parts, parts.pose(_weights(**{name: 1.0})), "eye_left_pupil")[0].mean(0)
        shift = (moved - rest)[axis] * sign
        # The pupil sits ~12 mm from the centre: 30 degrees moves it ~6 mm.
        assert shift == pytest.approx(np.sin(EYE_MAX_RAD) * 11.9, abs=0.6), name
    right = _part(parts, parts.pose(_weights(eyeLookInRight=1.0)), "eye_right_pupil")[0].mean(0)
    right_rest = _part(parts, parts.pose(np.zeros((1, 52))), "eye_right_pupil")[0].mean(0)
    assert right[0] - right_rest[0] > 5.0                   # the right eye looks in: toward +x


def test_eyeballs_sit_behind_the_lids(parts):
    P = FaceRig.default().neutral
    for side, loop in (("left", R.EYE_LEFT), ("right", R.EYE_RIGHT)):
        c = parts.eye_centres[side]
        assert np.all(np.linalg.norm(P[loop] - c, axis=1) > 12.0 - 1e-3)
        # Closed lids cover the eyeball's front.
        closed = FaceRig.default().decode_weights(_weights(**{f"eyeBlink{side.title()}": 1.0}))[0]
        lid = closed[R.EYE_LEFT_UPPER if side == "left" else R.EYE_RIGHT_UPPER]
        assert np.all(lid[:, 2] > c[2] + np.sqrt(np.maximum(12.0 ** 2 - ((lid[:, :2] - c[:2]) ** 2).sum(1), 0)) - 0.5)


def test_lower_teeth_and_tongue_ride_the_jaw(parts):
    rig = FaceRig.default()
    rest = parts.pose(np.zeros((1, 52)))
    opened = parts.pose(_weights(jawOpen=1.0))
    assert np.abs(_part(parts, opened, "teeth_upper") - _part(parts, rest, "teeth_upper")).max() < 1e-4
    # Rigidly turned about the rig's hinge by the full jaw angle.
    t = np.deg2rad(20.0)
    y, z = (_part(parts, rest, "teeth_lower")[0] - [0, *rig.hinge[1:]])[:, 1:].T
    expected = np.stack([y * np.cos(t) - z * np.sin(t), y * np.sin(t) + z * np.cos(t)], 1) + rig.hinge[1:]
    np.testing.assert_allclose(_part(parts, opened, "teeth_lower")[0][:, 1:], expected, atol=1e-3)
    assert (_part(parts, rest, "teeth_lower") - _part(parts, opened, "teeth_lower"))[0, :, 1].mean() > 10.0
    tongue_out = _part(parts, parts.pose(_weights(tongueOut=1.0)), "tongue")[0]
    lips_z = rig.neutral[[R.UPPER_LIP_MID, R.LOWER_LIP_MID], 2].max()
    assert tongue_out[:, 2].max() > lips_z > _part(parts, rest, "tongue")[0][:, 2].max()
    left = _part(parts, parts.pose(_weights(jawLeft=1.0)), "teeth_lower")[0, :, 0].mean()
    assert left - _part(parts, rest, "teeth_lower")[0, :, 0].mean() == pytest.approx(
        rig.deltas[I["jawLeft"], R.CHIN, 0], abs=1e-3)


def test_head_rotation_carries_the_parts(parts):
    head = np.array([[0.0, 0.5, 0.0]])
    posed = parts.pose(np.zeros((1, 52)), head)
    # The eyes turn with the face: the left pupil keeps its place relative to the mask's eye corner.
    face = FaceRig.default().decode_weights(np.zeros((1, 52)), head)[0]
    pupil = _part(parts, posed, "eye_left_pupil")[0].mean(0)
    rest_pupil = _part(parts, parts.pose(np.zeros((1, 52))), "eye_left_pupil")[0].mean(0)
    rest_face = FaceRig.default().neutral
    np.testing.assert_allclose(np.linalg.norm(pupil - face[263]), np.linalg.norm(rest_pupil - rest_face[263]), atol=1e-3)


def test_render_shows_eyes_and_teeth():
    with Renderer(size=256, head=True) as r:
        motion = FaceMotion(np.concatenate([np.zeros((1, 52)), _weights(jawOpen=0.8)]), np.zeros((2, 3)))
        rest, opened = list(r.render_motion(motion))
    # The left eye's centre (the viewer's right) is sclera or iris, not the old dark fill.
    rig = FaceRig.default()
    from talkstyle.render.renderer import camera_matrix

    def pixel(p: np.ndarray) -> tuple[int, int]:
        clip = camera_matrix(256) @ np.r_[p, 1.0]
        ndc = clip[:3] / clip[3]
        return int((1 - ndc[1]) * 128), int((ndc[0] + 1) * 128)
    eye = pixel(rig.neutral[R.EYE_LEFT].mean(0))
    from talkstyle.render.renderer import INTERIOR

    assert np.abs(rest[eye].astype(int) - np.round(np.array(INTERIOR) * 255)).sum() > 20   # not the old hole
    assert abs(int(rest[eye][0]) - int(rest[eye][2])) < 60                                 # pupil / iris, not skin
    mouth = rig.decode_weights(_weights(jawOpen=0.8))[0][[R.UPPER_LIP_MID, R.LOWER_LIP_MID]]
    y0, y1 = sorted(pixel(m)[0] for m in mouth)
    x = pixel(mouth[0])[1]
    column = opened[y0 - 2:y1 + 3, x].astype(int)
    teeth = (column.min(1) > 100) & (column.max(1) - column.min(1) < 30)      # light and grey
    tongue_or_cavity = column[:, 0] > 2 * column[:, 1]                          # red, dark or light
    assert teeth.sum() >= 2 and tongue_or_cavity.sum() >= 4


def test_fallback_rasteriser_draws_the_parts_too():
    motion = FaceMotion(_weights(jawOpen=0.7, eyeLookOutLeft=1.0), np.array([[0.1, 0.4, 0.0]]))
    with Renderer(size=128, head=True) as a, Renderer(size=128, head=True, backend="numpy") as b:
        fa, fb = next(a.render_motion(motion)), next(b.render_motion(motion))
    assert np.abs(fa.astype(int) - fb).mean() < 8


def test_head_renderer_needs_parts():
    from talkstyle.errors import TalkstyleError

    with Renderer(size=64, head=True, backend="numpy") as r, pytest.raises(TalkstyleError, match="head parts"):
        r.render_frame(FaceRig.default().neutral)
