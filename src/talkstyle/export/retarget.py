"""Retarget a FaceMotion onto someone else's glTF / VRM avatar.

The avatar keeps everything it has (meshes, skins, materials, VRM extensions, its own animations);
one animation named "talkstyle" is added:
  - a "weights" channel for every node whose mesh has a driven morph target, with all of that
    mesh's targets (undriven ones keep their default weight);
  - a "rotation" channel on the head bone (or the neck), the FaceMotion's head rotation composed
    with the bone's rest pose.

Which morph target plays which ARKit channel:
  1. `mapping` (from `--map map.json`): {"jawOpen": "Mouth_Open", "tongueOut": null, ...}; a value
     is an avatar morph-target / VRM-expression name or a list of them; null leaves a channel out;
  2. morph targets whose names match an ARKit name up to the common variants: case, separators,
     `_L`/`.L`/`L`/`Left` sides, prefixes such as `blendShape1.` or `mixamorig:`
     (`EyeBlink_L`, `blendShape1.eyeBlinkLeft`, `eye_blink_left` all play eyeBlinkLeft);
  3. VRM expressions with ARKit names ("perfect sync" avatars), VRM 1.0 and 0.x;
  4. an avatar with no ARKit shapes at all but VRM presets (aa, ih, ou, ee, oh, blink, happy, ...)
     gets the presets driven from the ARKit curves (`PRESET_DRIVERS`): an approximation.
A mesh used by several nodes, or several meshes with the same target name (head, teeth, lashes),
are all driven. An avatar lacking some of the 52 shapes is refused with the list of what is
missing, unless `allow_missing`.

Head rotation: talkstyle's R = Ry(yaw) Rx(pitch) Rz(roll) is in a frame where the face looks
along +z (glTF's convention, VRM 1.0); VRM 0.x avatars face -z and the rotation is turned with
them. The bone's new local rotation is P^-1 F R F^-1 P L, where P is the parent's world rotation at
rest, F the facing turn and L the bone's rest rotation, so the head turns about its own joint by R
in world terms whatever the rest pose of the skeleton.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pygltflib as gl
from scipy.spatial.transform import Rotation

from ..atomic import write_bytes
from ..errors import TalkstyleError
from ..face.arkit import ARKIT_NAMES, INDEX
from ..face.motion import FaceMotion
from ..face.rig import head_rotation
from .gltf import _Blob, continuous_quaternions

ANIMATION_NAME = "talkstyle"
OUTPUT_SUFFIXES = (".glb", ".vrm")


# ====================================================================== names
_SIDE = {"l": "left", "r": "right", "left": "left", "right": "right"}


def name_key(name: str) -> str:
    """A name reduced to compare ARKit variants: the part after the last `.`, `:` or `|`
    (`blendShape1.jawOpen`, `mixamorig:Head`), lowercase, letters and digits only, a trailing
    side token (`_L`, `.R`, ` Left`, `_l`) spelled out (`left` / `right`)."""
    last = re.split(r"[.:|]", name.strip())
    tail = last[-1]
    # `EyeBlink.L` / `EyeBlink.R` (Blender's convention) split off their side: put it back.
    if len(last) > 1 and tail.lower() in ("l", "r"):
        tail = last[-2] + "_" + tail
    tokens = [t for t in re.split(r"[^0-9A-Za-z]+", tail) if t]
    if len(tokens) > 1 and tokens[-1].lower() in _SIDE:
        tokens[-1] = _SIDE[tokens[-1].lower()]
    return "".join(tokens).lower()


_ARKIT_BY_KEY = {name_key(n): n for n in ARKIT_NAMES}


def arkit_name(name: str) -> str | None:
    """The ARKit name that `name` spells, or None (`EyeBlink_L` -> eyeBlinkLeft, `JawOpen` -> jawOpen,
    `eyeBlinkL` -> eyeBlinkLeft, `A14_Eye_Blink_Left` -> eyeBlinkLeft)."""
    key = name_key(name)
    key = re.sub(r"^[a-z]\d{2}(?=[a-z])", "", key)       # Character Creator's `A14_` numbering
    if key in _ARKIT_BY_KEY:
        return _ARKIT_BY_KEY[key]
    if key[-1:] in ("l", "r") and key[:-1] + _SIDE[key[-1]] in _ARKIT_BY_KEY:   # `eyeBlinkL`
        return _ARKIT_BY_KEY[key[:-1] + _SIDE[key[-1]]]
    return None


# ====================================================================== VRM presets
def _mean(w: np.ndarray, *names: str) -> np.ndarray:
    return w[:, [INDEX[n] for n in names]].mean(1)


def _mouth(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(open, rounded, spread) of the mouth from ARKit weights."""
    opened = np.clip(w[:, INDEX["jawOpen"]] - w[:, INDEX["mouthClose"]], 0, 1)
    rounded = np.maximum(w[:, INDEX["mouthFunnel"]], w[:, INDEX["mouthPucker"]])
    spread = np.maximum(_mean(w, "mouthStretchLeft", "mouthStretchRight"),
                        _mean(w, "mouthSmileLeft", "mouthSmileRight"))
    return opened, rounded, spread


# VRM 1.0 preset name -> its weight from the (T, 52) ARKit weights. The five vowels split the
# mouth by opening and rounding; the emotions take their main action unit.
PRESET_DRIVERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "aa": lambda w: (lambda o, r, s: o * (1 - r))(*_mouth(w)),
    "oh": lambda w: (lambda o, r, s: np.minimum(1, 2 * o) * r)(*_mouth(w)),
    "ou": lambda w: (lambda o, r, s: (1 - np.minimum(1, 2 * o)) * r)(*_mouth(w)),
    "ee": lambda w: (lambda o, r, s: s * (1 - r) * np.minimum(1, 3 * o))(*_mouth(w)),
    "ih": lambda w: (lambda o, r, s: s * (1 - r) * (1 - np.minimum(1, 3 * o)))(*_mouth(w)),
    "blinkLeft": lambda w: w[:, INDEX["eyeBlinkLeft"]],
    "blinkRight": lambda w: w[:, INDEX["eyeBlinkRight"]],
    "blink": lambda w: _mean(w, "eyeBlinkLeft", "eyeBlinkRight"),
    # The subject's left: the left eye looks out and the right eye looks in.
    "lookLeft": lambda w: _mean(w, "eyeLookOutLeft", "eyeLookInRight"),
    "lookRight": lambda w: _mean(w, "eyeLookInLeft", "eyeLookOutRight"),
    "lookUp": lambda w: _mean(w, "eyeLookUpLeft", "eyeLookUpRight"),
    "lookDown": lambda w: _mean(w, "eyeLookDownLeft", "eyeLookDownRight"),
    "happy": lambda w: _mean(w, "mouthSmileLeft", "mouthSmileRight"),
    "angry": lambda w: _mean(w, "browDownLeft", "browDownRight"),
    "sad": lambda w: _mean(w, "mouthFrownLeft", "mouthFrownRight"),
    "surprised": lambda w: (w[:, INDEX["browInnerUp"]] + _mean(w, "eyeWideLeft", "eyeWideRight")) / 2,
}
# VRM 0.x preset names -> VRM 1.0 names.
_VRM0_PRESETS = {"a": "aa", "i": "ih", "u": "ou", "e": "ee", "o": "oh", "blink": "blink",
                 "blink_l": "blinkLeft", "blink_r": "blinkRight", "joy": "happy", "angry": "angry",
                 "sorrow": "sad", "fun": "relaxed", "lookup": "lookUp", "lookdown": "lookDown",
                 "lookleft": "lookLeft", "lookright": "lookRight", "neutral": "neutral"}


# ====================================================================== the avatar
@dataclasses.dataclass(frozen=True)
class Bind:
    """One morph target of one node, at a weight (a VRM expression may bind at less than 1)."""
    node: int
    target: int
    weight: float = 1.0


@dataclasses.dataclass
class Avatar:
    gltf: gl.GLTF2
    path: Path
    morphs: dict[str, list[Bind]]            # morph-target name -> the binds of every node with it
    expressions: dict[str, list[Bind]]       # VRM expression name -> its binds
    presets: dict[str, list[Bind]]           # VRM 1.0 preset name -> its binds
    vrm: int | None                          # 0 or 1: the VRM version, None for plain glTF

    @property
    def names(self) -> list[str]:
        return sorted(set(self.morphs) | set(self.expressions))


def _num_targets(mesh: gl.Mesh) -> int:
    return max((len(p.targets or []) for p in mesh.primitives), default=0)


def _target_names(mesh: gl.Mesh) -> list[str] | None:
    """Morph target names: mesh.extras.targetNames (Blender, three.js, most exporters), else the
    first primitive's extras."""
    for extras in (mesh.extras, *(p.extras for p in mesh.primitives)):
        if isinstance(extras, dict) and isinstance(extras.get("targetNames"), list):
            return [str(n) for n in extras["targetNames"]]
    return None


def load_avatar(path: str | Path) -> Avatar:
    path = Path(path)
    if not path.is_file():
        raise TalkstyleError(f"avatar not found: {path}")
    try:
        with open(path, "rb") as f:
            binary = f.read(4) == b"glTF"
        gltf = gl.GLTF2().load_binary(str(path)) if binary else gl.GLTF2().load_json(str(path))
        if gltf is None:
            raise ValueError("not a glTF file")
        # .gltf with data URIs or side files: everything into one binary buffer (written as GLB).
        if not binary and gltf.buffers:
            gltf.convert_buffers(gl.BufferFormat.BINARYBLOB)
    except TalkstyleError:
        raise
    except Exception as e:  # pygltflib raises assorted errors on corrupt files
        raise TalkstyleError(f"cannot read avatar {path}: not a glTF / GLB / VRM file ({e})") from None
    if len(gltf.buffers) > 1:
        raise TalkstyleError(f"avatar {path} has {len(gltf.buffers)} buffers: only one-buffer files are supported")

    morphs: dict[str, list[Bind]] = {}
    nodes_of_mesh: dict[int, list[int]] = {}
    for n, node in enumerate(gltf.nodes):
        if node.mesh is None:
            continue
        nodes_of_mesh.setdefault(node.mesh, []).append(n)
        for t, name in enumerate(_target_names(gltf.meshes[node.mesh]) or []):
            morphs.setdefault(name, []).append(Bind(n, t))

    ext = gltf.extensions or {}
    expressions: dict[str, list[Bind]] = {}
    presets: dict[str, list[Bind]] = {}
    vrm: int | None = None
    if isinstance(ext.get("VRMC_vrm"), dict):
        vrm = 1
        groups = ext["VRMC_vrm"].get("expressions") or {}
        for kind in ("preset", "custom"):
            for name, expr in (groups.get(kind) or {}).items():
                binds = [Bind(int(b["node"]), int(b["index"]), float(b.get("weight", 1.0)))
                         for b in expr.get("morphTargetBinds") or []]
                expressions[name] = binds
                if kind == "preset":
                    presets[name] = binds
    elif isinstance(ext.get("VRM"), dict):
        vrm = 0
        for group in (ext["VRM"].get("blendShapeMaster") or {}).get("blendShapeGroups") or []:
            # VRM 0.x binds name a mesh (every node using it) and weigh 0-100.
            binds = [Bind(n, int(b["index"]), float(b.get("weight", 100)) / 100)
                     for b in group.get("binds") or [] for n in nodes_of_mesh.get(int(b["mesh"]), [])]
            if group.get("name"):
                expressions[str(group["name"])] = binds
            preset = _VRM0_PRESETS.get(str(group.get("presetName", "")).lower())
            if preset:
                presets[preset] = binds
                expressions.setdefault(preset, binds)
    for binds in (*morphs.values(), *expressions.values()):
        for b in binds:
            mesh = gltf.nodes[b.node].mesh if 0 <= b.node < len(gltf.nodes) else None
            if mesh is None or not 0 <= b.target < _num_targets(gltf.meshes[mesh]):
                raise TalkstyleError(f"avatar {path}: a VRM expression binds node {b.node} target "
                                     f"{b.target}, which does not exist")
    return Avatar(gltf, path, morphs, expressions, presets, vrm)


# ====================================================================== matching
@dataclasses.dataclass
class Plan:
    """What drives what: ARKit channel (or VRM preset) -> binds, and the head bone."""
    channels: dict[str, list[Bind]]          # ARKit name -> binds (arkit mode)
    presets: dict[str, list[Bind]]           # VRM preset -> binds (preset mode)
    sources: dict[str, str]                  # ARKit name / preset -> the avatar name(s) used
    missing: list[str]
    head_node: int | None
    head_frame: np.ndarray                   # (3,3) the facing turn F

    @property
    def mode(self) -> str:
        return "vrm-presets" if self.presets else "arkit"


def load_map(path: str | Path) -> dict[str, list[str] | None]:
    """A --map file: {"<ARKit name>": "<avatar name>" | ["<name>", ...] | null}."""
    path = Path(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TalkstyleError(f"map file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TalkstyleError(f"map file {path} is not JSON: {e}") from None
    if not isinstance(data, dict):
        raise TalkstyleError(f"map file {path} must hold a JSON object {{\"jawOpen\": \"MouthOpen\", ...}}")
    out: dict[str, list[str] | None] = {}
    for key, value in data.items():
        name = key if key in INDEX else arkit_name(key)
        if name is None:
            raise TalkstyleError(f"map file {path}: {key!r} is not an ARKit blendshape name")
        if value is None:
            out[name] = None
        elif isinstance(value, str):
            out[name] = [value]
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out[name] = list(value)
        else:
            raise TalkstyleError(f"map file {path}: {key!r} must map to a name, a list of names or null")
    return out


def _lookup(avatar: Avatar, name: str) -> list[Bind] | None:
    """Binds of an avatar name: exact morph / expression name first, then up to the variants."""
    if name in avatar.morphs:
        return avatar.morphs[name]
    if name in avatar.expressions:
        return avatar.expressions[name]
    key = name_key(name)
    hits = [b for table in (avatar.morphs, avatar.expressions) for n, bs in table.items()
            if name_key(n) == key for b in bs]
    return hits or None


def _head_candidates(gltf: gl.GLTF2, word: str) -> list[int]:
    bad = ("top", "end", "fore", "front", "tip", "nub")
    out = []
    for i, node in enumerate(gltf.nodes):
        key = name_key(node.name or "")
        if key.endswith(word) and not any(b in key for b in bad):
            out.append(i)
    return out


def _depths(gltf: gl.GLTF2) -> dict[int, int]:
    depth: dict[int, int] = {}

    def walk(i: int, d: int) -> None:
        depth[i] = d
        for c in gltf.nodes[i].children or []:
            walk(c, d + 1)
    for i in set(range(len(gltf.nodes))) - {c for n in gltf.nodes for c in n.children or []}:
        walk(i, 0)
    return depth


def find_head(avatar: Avatar, name: str | None = None) -> int | None:
    """The node that carries the head rotation: `name` if given; the VRM humanoid's head (or neck);
    else the shallowest node named like a head (`Head`, `mixamorig:Head`, `J_Bip_C_Head`,
    `Bip01 Head`, not `HeadTop_End`), else like a neck."""
    gltf = avatar.gltf
    if name is not None:
        hits = [i for i, n in enumerate(gltf.nodes) if n.name == name] or \
               [i for i, n in enumerate(gltf.nodes) if name_key(n.name or "") == name_key(name)]
        if not hits:
            raise TalkstyleError(f"avatar {avatar.path} has no node named {name!r} for --head-bone")
        return hits[0]
    ext = gltf.extensions or {}
    if avatar.vrm == 1:
        bones = ((ext["VRMC_vrm"].get("humanoid") or {}).get("humanBones") or {})
        for bone in ("head", "neck"):
            if isinstance(bones.get(bone), dict) and "node" in bones[bone]:
                return int(bones[bone]["node"])
    if avatar.vrm == 0:
        bones = {b.get("bone"): b.get("node") for b in (ext["VRM"].get("humanoid") or {}).get("humanBones") or []}
        for bone in ("head", "neck"):
            if bones.get(bone) is not None:
                return int(bones[bone])
    depth = _depths(gltf)
    for word in ("head", "neck"):
        hits = _head_candidates(gltf, word)
        if hits:
            return min(hits, key=lambda i: (depth.get(i, 0), i))
    return None


def plan(avatar: Avatar, mapping: Mapping[str, Sequence[str] | None] | None = None,
         head_bone: str | None = None, allow_missing: bool = False, head: bool = True) -> Plan:
    """Match the 52 ARKit channels (and the head) to the avatar, or refuse with what is missing."""
    mapping = mapping or {}
    channels: dict[str, list[Bind]] = {}
    sources: dict[str, str] = {}
    for arkit in ARKIT_NAMES:
        if arkit in mapping:
            targets = mapping[arkit]
            if targets is None:
                continue
            binds: list[Bind] = []
            for t in targets:
                found = _lookup(avatar, t)
                if found is None:
                    raise TalkstyleError(f"--map: {t!r} (for {arkit}) is not a morph target or expression "
                                         f"of {avatar.path.name}; it has: {_listing(avatar.names)}")
                binds += found
            channels[arkit], sources[arkit] = binds, ", ".join(targets)
            continue
        # Morph targets first: a VRM expression of the same name usually binds just that target.
        for table in (avatar.morphs, avatar.expressions):
            names = [n for n in table if arkit_name(n) == arkit]
            if names:
                channels[arkit] = [b for n in names for b in table[n]]
                sources[arkit] = ", ".join(names)
                break
    skipped = {k for k, v in mapping.items() if v is None}
    missing = [n for n in ARKIT_NAMES if n not in channels and n not in skipped]

    presets: dict[str, list[Bind]] = {}
    if not channels and not mapping:
        presets = {p: b for p, b in avatar.presets.items() if p in PRESET_DRIVERS and b}
        if not presets:
            raise TalkstyleError(f"{avatar.path.name} has no ARKit morph targets and no VRM expressions "
                                 f"to drive (its morph targets: {_listing(avatar.names)}); "
                                 f"name them with --map map.json")
        sources = {p: p for p in presets}
        missing = []
    elif missing and not allow_missing:
        raise TalkstyleError(f"{avatar.path.name} lacks {len(missing)} of the 52 ARKit shapes: "
                             f"{', '.join(missing)} (name them with --map map.json, or --allow-missing)")

    head_node = find_head(avatar, head_bone) if head else None
    if head and head_node is None:
        raise TalkstyleError(f"{avatar.path.name} has no node named like a head or neck bone: name it "
                             f"with --head-bone NODE, or leave the head still with --no-head")
    # VRM 0.x faces -z: turn the rotation with the avatar (a half turn about y).
    facing = np.diag([-1.0, 1.0, -1.0]) if avatar.vrm == 0 else np.eye(3)
    return Plan(channels, presets, sources, missing, head_node, facing)


def _listing(names: Sequence[str], limit: int = 12) -> str:
    if not names:
        return "none"
    more = f" ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


# ====================================================================== transforms
def _local_matrix(node: gl.Node) -> np.ndarray:
    if node.matrix is not None:
        return np.asarray(node.matrix, np.float64).reshape(4, 4).T     # glTF is column-major
    m = np.eye(4)
    rot = Rotation.from_quat(node.rotation) if node.rotation is not None else Rotation.identity()
    m[:3, :3] = rot.as_matrix() * np.asarray(node.scale if node.scale is not None else [1, 1, 1])[None]
    m[:3, 3] = node.translation if node.translation is not None else [0, 0, 0]
    return m


def _parents(gltf: gl.GLTF2) -> dict[int, int]:
    return {c: i for i, n in enumerate(gltf.nodes) for c in n.children or []}


def _world_rotation(gltf: gl.GLTF2, index: int) -> np.ndarray:
    """Rotation part of a node's rest world matrix (scale removed by polar decomposition)."""
    parents = _parents(gltf)
    m, i = np.eye(4), index
    while i is not None:
        m = _local_matrix(gltf.nodes[i]) @ m
        i = parents.get(i)
    u, _, vt = np.linalg.svd(m[:3, :3])
    r = u @ vt
    return r if np.linalg.det(r) > 0 else u @ np.diag([1, 1, -1]) @ vt


def _to_trs(node: gl.Node) -> None:
    """Animated nodes may not use `matrix` (glTF 2.0 3.7.2.1): split it into T, R, S."""
    if node.matrix is None:
        return
    m = _local_matrix(node)
    scale = np.linalg.norm(m[:3, :3], axis=0)
    rot = m[:3, :3] / np.where(scale > 0, scale, 1)[None]
    if np.linalg.det(rot) < 0:
        scale[0], rot[:, 0] = -scale[0], -rot[:, 0]
    node.translation, node.scale = m[:3, 3].tolist(), scale.tolist()
    node.rotation = Rotation.from_matrix(rot).as_quat().tolist()
    node.matrix = None


def head_track(avatar: Avatar, node: int, head: np.ndarray, facing: np.ndarray) -> np.ndarray:
    """(T,4) xyzw local rotations of `node` that turn it by the FaceMotion's head rotation."""
    gltf = avatar.gltf
    parent = _parents(gltf).get(node)
    P = _world_rotation(gltf, parent) if parent is not None else np.eye(3)
    _to_trs(gltf.nodes[node])
    rest = gltf.nodes[node].rotation
    L = Rotation.from_quat(rest).as_matrix() if rest is not None else np.eye(3)
    R = head_rotation(np.asarray(head, np.float64))
    local = P.T @ facing @ R @ facing.T @ P @ L
    return continuous_quaternions(Rotation.from_matrix(local).as_quat())


# ====================================================================== writing
def node_weights(avatar: Avatar, p: Plan, weights: np.ndarray) -> dict[int, np.ndarray]:
    """Node -> (T, targets) morph weights: each node's defaults plus the driven binds, in [0, 1]."""
    gltf = avatar.gltf
    w = np.asarray(weights, np.float64)
    drives: list[tuple[np.ndarray, list[Bind]]] = (
        [(w[:, INDEX[k]], b) for k, b in p.channels.items()] if p.mode == "arkit"
        else [(PRESET_DRIVERS[k](w), b) for k, b in p.presets.items()])
    out: dict[int, np.ndarray] = {}
    for _, binds in drives:
        for b in binds:
            if b.node not in out:
                node = gltf.nodes[b.node]
                mesh = gltf.meshes[node.mesh]
                # Undriven targets keep their default (pygltflib drops node.weights; the mesh's is
                # what a loader starts from); driven ones are the sum of their binds alone.
                default = getattr(node, "weights", None) or mesh.weights or [0.0] * _num_targets(mesh)
                out[b.node] = np.tile(np.asarray(default, np.float64), (len(w), 1))
            out[b.node][:, b.target] = 0.0
    for curve, binds in drives:
        for b in binds:
            out[b.node][:, b.target] += curve * b.weight
    # Several channels on one target (a map that sends both blinks to one "Blink") add up: keep them a weight.
    return {n: np.clip(v, 0.0, 1.0).astype(np.float32) for n, v in out.items()}


def retarget(motion: FaceMotion, avatar: Avatar, p: Plan) -> bytes:
    """The avatar as GLB bytes with the "talkstyle" animation added."""
    gltf = avatar.gltf
    blob = _Blob(gltf, gltf.binary_blob() or b"")
    if not gltf.buffers:
        gltf.buffers.append(gl.Buffer(byteLength=0))
    times = blob.add((np.arange(motion.num_frames) / motion.fps).astype(np.float32), gl.SCALAR, bounds=True)
    samplers: list[gl.AnimationSampler] = []
    channels: list[gl.AnimationChannel] = []
    for node, values in sorted(node_weights(avatar, p, motion.weights).items()):
        samplers.append(gl.AnimationSampler(input=times, output=blob.add(values.reshape(-1), gl.SCALAR),
                                            interpolation="LINEAR"))
        channels.append(gl.AnimationChannel(sampler=len(samplers) - 1,
                                            target=gl.AnimationChannelTarget(node=node, path="weights")))
    if p.head_node is not None:
        quats = head_track(avatar, p.head_node, motion.head, p.head_frame)
        samplers.append(gl.AnimationSampler(input=times, output=blob.add(quats, gl.VEC4), interpolation="LINEAR"))
        channels.append(gl.AnimationChannel(sampler=len(samplers) - 1,
                                            target=gl.AnimationChannelTarget(node=p.head_node, path="rotation")))
    # Retargeting a file twice (or our own face.glb) replaces the earlier take instead of adding one.
    gltf.animations = [a for a in gltf.animations if a.name != ANIMATION_NAME]
    gltf.animations.append(gl.Animation(name=ANIMATION_NAME, samplers=samplers, channels=channels,
                                        extras={"fps": motion.fps, "frames": motion.num_frames,
                                                "mode": p.mode, "sources": p.sources}))
    # pygltflib writes byteOffset 0 on accessors without a bufferView (Blender's sparse morph
    # targets), which the validator rejects: leave it out there.
    for accessor in gltf.accessors:
        if accessor.bufferView is None:
            accessor.byteOffset = None
    gltf.buffers[0].byteLength = len(blob.data)
    gltf.buffers[0].uri = None
    gltf.set_binary_blob(bytes(blob.data))
    return b"".join(gltf.save_to_bytes())


def retarget_file(motion: FaceMotion, avatar_path: str | Path, output: str | Path,
                  mapping: Mapping[str, Sequence[str] | None] | None = None, head_bone: str | None = None,
                  allow_missing: bool = False, head: bool = True) -> Plan:
    """Load, match, write `output` (.glb or .vrm) atomically; returns the plan (for reporting)."""
    output = Path(output)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise TalkstyleError(f"output must end in .glb or .vrm, not {output.name!r}")
    avatar = load_avatar(avatar_path)
    p = plan(avatar, mapping, head_bone, allow_missing, head)
    write_bytes(output, retarget(motion, avatar, p))
    return p
