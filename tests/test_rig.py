"""FaceRig: each target does what its ARKit name says, on the subject's correct side."""
import numpy as np
import pytest

from talkstyle.face import ARKIT_NAMES, FaceMotion
from talkstyle.face import regions as R
from talkstyle.face.rig import TARGET_DOCS, FaceRig, head_rotation


@pytest.fixture(scope="module")
def rig():
    return FaceRig.default()


def pose(rig, **weights):
    w = np.zeros((1, 52), np.float32)
    for name, value in weights.items():
        w[0, ARKIT_NAMES.index(name)] = value
    return rig.decode_weights(w)[0]


def test_shapes_units_and_topology(rig):
    assert rig.neutral.shape == (468, 3) and rig.deltas.shape == (52, 468, 3)
    width = rig.neutral[:, 0].max() - rig.neutral[:, 0].min()
    assert 140 < width < 170                                # millimetres
    assert len(rig.triangles) + len(rig.fill_triangles) == 898 and len(rig.fill_triangles) == 46
    assert set(TARGET_DOCS) == set(ARKIT_NAMES)            # every target is documented
    assert np.abs(rig.deltas).reshape(52, -1).max(1).min() > 0.5   # and moves something


def test_decode_is_vectorised_and_matches_frame_by_frame(rig):
    rng = np.random.default_rng(0)
    m = FaceMotion(rng.random((6, 52)) * 0.6, rng.normal(0, 0.1, (6, 3)))
    batch = rig.decode(m)
    assert batch.shape == (6, 468, 3) and batch.dtype == np.float32
    one = np.stack([rig.decode(m.slice(i, i + 1))[0] for i in range(6)])
    np.testing.assert_allclose(batch, one, atol=1e-4)


def test_jaw_opens_monotonically_and_mouth_close_closes_it(rig):
    gaps = [R.mouth_opening(pose(rig, jawOpen=w)) for w in (0, 0.25, 0.5, 1.0)]
    assert gaps[0] < 1.0 and np.all(np.diff(gaps) > 1.0) and gaps[-1] > 12
    assert R.mouth_opening(pose(rig, jawOpen=1, mouthClose=1)) < 2.0
    chin_drop = rig.neutral[R.CHIN, 1] - pose(rig, jawOpen=1)[R.CHIN, 1]
    assert chin_drop > 8
    # mouthClose moves the lower lip as a whole: its height (inner to outer midpoint) is kept,
    # while the chin stays dropped.
    closed = pose(rig, jawOpen=1, mouthClose=1)
    lip_height = lambda v: np.linalg.norm(v[17] - v[R.LOWER_LIP_MID])  # noqa: E731
    assert lip_height(closed) == pytest.approx(lip_height(rig.neutral), abs=1.5)
    assert rig.neutral[R.CHIN, 1] - closed[R.CHIN, 1] > 8


def test_blinks_close_the_named_eye_only(rig):
    n = rig.neutral
    for side, other in (("Left", "right"), ("Right", "left")):
        p = pose(rig, **{f"eyeBlink{side}": 1.0})
        assert R.eye_opening(p, side.lower()) < 0.25 * R.eye_opening(n, side.lower())
        assert R.eye_opening(p, other) == pytest.approx(R.eye_opening(n, other), abs=0.05)
    assert R.eye_opening(pose(rig, eyeWideLeft=1), "left") > R.eye_opening(n, "left") + 2


def test_smile_lifts_the_subjects_own_corner(rig):
    left_corner, right_corner = 291, 61                    # the subject's left is +x
    assert rig.neutral[left_corner, 0] > 0 > rig.neutral[right_corner, 0]
    p = pose(rig, mouthSmileLeft=1)
    assert p[left_corner, 1] - rig.neutral[left_corner, 1] > 5
    assert abs(p[right_corner, 1] - rig.neutral[right_corner, 1]) < 1
    frown = pose(rig, mouthFrownRight=1)
    assert frown[right_corner, 1] - rig.neutral[right_corner, 1] < -4


def test_targets_reach_a_maximal_expression(rig):
    """At 1.0 each target moves as far as a maximal human movement (docs/rig.md, Amplitudes):
    the smile's corner 12-15 mm (maximal smiles: 9.3 +- 2.8 mm, up to 12.1) and well above the lip
    middle, the brows 10-13 mm (maximal lift 10.6 +- 2.5 mm), the astronaut photo's smile within 1.0."""
    n = rig.neutral
    moved = lambda v, **w: np.linalg.norm(pose(rig, **w)[v] - n[v])          # noqa: E731
    assert 12 < moved(291, mouthSmileLeft=1) < 15
    smile = pose(rig, mouthSmileLeft=1, mouthSmileRight=1, cheekSquintLeft=0.5, cheekSquintRight=0.5)
    eye = np.linalg.norm(smile[263, :2] - smile[33, :2])
    lift = ((smile[13, 1] + smile[14, 1]) / 2 - (smile[61, 1] + smile[291, 1]) / 2) / eye
    assert lift < -0.097            # corners above the lip middle, beyond the astronaut photo's 0.097
    assert 10 < moved(R.BROW_LEFT_UPPER[-1], browInnerUp=1) < 13
    assert 10 < moved(R.BROW_LEFT_UPPER[0], browOuterUpLeft=1) < 13
    assert moved(R.BROW_LEFT_UPPER[-1], browDownLeft=1) > 8
    assert moved(291, mouthFrownLeft=1) > 8


def test_expressions_keep_the_lip_middle_closed(rig):
    """Shapes that do not open the mouth neither part nor cross the lips at the three central pairs
    that lip sync is measured on, alone or stacked at full strength: the lip presser and the lip
    rolls among them (lips that press or roll in stay in contact)."""
    openers = {"jawOpen", "mouthClose", "jawForward", "jawLeft", "jawRight", "mouthFunnel", "mouthPucker",
               "mouthShrugLower", "mouthShrugUpper", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
               "mouthUpperUpRight", "mouthStretchLeft", "mouthStretchRight", "tongueOut"}
    closed = [k for k, name in enumerate(ARKIT_NAMES) if name not in openers]
    w = np.zeros((len(closed) + 1, 52), np.float32)
    w[np.arange(len(closed)), closed] = 1.0
    w[-1, closed] = 1.0
    assert R.mouth_opening(rig.decode_weights(w)).max() < 0.01


def test_full_strength_folds_no_triangle(rig):
    """No expression at 1.0 turns a triangle over (a tear in the preview); the jaw's hinge and
    slides, mouthClose and the blinks fold a few small ones in the mouth and eye corners."""
    allowed = {"jawOpen", "mouthClose", "jawLeft", "jawRight", "eyeBlinkLeft", "eyeBlinkRight"}
    t = rig.triangles

    def normals(v):
        return np.cross(v[..., t[:, 1], :] - v[..., t[:, 0], :], v[..., t[:, 2], :] - v[..., t[:, 0], :])

    folded = (normals(rig.decode_weights(np.eye(52, dtype=np.float32))) * normals(rig.neutral)).sum(-1) < 0
    assert [name for name, f in zip(ARKIT_NAMES, folded) if f.any() and name not in allowed] == []


def test_brows_pucker_and_mirror_pairs(rig):
    n = rig.neutral
    inner = R.BROW_LEFT_UPPER[-1]
    assert pose(rig, browInnerUp=1)[inner, 1] - n[inner, 1] > 5
    assert pose(rig, browDownLeft=1)[inner, 1] - n[inner, 1] < -3
    p = pose(rig, mouthPucker=1)
    assert (p[R.LIPS_OUTER, 2] - n[R.LIPS_OUTER, 2]).mean() > 3       # lips forward
    assert (np.ptp(p[R.LIPS_OUTER, 0]) < np.ptp(n[R.LIPS_OUTER, 0]) - 5)  # and narrower
    mirror = n * [-1, 1, 1]
    partner = np.argmin(((n[:, None] - mirror[None]) ** 2).sum(-1), axis=1)
    for name in ("mouthSmileLeft", "eyeBlinkLeft", "browOuterUpLeft", "cheekSquintLeft"):
        a = rig.deltas[ARKIT_NAMES.index(name)]
        b = rig.deltas[ARKIT_NAMES.index(name.replace("Left", "Right"))]
        np.testing.assert_allclose(b, a[partner] * [-1, 1, 1], atol=1e-4)


def test_head_rotation_turns_the_nose(rig):
    nose = R.NOSE_TIP
    yaw = rig.decode_weights(np.zeros((1, 52)), np.array([[0, 0.3, 0]]))[0]
    assert yaw[nose, 0] > rig.neutral[nose, 0] + 10          # positive yaw: toward the subject's left
    pitch = rig.decode_weights(np.zeros((1, 52)), np.array([[0.3, 0, 0]]))[0]
    assert pitch[nose, 1] < rig.neutral[nose, 1] - 10        # positive pitch: nose down
    Rm = head_rotation(np.random.default_rng(1).normal(0, 0.4, (5, 3)))
    np.testing.assert_allclose(Rm @ Rm.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (5, 3, 3)), atol=1e-5)


def test_deltas_are_the_linear_model_at_weight_one(rig):
    # Exporters (GLB morph targets) and capture's linear fit use neutral + weights @ deltas: at
    # weight 1 of any single target, including the hinged jaw, that is exactly what decode gives.
    decoded = rig.decode_weights(np.eye(52, dtype=np.float32))
    np.testing.assert_allclose(decoded - rig.neutral, rig.deltas, atol=1e-3)
    # Half way, the hinge's arc departs from the straight line by only a little.
    half = pose(rig, jawOpen=0.5)
    assert np.abs(half - (rig.neutral + 0.5 * rig.deltas[ARKIT_NAMES.index("jawOpen")])).max() < 3.0
