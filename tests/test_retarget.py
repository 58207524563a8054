"""`talkstyle retarget`: a FaceMotion onto avatars that are not the FaceRig (tests/avatars.py)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pygltflib as gl
import pytest
from scipy.spatial.transform import Rotation

import avatars
from talkstyle.errors import TalkstyleError
from talkstyle.export import gltf_validator
from talkstyle.export.gltf import write_glb
from talkstyle.export.retarget import (ANIMATION_NAME, PRESET_DRIVERS, arkit_name, load_avatar, load_map,
                                       name_key, plan, retarget_file)
from talkstyle.face.arkit import ARKIT_NAMES, INDEX
from talkstyle.face.motion import FaceMotion
from talkstyle.face.rig import head_rotation

FPS = 25.0


@pytest.fixture(scope="module")
def motion() -> FaceMotion:
    rng = np.random.default_rng(3)
    t = np.arange(40)
    head = np.stack([0.25 * np.sin(t / 5), 0.35 * np.sin(t / 7 + 1), 0.15 * np.cos(t / 4)], 1)
    return FaceMotion(rng.uniform(0, 0.9, (40, 52)), head, FPS)


# Made by Blender's own glTF exporter from its stock monkey head (scripts/blender_make_avatar.py).
SUZANNE = Path(__file__).with_name("data") / "blender_suzanne.glb"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("avatars")
    made = {name: getattr(avatars, name)(d / f"{name}.{'vrm' if 'vrm' in name else 'glb'}")
            for name in ("mixamo_style", "snake_case_no_head_names", "vrm1_presets", "vrm0_perfect_sync")}
    return {**made, "blender_suzanne": SUZANNE}


def _animation(path: Path) -> tuple[gl.GLTF2, dict[tuple[int, str], np.ndarray]]:
    """The file and its talkstyle channels: (node, path) -> (T, n) values."""
    g = gl.GLTF2().load_binary(str(path))
    anim = next(a for a in g.animations if a.name == ANIMATION_NAME)
    blob = g.binary_blob()

    def read(i: int) -> np.ndarray:
        acc = g.accessors[i]
        view = g.bufferViews[acc.bufferView]
        width = {"SCALAR": 1, "VEC4": 4}[acc.type]
        return np.frombuffer(blob, np.float32, acc.count * width, view.byteOffset + (acc.byteOffset or 0))
    out = {}
    for ch in anim.channels:
        s = anim.samplers[ch.sampler]
        times = read(s.input)
        out[(ch.target.node, ch.target.path)] = read(s.output).reshape(len(times), -1)
    return g, out


# ---------------------------------------------------------------- names
@pytest.mark.parametrize("variant, expected", [
    ("eyeBlinkLeft", "eyeBlinkLeft"), ("EyeBlinkLeft", "eyeBlinkLeft"), ("EyeBlink_L", "eyeBlinkLeft"),
    ("eyeBlink_R", "eyeBlinkRight"), ("eye_blink_left", "eyeBlinkLeft"), ("eyeBlinkL", "eyeBlinkLeft"),
    ("blendShape1.eyeBlinkLeft", "eyeBlinkLeft"), ("blendShape1.JawOpen", "jawOpen"),
    ("EyeBlink.L", "eyeBlinkLeft"), ("A14_Eye_Blink_Left", "eyeBlinkLeft"), ("Jaw_L", "jawLeft"),
    ("MOUTH_SMILE_RIGHT", "mouthSmileRight"), ("tongue_out", "tongueOut"), ("Mouth Roll Lower", "mouthRollLower"),
    ("smirk", None), ("Fcl_MTH_A", None), ("eyeBlink", None), ("jawOpen2", None),
])
def test_arkit_name_variants(variant, expected):
    assert arkit_name(variant) == expected


def test_every_arkit_name_and_its_spellings_round_trip():
    for n in ARKIT_NAMES:
        for style in ("pascal_lr", "snake", "pascal"):
            assert arkit_name(avatars.arkit_variant(n, style)) == n, (n, style)
    assert len({name_key(n) for n in ARKIT_NAMES}) == 52


# ---------------------------------------------------------------- onto the project's own GLB
def test_retarget_onto_our_own_glb_reproduces_export(tmp_path, motion):
    """The FaceRig GLB as an 'avatar': the retargeted animation must equal what export writes."""
    write_glb(FaceMotion.neutral(2, FPS), tmp_path / "rest.glb")
    write_glb(motion, tmp_path / "direct.glb")
    retarget_file(motion, tmp_path / "rest.glb", tmp_path / "re.glb")
    _, re = _animation(tmp_path / "re.glb")
    g = gl.GLTF2().load_binary(str(tmp_path / "direct.glb"))
    assert g.nodes[0].name == "head"
    np.testing.assert_allclose(re[(1, "weights")], motion.weights, atol=1e-6)
    direct_q = _read_vec4(g, g.animations[0].samplers[1].output)
    np.testing.assert_allclose(np.abs(np.sum(re[(0, "rotation")] * direct_q, 1)), 1.0, atol=1e-5)


def _read_vec4(g: gl.GLTF2, i: int) -> np.ndarray:
    acc, blob = g.accessors[i], g.binary_blob()
    view = g.bufferViews[acc.bufferView]
    return np.frombuffer(blob, np.float32, acc.count * 4, view.byteOffset + (acc.byteOffset or 0)).reshape(-1, 4)


# ---------------------------------------------------------------- other avatars
def _head_world(g: gl.GLTF2, node: int, local: np.ndarray) -> np.ndarray:
    """World rotation of `node` with its local rotation replaced by `local` (xyzw)."""
    parents = {c: i for i, n in enumerate(g.nodes) for c in n.children or []}
    r = Rotation.from_quat(local)
    i = parents.get(node)
    while i is not None:
        n = g.nodes[i]
        r = (Rotation.from_quat(n.rotation) if n.rotation else Rotation.identity()) * r
        i = parents.get(i)
    return r.as_matrix()


@pytest.mark.parametrize("name, head_name, facing", [("mixamo_style", "mixamorig:Head", 1.0),
                                                     ("vrm0_perfect_sync", "head", -1.0),
                                                     ("blender_suzanne", "DEF-head", 1.0)])
def test_all_52_shapes_and_the_head(tmp_path, motion, built, name, head_name, facing):
    out = tmp_path / ("out.vrm" if "vrm" in name else "out.glb")
    p = retarget_file(motion, built[name], out)
    assert p.mode == "arkit" and not p.missing and len(p.channels) == 52
    g, chans = _animation(out)
    head_node = next(i for i, n in enumerate(g.nodes) if n.name == head_name)
    assert p.head_node == head_node
    mesh_node = next(i for i, n in enumerate(g.nodes) if n.name in ("Head_Mesh", "Suzanne"))
    np.testing.assert_allclose(chans[(mesh_node, "weights")][:, :52], motion.weights, atol=1e-6)
    if name == "mixamo_style":   # the teeth mesh plays jawOpen and tongueOut too
        teeth = next(i for i, n in enumerate(g.nodes) if n.name == "Teeth_Mesh")
        np.testing.assert_allclose(chans[(teeth, "weights")],
                                   motion.weights[:, [INDEX["jawOpen"], INDEX["tongueOut"]]], atol=1e-6)
    # The head turns by R in world terms: world(t) = F R F^T world(rest), F the facing half turn.
    rest = _head_world(g, head_node, g.nodes[head_node].rotation)
    F = np.diag([facing, 1, facing])
    R = head_rotation(motion.head.astype(np.float64))
    for t in (0, 13, 39):
        posed = _head_world(g, head_node, chans[(head_node, "rotation")][t])
        np.testing.assert_allclose(posed, F @ R[t] @ F.T @ rest, atol=2e-5)
    # Positive yaw turns the nose toward the subject's left (+x facing +z, -x facing -z).
    nose = F @ np.array([0, 0, 1.0])
    yawed = F @ head_rotation(np.array([[0.0, 0.3, 0.0]]))[0] @ F.T @ nose
    assert np.sign(yawed[0]) == facing


def test_missing_shapes_one_line_error_then_map_or_allow_missing(tmp_path, motion, built):
    src = built["snake_case_no_head_names"]
    with pytest.raises(TalkstyleError, match=r"lacks 2 of the 52 ARKit shapes: cheekPuff, tongueOut \(name"):
        retarget_file(motion, src, tmp_path / "a.glb", head=False)
    assert not (tmp_path / "a.glb").exists()
    with pytest.raises(TalkstyleError, match="--head-bone"):
        retarget_file(motion, src, tmp_path / "a.glb", allow_missing=True)
    p = retarget_file(motion, src, tmp_path / "a.glb", allow_missing=True, head_bone="Bone.003")
    assert p.missing == ["cheekPuff", "tongueOut"] and len(p.channels) == 50
    (tmp_path / "map.json").write_text(json.dumps({"cheekPuff": "puff_cheeks", "TongueOut": None}))
    p = retarget_file(motion, src, tmp_path / "b.glb", mapping=load_map(tmp_path / "map.json"), head_bone="Bone.003")
    assert p.missing == [] and p.sources["cheekPuff"] == "puff_cheeks"
    g, chans = _animation(tmp_path / "b.glb")
    mesh_node = next(i for i, n in enumerate(g.nodes) if n.name == "Head_Mesh")
    names = g.meshes[g.nodes[mesh_node].mesh].extras["targetNames"]
    np.testing.assert_allclose(chans[(mesh_node, "weights")][:, names.index("puff_cheeks")],
                               motion.weights[:, INDEX["cheekPuff"]], atol=1e-6)
    np.testing.assert_allclose(chans[(mesh_node, "weights")][:, names.index("smirk")], 0.0)
    assert (next(i for i, n in enumerate(g.nodes) if n.name == "Bone.003"), "rotation") in chans


def test_driven_targets_replace_the_avatar_defaults(tmp_path, motion, built):
    g = gl.GLTF2().load_binary(str(built["snake_case_no_head_names"]))
    mesh = g.meshes[0]
    mesh.weights = [0.5] * len(mesh.weights)           # an avatar saved with its shapes half on
    g.save_binary(str(tmp_path / "half.glb"))
    retarget_file(motion, tmp_path / "half.glb", tmp_path / "out.glb", allow_missing=True, head=False)
    g, chans = _animation(tmp_path / "out.glb")
    names = mesh.extras["targetNames"]
    w = chans[(next(i for i, n in enumerate(g.nodes) if n.name == "Head_Mesh"), "weights")]
    np.testing.assert_allclose(w[:, names.index("jaw_open")], motion.weights[:, INDEX["jawOpen"]], atol=1e-6)
    np.testing.assert_allclose(w[:, names.index("smirk")], 0.5)      # not driven: keeps its default


def test_vrm_presets_only_are_driven_from_arkit(tmp_path, motion, built):
    p = retarget_file(motion, built["vrm1_presets"], tmp_path / "out.vrm")
    assert p.mode == "vrm-presets" and set(p.presets) == set(avatars.VRM1_PRESETS)
    g, chans = _animation(tmp_path / "out.vrm")
    assert "VRMC_vrm" in g.extensions              # the VRM stays a VRM
    mesh_node = next(i for i, n in enumerate(g.nodes) if n.name == "Head_Mesh")
    w = chans[(mesh_node, "weights")]
    for k, preset in enumerate(avatars.VRM1_PRESETS):
        np.testing.assert_allclose(w[:, k], np.clip(PRESET_DRIVERS[preset](motion.weights), 0, 1), atol=1e-6)
    jaw = np.zeros((3, 52))
    jaw[:, INDEX["jawOpen"]] = [0, 0.5, 1]
    assert PRESET_DRIVERS["aa"](jaw).tolist() == [0, 0.5, 1]
    assert p.head_node == next(i for i, n in enumerate(g.nodes) if n.name == "J_Bip_C_Head")


@pytest.mark.skipif(not gltf_validator.available(), reason="gltf-validator not installed (make install-test)")
def test_outputs_pass_the_validator_with_nothing_added(tmp_path, motion, built):
    for name, src in built.items():
        out = tmp_path / f"{name}{src.suffix}"
        retarget_file(motion, src, out, allow_missing=True, head_bone="Bone.003" if "snake" in name else None)
        before, after = gltf_validator.validate(src)["issues"], gltf_validator.validate(out)["issues"]
        assert after["numErrors"] == 0, after["messages"]
        # VRM 0.x's "VRM" extension name is a warning in any VRM 0.x file; nothing new may appear.
        assert after["numWarnings"] == before["numWarnings"], after["messages"]


THREE = gltf_validator.NODE_MODULES / "three"


@pytest.mark.skipif(shutil.which("node") is None or not THREE.is_dir(), reason="three.js not installed")
@pytest.mark.parametrize("name, bone, mesh, jaw_key", [
    ("mixamo_style", "mixamorig:Head", "Head_Mesh", "blendShape1.JawOpen"),
    ("blender_suzanne", "DEF-head", "Suzanne", "JawOpen")])
def test_three_js_plays_the_retargeted_avatar(tmp_path, motion, built, name, bone, mesh, jaw_key):
    out = tmp_path / "out.glb"
    retarget_file(motion, built[name], out)
    frame = 13
    res = subprocess.run(["node", str(Path(__file__).with_name("avatar_three_check.mjs")),
                          str(gltf_validator.NODE_MODULES), str(out), str(frame / FPS), bone],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    seen = json.loads(res.stdout)
    head = seen["meshes"][mesh]
    jaw = head["dictionary"][jaw_key]
    assert head["influences"][jaw] == pytest.approx(motion.weights[frame, INDEX["jawOpen"]], abs=1e-5)
    if name == "mixamo_style":
        assert seen["meshes"]["Teeth_Mesh"]["influences"][0] == pytest.approx(
            motion.weights[frame, INDEX["jawOpen"]], abs=1e-5)
    rest, posed = Rotation.from_quat(seen["rest"]), Rotation.from_quat(seen["posed"])
    expected = head_rotation(motion.head[frame:frame + 1].astype(np.float64))[0]
    np.testing.assert_allclose((posed * rest.inv()).as_matrix(), expected, atol=1e-4)


# ---------------------------------------------------------------- errors
def test_errors(tmp_path, motion, built):
    with pytest.raises(TalkstyleError, match="avatar not found"):
        retarget_file(motion, tmp_path / "nope.glb", tmp_path / "o.glb")
    (tmp_path / "junk.glb").write_bytes(b"not a model at all")
    with pytest.raises(TalkstyleError, match="not a glTF"):
        retarget_file(motion, tmp_path / "junk.glb", tmp_path / "o.glb")
    with pytest.raises(TalkstyleError, match="must end in .glb or .vrm"):
        retarget_file(motion, built["mixamo_style"], tmp_path / "o.fbx")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(TalkstyleError, match="not JSON"):
        load_map(tmp_path / "bad.json")
    (tmp_path / "m.json").write_text(json.dumps({"jawOpenWide": "x"}))
    with pytest.raises(TalkstyleError, match="not an ARKit blendshape name"):
        load_map(tmp_path / "m.json")
    with pytest.raises(TalkstyleError, match=r"'Nope' \(for jawOpen\) is not a morph target"):
        plan(load_avatar(built["mixamo_style"]), {"jawOpen": ["Nope"]})
    with pytest.raises(TalkstyleError, match="no node named 'Kopf'"):
        plan(load_avatar(built["mixamo_style"]), head_bone="Kopf")
    assert not list(tmp_path.glob("o.*"))


def test_gltf_json_input_with_embedded_buffer(tmp_path, motion, built):
    g = gl.GLTF2().load_binary(str(built["mixamo_style"]))
    g.convert_buffers(gl.BufferFormat.DATAURI)
    g.save_json(str(tmp_path / "avatar.gltf"))
    retarget_file(motion, tmp_path / "avatar.gltf", tmp_path / "out.glb")
    g2, chans = _animation(tmp_path / "out.glb")
    assert len(g2.buffers) == 1 and g2.buffers[0].uri is None


def test_cli_retarget(tmp_path, motion, built, talkstyle):
    motion.save(tmp_path / "m.npz")
    run = lambda *a: talkstyle("retarget", tmp_path / "m.npz", *a, timeout=120)   # noqa: E731
    ok = run("--avatar", str(built["mixamo_style"]), "-o", str(tmp_path / "a.glb"))
    assert ok.returncode == 0 and "52 of 52 ARKit shapes" in ok.stdout, ok.stderr
    bad = run("--avatar", str(built["snake_case_no_head_names"]), "-o", str(tmp_path / "b.glb"), "--no-head")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: snake_case_no_head_names.glb lacks 2 of the 52 ARKit shapes: cheekPuff, tongueOut "
        "(name them with --map map.json, or --allow-missing)"]
