"""GLB export: the FaceRig mesh with 52 ARKit morph targets and an animation of a FaceMotion.

Layout (glTF 2.0, y up, +z toward the viewer, metres):
    node 0 "head"  translation = rig neck pivot, rotation animated (the head pitch/yaw/roll)
      node 1 "face"  translation = -neck pivot, mesh 0, morph weights animated
    mesh 0 "face"  one primitive: POSITION, NORMAL, TEXCOORD_0, the open-mouth triangles,
                   52 morph targets (POSITION and NORMAL deltas) named in mesh.extras.targetNames
    animation 0    LINEAR samplers over the frame times: "weights" of node 1 (52 per frame) and
                   "rotation" of node 0 (xyzw quaternions)
Blender and three.js (GLTFLoader: morphTargetDictionary from extras.targetNames) read it.
Morph targets are linear, so jawOpen is the rig's hinge linearised at weight 1 (see face/rig.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pygltflib as gl

from ..atomic import write_bytes
from ..face.arkit import ARKIT_NAMES
from ..face.motion import FaceMotion
from ..face.rig import FaceRig

MM_TO_M = 1e-3
SKIN_RGBA = [0.80, 0.62, 0.52, 1.0]


# ---------------------------------------------------------------- geometry helpers
def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals of (V, 3) or (B, V, 3) vertices; unused vertices get +z."""
    batch = vertices.reshape(-1, *vertices.shape[-2:])
    a, b, c = (batch[:, triangles[:, k]] for k in range(3))
    face = np.cross(b - a, c - a)
    normals = np.zeros_like(batch)
    for k in range(3):
        np.add.at(normals, (slice(None), triangles[:, k]), face)
    length = np.linalg.norm(normals, axis=-1, keepdims=True)
    normals = np.where(length > 0, normals / np.maximum(length, 1e-12), [0.0, 0.0, 1.0])
    return normals.reshape(vertices.shape).astype(np.float32)


def head_quaternions(head: np.ndarray) -> np.ndarray:
    """(T,3) pitch, yaw, roll -> (T,4) xyzw quaternions of Ry(yaw) @ Rx(pitch) @ Rz(roll), sign-continuous."""
    half = np.asarray(head, np.float64) / 2
    p, y, r = half[:, 0], half[:, 1], half[:, 2]
    zero = np.zeros_like(p)
    qx = np.stack([np.sin(p), zero, zero, np.cos(p)], 1)
    qy = np.stack([zero, np.sin(y), zero, np.cos(y)], 1)
    qz = np.stack([zero, zero, np.sin(r), np.cos(r)], 1)
    return continuous_quaternions(_qmul(_qmul(qy, qx), qz))


def continuous_quaternions(q: np.ndarray) -> np.ndarray:
    """(T,4) quaternions with signs flipped so that neighbours lie in the same hemisphere
    (slerp between keys then takes the short way); float32."""
    q = np.array(q, np.float64)
    flip = np.cumprod(np.where(np.sum(q[1:] * q[:-1], 1) < 0, -1.0, 1.0))
    q[1:] *= flip[:, None]
    return q.astype(np.float32)


def _qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax, ay, az, aw = a.T
    bx, by, bz, bw = b.T
    return np.stack([aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw,
                     aw * bw - ax * bx - ay * by - az * bz], 1)


# ---------------------------------------------------------------- buffer building
class _Blob:
    """Appends arrays to one binary buffer and makes a bufferView + accessor for each."""

    def __init__(self, gltf: gl.GLTF2, data: bytes = b""):
        self.gltf, self.data = gltf, bytearray(data)   # `data`: an existing buffer 0 to append to

    def add(self, array: np.ndarray, kind: str, target: int | None = None, bounds: bool = False) -> int:
        array = np.ascontiguousarray(array)
        component = {np.dtype(np.float32): gl.FLOAT, np.dtype(np.uint16): gl.UNSIGNED_SHORT,
                     np.dtype(np.uint32): gl.UNSIGNED_INT}[array.dtype]
        width = {gl.SCALAR: 1, gl.VEC2: 2, gl.VEC3: 3, gl.VEC4: 4}[kind]
        self.data += b"\0" * (-len(self.data) % 4)           # 4-byte aligned views
        self.gltf.bufferViews.append(gl.BufferView(buffer=0, byteOffset=len(self.data),
                                                   byteLength=array.nbytes, target=target))
        self.data += array.tobytes()
        flat = array.reshape(-1, width)
        accessor = gl.Accessor(bufferView=len(self.gltf.bufferViews) - 1, componentType=component,
                               count=len(flat), type=kind)
        if bounds:  # required for POSITION and animation inputs; must be the exact float32 extremes
            accessor.min, accessor.max = flat.min(0).tolist(), flat.max(0).tolist()
        self.gltf.accessors.append(accessor)
        return len(self.gltf.accessors) - 1


# ---------------------------------------------------------------- GLB
def to_glb(motion: FaceMotion, rig: FaceRig | None = None) -> bytes:
    """The GLB file contents for `motion` on `rig` (default: FaceRig.default())."""
    rig = rig or FaceRig.default()
    tris = np.asarray(rig.triangles)
    neutral = rig.neutral * MM_TO_M
    deltas = rig.deltas * MM_TO_M
    normals = vertex_normals(neutral, tris)
    target_normals = vertex_normals(neutral[None] + deltas, tris) - normals
    pivot = (rig.neck_pivot * MM_TO_M).astype(np.float32).tolist()

    gltf = gl.GLTF2(asset=gl.Asset(generator="talkstyle", version="2.0"))
    blob = _Blob(gltf)
    attributes = gl.Attributes(
        POSITION=blob.add(neutral.astype(np.float32), gl.VEC3, gl.ARRAY_BUFFER, bounds=True),
        NORMAL=blob.add(normals, gl.VEC3, gl.ARRAY_BUFFER),
        TEXCOORD_0=blob.add(np.asarray(rig.uvs, np.float32), gl.VEC2, gl.ARRAY_BUFFER))
    index_type = np.uint16 if len(neutral) < 65536 else np.uint32
    indices = blob.add(tris.astype(index_type).reshape(-1), gl.SCALAR, gl.ELEMENT_ARRAY_BUFFER)
    targets = [{"POSITION": blob.add(d.astype(np.float32), gl.VEC3, gl.ARRAY_BUFFER, bounds=True),
                "NORMAL": blob.add(n.astype(np.float32), gl.VEC3, gl.ARRAY_BUFFER)}
               for d, n in zip(deltas, target_normals)]
    gltf.materials.append(gl.Material(
        name="skin", pbrMetallicRoughness=gl.PbrMetallicRoughness(
            baseColorFactor=SKIN_RGBA, metallicFactor=0.0, roughnessFactor=0.6)))
    gltf.meshes.append(gl.Mesh(
        name="face", weights=[0.0] * len(ARKIT_NAMES), extras={"targetNames": list(ARKIT_NAMES)},
        primitives=[gl.Primitive(attributes=attributes, indices=indices, material=0, mode=gl.TRIANGLES,
                                 targets=targets)]))

    gltf.nodes.append(gl.Node(name="head", translation=pivot, children=[1]))
    gltf.nodes.append(gl.Node(name="face", mesh=0, translation=[-v for v in pivot]))
    gltf.scenes.append(gl.Scene(name="talkstyle", nodes=[0]))
    gltf.scene = 0

    times = blob.add((np.arange(motion.num_frames) / motion.fps).astype(np.float32), gl.SCALAR, bounds=True)
    weights = blob.add(motion.weights.astype(np.float32).reshape(-1), gl.SCALAR)
    rotations = blob.add(head_quaternions(motion.head), gl.VEC4)
    gltf.animations.append(gl.Animation(
        name="talkstyle",
        samplers=[gl.AnimationSampler(input=times, output=weights, interpolation="LINEAR"),
                  gl.AnimationSampler(input=times, output=rotations, interpolation="LINEAR")],
        channels=[gl.AnimationChannel(sampler=0, target=gl.AnimationChannelTarget(node=1, path="weights")),
                  gl.AnimationChannel(sampler=1, target=gl.AnimationChannelTarget(node=0, path="rotation"))]))
    gltf.scenes[0].extras = {"fps": motion.fps, "frames": motion.num_frames, "metadata": motion.metadata}

    gltf.buffers.append(gl.Buffer(byteLength=len(blob.data)))
    gltf.set_binary_blob(bytes(blob.data))
    return b"".join(gltf.save_to_bytes())


def write_glb(motion: FaceMotion, path: str | Path, rig: FaceRig | None = None) -> Path:
    """Write the animated GLB atomically."""
    path = Path(path)
    write_bytes(path, to_glb(motion, rig))
    return path
