"""Exporters: Live Link Face CSV (header, timecodes, round trip) and GLB."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pygltflib as gl
import pytest

from talkstyle.errors import TalkstyleError
from talkstyle.export import gltf, gltf_validator, livelink
from talkstyle.face.arkit import ARKIT_NAMES, INDEX
from talkstyle.face.motion import FaceMotion
from talkstyle.face.rig import FaceRig, head_rotation

# The header row of a take recorded by the Live Link Face app (as read by Unreal, Blender and
# MotionBuilder importers); note JawRight/JawLeft and MouthRight/MouthLeft in Unreal's order.
LIVE_LINK_FACE_HEADER = (
    "Timecode,BlendShapeCount,EyeBlinkLeft,EyeLookDownLeft,EyeLookInLeft,EyeLookOutLeft,EyeLookUpLeft,"
    "EyeSquintLeft,EyeWideLeft,EyeBlinkRight,EyeLookDownRight,EyeLookInRight,EyeLookOutRight,"
    "EyeLookUpRight,EyeSquintRight,EyeWideRight,JawForward,JawRight,JawLeft,JawOpen,MouthClose,"
    "MouthFunnel,MouthPucker,MouthRight,MouthLeft,MouthSmileLeft,MouthSmileRight,MouthFrownLeft,"
    "MouthFrownRight,MouthDimpleLeft,MouthDimpleRight,MouthStretchLeft,MouthStretchRight,MouthRollLower,"
    "MouthRollUpper,MouthShrugLower,MouthShrugUpper,MouthPressLeft,MouthPressRight,MouthLowerDownLeft,"
    "MouthLowerDownRight,MouthUpperUpLeft,MouthUpperUpRight,BrowDownLeft,BrowDownRight,BrowInnerUp,"
    "BrowOuterUpLeft,BrowOuterUpRight,CheekPuff,CheekSquintLeft,CheekSquintRight,NoseSneerLeft,"
    "NoseSneerRight,TongueOut,HeadYaw,HeadPitch,HeadRoll,LeftEyeYaw,LeftEyePitch,LeftEyeRoll,"
    "RightEyeYaw,RightEyePitch,RightEyeRoll"
)


def random_motion(frames: int = 60, fps: float = 25.0, seed: int = 0) -> FaceMotion:
    rng = np.random.default_rng(seed)
    return FaceMotion(rng.uniform(0, 1, (frames, 52)), rng.uniform(-0.4, 0.4, (frames, 3)), fps)


# ---------------------------------------------------------------- CSV
def test_csv_header_is_live_link_face_exactly(tmp_path):
    path = livelink.write_csv(random_motion(), tmp_path / "take.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == LIVE_LINK_FACE_HEADER
    assert len(lines) == 61
    fields = lines[1].split(",")
    assert len(fields) == 63 and fields[0] == "00:00:00:00.000" and fields[1] == "61"


def test_csv_columns_carry_the_named_channel(tmp_path):
    m = FaceMotion.neutral(30)
    m.weights[:, INDEX["jawLeft"]] = 0.25
    m.weights[:, INDEX["mouthRight"]] = 0.75
    m.head[:, 1] = 0.1                                          # yaw
    path = livelink.write_csv(m, tmp_path / "t.csv")
    header, row = [line.split(",") for line in path.read_text().splitlines()[:2]]
    value = dict(zip(header, row))
    assert float(value["JawLeft"]) == 0.25 and float(value["JawRight"]) == 0
    assert float(value["MouthRight"]) == 0.75 and float(value["MouthLeft"]) == 0
    assert float(value["HeadYaw"]) == pytest.approx(0.1, abs=1e-6) and float(value["HeadPitch"]) == 0


@pytest.mark.parametrize("frame, fps, expected", [
    (0, 25, "00:00:00:00.000"),
    (24, 25, "00:00:00:24.000"),
    (25, 25, "00:00:01:00.000"),
    (25 * 3661 + 7, 25, "01:01:01:07.000"),
    (45, 60, "00:00:00:45.000"),
    (2, 59.94, "00:00:00:02.002"),        # counted at 60: a 59.94 take drifts .001 frame a frame
    (30, 30000 / 1001, "00:00:01:00.030"),
])
def test_timecode(frame, fps, expected):
    assert livelink.format_timecode(frame, fps) == expected


def test_timecode_never_prints_a_full_subframe():
    for i in range(3000):
        ff, sub = livelink.format_timecode(i, 29.97).rsplit(":", 1)[1].split(".")
        assert int(ff) < 30 and int(sub) < 1000


def test_eye_rotations_follow_gaze():
    w = np.zeros((4, 52))
    w[0, INDEX["eyeLookOutLeft"]] = w[0, INDEX["eyeLookInRight"]] = 1.0   # both look to the subject's left
    w[1, INDEX["eyeLookUpLeft"]] = w[1, INDEX["eyeLookUpRight"]] = 0.5      # up: negative pitch, as the head
    w[2, INDEX["eyeLookInLeft"]] = 1.0                                     # left eye to the subject's right
    eyes = livelink.eye_rotations(w)
    assert eyes[0, 0] == pytest.approx(livelink.EYE_MAX_RAD) and eyes[0, 3] == pytest.approx(livelink.EYE_MAX_RAD)
    assert eyes[1, 1] == pytest.approx(-livelink.EYE_MAX_RAD / 2) and eyes[1, 4] == pytest.approx(eyes[1, 1])
    assert eyes[2, 0] == pytest.approx(-livelink.EYE_MAX_RAD)
    assert not eyes[3].any() and not eyes[:, [2, 5]].any()               # no roll


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_csv_round_trip(tmp_path, fps):
    m = random_motion(int(2.5 * fps), fps)
    back = livelink.read_csv(livelink.write_csv(m, tmp_path / "t.csv"))
    assert back.fps == fps and back.num_frames == m.num_frames
    np.testing.assert_allclose(back.weights, m.weights, atol=1e-6)
    np.testing.assert_allclose(back.head, m.head, atol=1e-6)


def test_csv_round_trip_normalised_head_units(tmp_path):
    m = random_motion()
    path = livelink.write_csv(m, tmp_path / "t.csv", head_scale=1 / np.pi)   # Unreal's degrees/180
    row = path.read_text().splitlines()[1].split(",")
    assert float(row[54]) == pytest.approx(m.head[0, 1] / np.pi, abs=1e-6)   # HeadYaw
    back = livelink.read_csv(path, head_scale=1 / np.pi)
    np.testing.assert_allclose(back.head, m.head, atol=1e-5)


def test_read_csv_matches_columns_by_name_in_any_order(tmp_path):
    m = random_motion(30)
    header, *rows = [line.split(",") for line in livelink.to_csv_text(m).splitlines()]
    order = [0, 1] + list(range(62, 1, -1))          # shapes and angles reversed
    text = "\n".join(",".join(r[j] for j in order) for r in [[h.lower() for h in header], *rows])
    (tmp_path / "shuffled.csv").write_text(text)
    back = livelink.read_csv(tmp_path / "shuffled.csv", fps=25)
    np.testing.assert_allclose(back.weights, m.weights, atol=1e-6)
    np.testing.assert_allclose(back.head, m.head, atol=1e-6)


def test_read_csv_infers_59_94(tmp_path):
    m = random_motion(150, 60000 / 1001)
    back = livelink.read_csv(livelink.write_csv(m, tmp_path / "t.csv"))
    assert back.fps == pytest.approx(59.94, abs=0.01)


def test_read_csv_errors(tmp_path):
    with pytest.raises(TalkstyleError, match="not found"):
        livelink.read_csv(tmp_path / "missing.csv")
    (tmp_path / "other.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(TalkstyleError, match="missing EyeBlinkLeft"):
        livelink.read_csv(tmp_path / "other.csv")
    text = livelink.to_csv_text(random_motion(30))
    (tmp_path / "bad.csv").write_text(text.replace("0.", "x.", 1).replace(",61,", ",61,oops", 1))
    with pytest.raises(TalkstyleError, match="non-numeric"):
        livelink.read_csv(tmp_path / "bad.csv")
    (tmp_path / "short.csv").write_text(text.splitlines()[0] + "\n" + "00:00:00:00.000,61,0.1\n")
    with pytest.raises(TalkstyleError, match="short row"):
        livelink.read_csv(tmp_path / "short.csv", fps=25)
    (tmp_path / "one_second.csv").write_text("\n".join(text.splitlines()[:10]))
    with pytest.raises(TalkstyleError, match="pass fps"):
        livelink.read_csv(tmp_path / "one_second.csv")
    assert livelink.read_csv(tmp_path / "one_second.csv", fps=25).num_frames == 9


def test_write_csv_is_atomic(tmp_path):
    with pytest.raises(TalkstyleError, match="does not exist"):
        livelink.write_csv(random_motion(), tmp_path / "nope" / "t.csv")
    livelink.write_csv(random_motion(), tmp_path / "t.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


# ---------------------------------------------------------------- GLB
class Glb:
    """A GLB read back with pygltflib, with its accessors as numpy arrays."""

    def __init__(self, path: Path):
        self.doc = gl.GLTF2.load(str(path))
        self.blob = self.doc.binary_blob()

    def array(self, index: int) -> np.ndarray:
        acc = self.doc.accessors[index]
        view = self.doc.bufferViews[acc.bufferView]
        width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[acc.type]
        dtype = {gl.FLOAT: np.float32, gl.UNSIGNED_SHORT: np.uint16, gl.UNSIGNED_INT: np.uint32}[acc.componentType]
        return np.frombuffer(self.blob, dtype, acc.count * width,
                             view.byteOffset + (acc.byteOffset or 0)).reshape(acc.count, width)

    @property
    def primitive(self) -> gl.Primitive:
        return self.doc.meshes[0].primitives[0]


def quaternion_matrix(q: np.ndarray) -> np.ndarray:
    x, y, z, w = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


@pytest.fixture(scope="module")
def glb_case(tmp_path_factory):
    motion = random_motion(40, 25.0, seed=3)
    path = gltf.write_glb(motion, tmp_path_factory.mktemp("glb") / "face.glb")
    return motion, path, Glb(path)


def test_glb_structure(glb_case):
    motion, path, glb = glb_case
    rig = FaceRig.default()
    mesh, prim = glb.doc.meshes[0], glb.primitive
    assert path.read_bytes()[:4] == b"glTF"
    assert mesh.extras["targetNames"] == list(ARKIT_NAMES) and len(prim.targets) == 52
    assert len(mesh.weights) == 52
    positions = glb.array(prim.attributes.POSITION)
    assert positions.shape == (468, 3)
    np.testing.assert_allclose(positions, rig.neutral / 1000, atol=1e-7)          # mm -> m
    np.testing.assert_array_equal(glb.array(prim.indices).reshape(-1, 3), rig.triangles)
    assert glb.array(prim.attributes.TEXCOORD_0).shape == (468, 2)
    normals = glb.array(prim.attributes.NORMAL)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
    # Accessor bounds are the exact float32 extremes (the validator checks this too).
    acc = glb.doc.accessors[prim.attributes.POSITION]
    assert acc.min == positions.min(0).tolist() and acc.max == positions.max(0).tolist()
    jaw = glb.array(prim.targets[INDEX["jawOpen"]]["POSITION"])
    assert glb.doc.accessors[prim.targets[INDEX["jawOpen"]]["POSITION"]].min == jaw.min(0).tolist()
    assert jaw[:, 1].min() < -0.005                                              # the chin drops > 5 mm


def test_glb_animation(glb_case):
    motion, _, glb = glb_case
    anim = glb.doc.animations[0]
    paths = {(c.target.node, c.target.path): anim.samplers[c.sampler] for c in anim.channels}
    face_node = next(i for i, n in enumerate(glb.doc.nodes) if n.mesh == 0)
    head_node = next(i for i, n in enumerate(glb.doc.nodes) if face_node in (n.children or []))
    weights, rotation = paths[(face_node, "weights")], paths[(head_node, "rotation")]
    for sampler in (weights, rotation):
        assert sampler.interpolation == "LINEAR"
        times = glb.array(sampler.input)[:, 0]
        assert len(times) == 40 and times[0] == 0 and times[-1] == pytest.approx(39 / 25)
        assert glb.doc.accessors[sampler.input].max == [float(times[-1])]
    np.testing.assert_array_equal(glb.array(weights.output).reshape(40, 52), motion.weights)
    assert glb.array(rotation.output).shape == (40, 4)


def test_glb_decodes_to_the_rig(glb_case):
    """Evaluating the GLB as a viewer does gives the rig's linear blend, rotated about the neck."""
    motion, _, glb = glb_case
    rig = FaceRig.default()
    prim, anim = glb.primitive, glb.doc.animations[0]
    base = glb.array(prim.attributes.POSITION)
    targets = np.stack([glb.array(t["POSITION"]) for t in prim.targets])
    weights = glb.array(anim.samplers[0].output).reshape(-1, 52)
    quats = glb.array(anim.samplers[1].output)
    head_t, face_t = (np.array(n.translation) for n in glb.doc.nodes[:2])
    expected = rig.neutral + np.tensordot(motion.weights, rig.deltas, 1)
    rot = head_rotation(motion.head)
    expected = np.matmul(expected - rig.neck_pivot, rot.transpose(0, 2, 1)) + rig.neck_pivot
    for f in range(0, 40, 7):
        local = base + np.tensordot(weights[f], targets, 1) + face_t
        world = local @ quaternion_matrix(quats[f]).T + head_t
        np.testing.assert_allclose(world, expected[f] / 1000, atol=2e-6)


def test_head_quaternions_match_rotation_matrices():
    head = np.random.default_rng(1).uniform(-1.2, 1.2, (50, 3))
    quats = gltf.head_quaternions(head)
    np.testing.assert_allclose(np.linalg.norm(quats, axis=1), 1, atol=1e-6)
    for q, r in zip(quats, head_rotation(head.astype(np.float32))):
        np.testing.assert_allclose(quaternion_matrix(q), r, atol=1e-5)
    assert (np.sum(quats[1:] * quats[:-1], 1) >= 0).all()                      # slerp-friendly signs


@pytest.mark.skipif(not gltf_validator.available(), reason="gltf-validator not installed (make install-test)")
def test_glb_passes_khronos_validator(glb_case):
    report = gltf_validator.validate(glb_case[1])
    issues = report["issues"]
    assert issues["numErrors"] == 0, issues["messages"]
    assert issues["numWarnings"] == 0, issues["messages"]
    assert report["info"]["hasMorphTargets"] and report["info"]["animationCount"] == 1
    assert report["info"]["totalVertexCount"] == 468


THREE = gltf_validator.NODE_MODULES / "three"


@pytest.mark.skipif(shutil.which("node") is None or not THREE.is_dir(), reason="three.js not installed")
def test_glb_in_three_js(glb_case):
    motion, path, _ = glb_case
    seconds = 0.5                                         # halfway between frames 12 and 13
    out = subprocess.run(["node", str(Path(__file__).with_name("glb_three_check.mjs")),
                          str(gltf_validator.NODE_MODULES), str(path), str(seconds)],
                         capture_output=True, text=True, timeout=120, check=True)
    seen = json.loads(out.stdout)
    assert seen["meshes"] == 1 and seen["vertices"] == 468 and seen["morphTargets"] == 52
    assert seen["morphTargetDictionary"] == {name: i for i, name in enumerate(ARKIT_NAMES)}
    assert {t["name"] for t in seen["tracks"]} == {"face.morphTargetInfluences", "head.quaternion"}
    assert seen["duration"] == pytest.approx(39 / 25)
    expected = (motion.weights[12] + motion.weights[13]) / 2
    np.testing.assert_allclose(seen["influences"], expected, atol=1e-5)


def test_write_glb_is_atomic(tmp_path):
    with pytest.raises(TalkstyleError, match="does not exist"):
        gltf.write_glb(random_motion(5), tmp_path / "nope" / "x.glb")
    gltf.write_glb(random_motion(5), tmp_path / "x.glb")
    assert [p.name for p in tmp_path.iterdir()] == ["x.glb"]
