"""Test avatars that are not the FaceRig: another topology, skins, other naming conventions, VRM.

No ARKit-ready character ships inside an npm or PyPI package that installs offline (searched:
three's npm package has no examples/models, @pixiv/three-vrm, @met4citizen/talkinghead,
@readyplayerme/visage, @khronosgroup/gltf-viewer, kalidokit, bpy-vrm-format), so the tests build
their own: a low-poly head (a UV sphere with a jaw and a teeth box) skinned to a small skeleton,
written the way other tools write them (morph names in mesh.extras.targetNames, bones with rest
rotations and scale, a root turned like an FBX import).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pygltflib as gl
from scipy.spatial.transform import Rotation

from talkstyle.export.gltf import _Blob, vertex_normals
from talkstyle.face.arkit import ARKIT_NAMES


def sphere(rings: int = 10, segments: int = 14, radius: float = 0.09) -> tuple[np.ndarray, np.ndarray]:
    """A UV sphere (head), y up, face toward +z: vertices (V,3) and triangles (F,3)."""
    verts = [[0.0, radius, 0.0]]
    for i in range(1, rings):
        phi = np.pi * i / rings
        for j in range(segments):
            th = 2 * np.pi * j / segments
            verts.append([radius * np.sin(phi) * np.sin(th), radius * np.cos(phi), radius * np.sin(phi) * np.cos(th)])
    verts.append([0.0, -radius, 0.0])
    tris = []
    ring = lambda i, j: 1 + (i - 1) * segments + j % segments   # noqa: E731
    for j in range(segments):
        tris.append([0, ring(1, j), ring(1, j + 1)])
        tris.append([len(verts) - 1, ring(rings - 1, j + 1), ring(rings - 1, j)])
    for i in range(1, rings - 1):
        for j in range(segments):
            a, b, c, d = ring(i, j), ring(i, j + 1), ring(i + 1, j), ring(i + 1, j + 1)
            tris += [[a, c, b], [b, c, d]]
    return np.asarray(verts, np.float32), np.asarray(tris, np.uint16)


def box(size: tuple[float, float, float], centre: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], np.float32)
    verts = corners * np.asarray(size, np.float32) / 2 + np.asarray(centre, np.float32)
    tris = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                     [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]], np.uint16)
    return verts, tris


def _target_delta(verts: np.ndarray, k: int) -> np.ndarray:
    """A distinct, deterministic displacement per target index (tests only read weights)."""
    rng = np.random.default_rng(k)
    return (rng.normal(0, 0.004, verts.shape) * (verts[:, 2:3] > 0)).astype(np.float32)


def arkit_variant(name: str, style: str) -> str:
    if style == "pascal_lr":                    # EyeBlink_L (Character Creator / many rigs)
        return name[0].upper() + name[1:].replace("Left", "_L").replace("Right", "_R")
    if style == "snake":                        # eye_blink_left
        out = "".join("_" + c.lower() if c.isupper() else c for c in name)
        return out
    if style == "pascal":                       # EyeBlinkLeft (Live Link, VRM perfect sync)
        return name[0].upper() + name[1:]
    return name


def build_avatar(path: Path, *, morph_names: list[str], bones: list[str], teeth_morphs: list[str] = (),
                 prefix: str = "", root_rotation: tuple[float, float, float] = (-90, 0, 0),
                 root_scale: float = 0.01, vrm: dict | None = None, face_z: float = 1.0) -> Path:
    """A skinned low-poly head. `bones` is the chain root -> ... -> head (-> end); the head is
    `bones[head_index]` where the name says so. The root node is turned and scaled like an FBX
    import (its child undoes it), so bones have non-trivial rest rotations. face_z = -1 makes it
    face -z (VRM 0.x)."""
    head_v, head_t = sphere()
    head_v = head_v * [face_z, 1, face_z] + [0, 1.60, 0]
    teeth_v, teeth_t = box((0.05, 0.012, 0.012), (0, 1.56, 0.075 * face_z))
    gltf = gl.GLTF2(asset=gl.Asset(generator="talkstyle-tests", version="2.0"))
    blob = _Blob(gltf)

    # Skeleton: root (turned) -> correction -> bones; world positions chosen along y.
    root_q = Rotation.from_euler("xyz", root_rotation, degrees=True)
    heights = np.linspace(1.0, 1.75, len(bones))
    gltf.nodes.append(gl.Node(name="Armature", rotation=root_q.as_quat().tolist(),
                              scale=[root_scale] * 3, children=[1]))
    # The correction node undoes the root (so world = identity-ish below it) but carries a rest twist.
    twist = Rotation.from_euler("y", 7, degrees=True)
    corr = root_q.inv() * twist
    gltf.nodes.append(gl.Node(name="Correction", rotation=corr.as_quat().tolist(),
                              scale=[1 / root_scale] * 3, children=[2]))
    world = twist
    prev_pos = np.zeros(3)
    joint_nodes = []
    for k, (bone, h) in enumerate(zip(bones, heights)):
        pos = np.array([0.0, h, 0.0])
        # Each bone has its own small rest rotation; translations are expressed in the parent frame.
        rest = Rotation.from_euler("xyz", [3 * (k % 3) - 3, 5 * ((k + 1) % 2), -2 * k], degrees=True)
        local_t = world.inv().apply(pos - prev_pos)
        node = gl.Node(name=bone, translation=local_t.tolist(), rotation=rest.as_quat().tolist())
        if k + 1 < len(bones):
            node.children = [len(gltf.nodes) + 1]
        joint_nodes.append(len(gltf.nodes))
        gltf.nodes.append(node)
        world, prev_pos = world * rest, pos
    # Inverse bind matrices from the rest world transforms (rotation and translation only below the root).
    worlds, w, p = [], twist, np.zeros(3)
    for k in range(len(bones)):
        node = gltf.nodes[joint_nodes[k]]
        p = p + w.apply(node.translation)
        w = w * Rotation.from_quat(node.rotation)
        m = np.eye(4)
        m[:3, :3], m[:3, 3] = w.as_matrix(), p
        worlds.append(np.linalg.inv(m))
    head_joint = next(i for i, b in enumerate(bones) if "head" in b.lower() and "end" not in b.lower()) \
        if any("head" in b.lower() and "end" not in b.lower() for b in bones) else len(bones) - 2
    ibm_data = np.stack([m.T for m in worlds]).astype(np.float32).reshape(-1)
    blob.data += b"\0" * (-len(blob.data) % 4)
    gltf.bufferViews.append(gl.BufferView(buffer=0, byteOffset=len(blob.data), byteLength=ibm_data.nbytes))
    blob.data += ibm_data.tobytes()
    gltf.accessors.append(gl.Accessor(bufferView=len(gltf.bufferViews) - 1, componentType=gl.FLOAT,
                                      count=len(worlds), type=gl.MAT4))
    ibm = len(gltf.accessors) - 1
    gltf.skins.append(gl.Skin(name="Skin", joints=joint_nodes, inverseBindMatrices=ibm, skeleton=joint_nodes[0]))

    def mesh(name: str, verts: np.ndarray, tris: np.ndarray, names: list[str], seed: int) -> int:
        n = len(verts)
        joints = np.zeros((n, 4), np.uint16)
        joints[:, 0] = head_joint
        wts = np.zeros((n, 4), np.float32)
        wts[:, 0] = 1.0
        attrs = gl.Attributes(POSITION=blob.add(verts.astype(np.float32), gl.VEC3, gl.ARRAY_BUFFER, bounds=True),
                              NORMAL=blob.add(vertex_normals(verts, tris), gl.VEC3, gl.ARRAY_BUFFER),
                              JOINTS_0=blob.add(joints, gl.VEC4, gl.ARRAY_BUFFER),
                              WEIGHTS_0=blob.add(wts, gl.VEC4, gl.ARRAY_BUFFER))
        targets = [{"POSITION": blob.add(_target_delta(verts, seed + k), gl.VEC3, gl.ARRAY_BUFFER, bounds=True)}
                   for k in range(len(names))]
        gltf.meshes.append(gl.Mesh(name=name, weights=[0.0] * len(names) if names else None,
                                   extras={"targetNames": [prefix + t for t in names]} if names else None,
                                   primitives=[gl.Primitive(attributes=attrs, material=0, targets=targets or None,
                                                            indices=blob.add(tris.reshape(-1), gl.SCALAR,
                                                                             gl.ELEMENT_ARRAY_BUFFER))]))
        gltf.nodes.append(gl.Node(name=name, mesh=len(gltf.meshes) - 1, skin=0))
        return len(gltf.nodes) - 1

    gltf.materials.append(gl.Material(name="skin", pbrMetallicRoughness=gl.PbrMetallicRoughness(
        baseColorFactor=[0.8, 0.6, 0.5, 1.0], metallicFactor=0.0)))
    mesh_nodes = [mesh("Head_Mesh", head_v, head_t, morph_names, 0)]
    if teeth_morphs:
        mesh_nodes.append(mesh("Teeth_Mesh", teeth_v, teeth_t, list(teeth_morphs), 100))
    gltf.scenes.append(gl.Scene(name="Scene", nodes=[0, *mesh_nodes]))
    gltf.scene = 0
    if vrm is not None:
        ext = vrm(gltf, joint_nodes, mesh_nodes)
        gltf.extensions = ext
        gltf.extensionsUsed = list(ext)
    gltf.buffers.append(gl.Buffer(byteLength=len(blob.data)))
    gltf.set_binary_blob(bytes(blob.data))
    path.write_bytes(b"".join(gltf.save_to_bytes()))
    return path


def mixamo_style(path: Path) -> Path:
    """All 52 shapes as `blendShape1.EyeBlink_L`-style names, mixamorig bones, a teeth mesh with
    its own jawOpen / tongueOut."""
    return build_avatar(path, morph_names=[arkit_variant(n, "pascal_lr") for n in ARKIT_NAMES],
                        bones=["mixamorig:Hips", "mixamorig:Spine", "mixamorig:Neck", "mixamorig:Head",
                               "mixamorig:HeadTop_End"],
                        teeth_morphs=["JawOpen", "TongueOut"], prefix="blendShape1.")


SNAKE_MISSING = ("cheekPuff", "tongueOut")


def snake_case_no_head_names(path: Path) -> Path:
    """snake_case shapes without cheekPuff and tongueOut, plus two of its own; bones named Bone.00N."""
    names = [arkit_variant(n, "snake") for n in ARKIT_NAMES if n not in SNAKE_MISSING]
    return build_avatar(path, morph_names=names + ["puff_cheeks", "smirk"],
                        bones=["Bone", "Bone.001", "Bone.002", "Bone.003"], root_rotation=(0, 0, 0), root_scale=1.0)


VRM1_PRESETS = ("aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight", "happy", "angry",
                "sad", "surprised", "lookUp", "lookDown", "lookLeft", "lookRight")


def vrm1_presets(path: Path) -> Path:
    """A VRM 1.0 avatar with only the preset expressions (no ARKit shapes), morphs named Fcl_*."""
    morphs = [f"Fcl_{p}" for p in VRM1_PRESETS]

    def ext(gltf: gl.GLTF2, joints: list[int], meshes: list[int]) -> dict:
        head = next(j for j in joints if gltf.nodes[j].name == "J_Bip_C_Head")
        neck = next(j for j in joints if gltf.nodes[j].name == "J_Bip_C_Neck")
        hips = joints[0]
        return {"VRMC_vrm": {
            "specVersion": "1.0", "meta": {"name": "test", "version": "1", "authors": ["talkstyle tests"],
                                           "licenseUrl": "https://vrm.dev/licenses/1.0/"},
            "humanoid": {"humanBones": {"hips": {"node": hips}, "neck": {"node": neck}, "head": {"node": head}}},
            "expressions": {"preset": {p: {"morphTargetBinds": [{"node": meshes[0], "index": k, "weight": 1.0}]}
                                       for k, p in enumerate(VRM1_PRESETS)}}}}
    return build_avatar(path, morph_names=morphs, bones=["J_Bip_C_Hips", "J_Bip_C_Spine", "J_Bip_C_Neck",
                                                        "J_Bip_C_Head"], vrm=ext)


def vrm0_perfect_sync(path: Path) -> Path:
    """A VRM 0.x avatar facing -z whose blendShapeGroups carry the ARKit names (perfect sync) and
    bind morph targets with names of their own; weights 0-100."""
    morphs = [f"Fcl_ALL_{k:02d}" for k in range(len(ARKIT_NAMES))]

    def ext(gltf: gl.GLTF2, joints: list[int], meshes: list[int]) -> dict:
        groups = [{"name": arkit_variant(n, "pascal"), "presetName": "unknown",
                   "binds": [{"mesh": gltf.nodes[meshes[0]].mesh, "index": k, "weight": 100}]}
                  for k, n in enumerate(ARKIT_NAMES)]
        groups.append({"name": "A", "presetName": "a", "binds": [{"mesh": 0, "index": 17, "weight": 100}]})
        bones = [{"bone": b, "node": j} for b, j in zip(["hips", "spine", "neck", "head"], joints)]
        return {"VRM": {"specVersion": "0.0", "humanoid": {"humanBones": bones},
                        "blendShapeMaster": {"blendShapeGroups": groups}}}
    return build_avatar(path, morph_names=morphs, bones=["hips", "spine", "neck", "head"], vrm=ext, face_z=-1.0)
