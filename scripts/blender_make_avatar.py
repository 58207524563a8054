"""Make the test avatar `tests/data/blender_suzanne.glb` with Blender (the PyPI `bpy` wheel).

Blender's stock monkey head (Suzanne, 507 vertices: a topology that has nothing to do with the
FaceRig) gets an armature with Rigify-style bone names (DEF-spine, DEF-neck, DEF-head) and the 52
ARKit shape keys spelled the Blender way (`EyeBlink.L`, `MouthSmile.R`, `JawOpen`), each a simple
regional deformation, and is written by Blender's own glTF exporter: a file laid out the way a
Blender user's character is (skin, bone rest rotations, Y-up conversion, targetNames in extras).

    python3.11 -m venv /tmp/bpyvenv && /tmp/bpyvenv/bin/pip install "numpy<2" bpy==5.0.1
    /tmp/bpyvenv/bin/python scripts/blender_make_avatar.py tests/data/blender_suzanne.glb
"""
from __future__ import annotations

import sys

import bpy
import numpy as np

# Blender coordinates: z up, Suzanne looks toward -y, the subject's left is +x.
# name -> (centre, radius, displacement) of a smooth regional push; sided names are for the left
# side and mirrored for the right.
EYE = (0.45, -0.78, 0.22)
MOUTH = (0.0, -0.8, -0.6)
CORNER = (0.38, -0.72, -0.55)
BROW = (0.45, -0.7, 0.55)
REGIONS: dict[str, tuple[tuple[float, float, float], float, tuple[float, float, float]]] = {
    "eyeBlinkLeft": (EYE, 0.22, (0, 0.06, -0.08)),
    "eyeLookDownLeft": (EYE, 0.18, (0, 0, -0.06)),
    "eyeLookInLeft": (EYE, 0.18, (-0.06, 0, 0)),
    "eyeLookOutLeft": (EYE, 0.18, (0.06, 0, 0)),
    "eyeLookUpLeft": (EYE, 0.18, (0, 0, 0.06)),
    "eyeSquintLeft": ((0.45, -0.78, 0.08), 0.2, (0, 0, 0.05)),
    "eyeWideLeft": (EYE, 0.25, (0, -0.04, 0.05)),
    "jawForward": (MOUTH, 0.45, (0, -0.12, 0)),
    "jawLeft": (MOUTH, 0.45, (0.12, 0, 0)),
    "mouthClose": (MOUTH, 0.3, (0, 0, 0.05)),
    "mouthFunnel": (MOUTH, 0.3, (0, -0.12, 0)),
    "mouthPucker": (MOUTH, 0.3, (0, -0.16, 0.02)),
    "mouthLeft": (MOUTH, 0.35, (0.1, 0, 0)),
    "mouthSmileLeft": (CORNER, 0.25, (0.06, 0.02, 0.12)),
    "mouthFrownLeft": (CORNER, 0.25, (0, 0, -0.1)),
    "mouthDimpleLeft": (CORNER, 0.2, (0.04, 0.06, 0)),
    "mouthStretchLeft": (CORNER, 0.25, (0.1, 0, -0.04)),
    "mouthRollLower": ((0, -0.8, -0.7), 0.2, (0, 0.08, 0.03)),
    "mouthRollUpper": ((0, -0.8, -0.5), 0.2, (0, 0.08, -0.03)),
    "mouthShrugLower": ((0, -0.75, -0.8), 0.3, (0, -0.03, 0.06)),
    "mouthShrugUpper": ((0, -0.8, -0.5), 0.25, (0, -0.03, 0.05)),
    "mouthPressLeft": ((0.2, -0.8, -0.6), 0.2, (0, 0.03, 0)),
    "mouthLowerDownLeft": ((0.15, -0.8, -0.7), 0.2, (0, 0, -0.08)),
    "mouthUpperUpLeft": ((0.15, -0.8, -0.5), 0.2, (0, 0, 0.08)),
    "browDownLeft": (BROW, 0.25, (-0.03, 0, -0.1)),
    "browInnerUp": ((0.0, -0.7, 0.55), 0.35, (0, 0, 0.12)),
    "browOuterUpLeft": ((0.7, -0.6, 0.55), 0.25, (0, 0, 0.12)),
    "cheekPuff": ((0.6, -0.5, -0.3), 0.35, (0.12, -0.04, 0)),
    "cheekSquintLeft": ((0.55, -0.65, -0.05), 0.25, (0, 0, 0.07)),
    "noseSneerLeft": ((0.12, -0.9, -0.15), 0.2, (0, 0, 0.07)),
    "tongueOut": ((0, -0.8, -0.7), 0.2, (0, -0.1, -0.04)),
}
HINGE = np.array([0.0, -0.1, -0.35])
ARKIT = ["eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
         "eyeSquintLeft", "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight",
         "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight", "eyeWideRight", "jawForward", "jawLeft",
         "jawRight", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
         "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight", "mouthDimpleLeft",
         "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight", "mouthRollLower", "mouthRollUpper",
         "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft",
         "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight", "browDownLeft", "browDownRight",
         "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff", "cheekSquintLeft",
         "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "tongueOut"]


def blender_name(name: str) -> str:
    """eyeBlinkLeft -> EyeBlink.L (Blender's side suffix), jawOpen -> JawOpen."""
    cap = name[0].upper() + name[1:]
    for side, tag in (("Left", ".L"), ("Right", ".R")):
        if cap.endswith(side) and cap not in ("JawLeft", "JawRight", "MouthLeft", "MouthRight"):
            return cap[: -len(side)] + tag
    return cap


def displacement(v: np.ndarray, name: str) -> np.ndarray:
    if name == "jawOpen":   # the lower head turns 18 degrees about a hinge, fading above the mouth
        w = np.clip((-0.45 - v[:, 2]) / 0.2, 0, 1) * (v[:, 1] < 0.3)
        a = np.deg2rad(18)
        y, z = v[:, 1] - HINGE[1], v[:, 2] - HINGE[2]
        rot = np.stack([np.zeros(len(v)), y * np.cos(a) + z * np.sin(a) - y, -y * np.sin(a) + z * np.cos(a) - z], 1)
        return rot * w[:, None]
    left = name
    mirror = name.endswith("Right") and left.replace("Right", "Left") in REGIONS
    if mirror:
        left = name.replace("Right", "Left")
    if name in ("jawRight", "mouthRight"):
        left, mirror = name.replace("Right", "Left"), True
    centre, radius, disp = REGIONS[left]
    c, d = np.array(centre), np.array(disp)
    if mirror:
        c, d = c * [-1, 1, 1], d * [-1, 1, 1]
    fall = np.clip(1 - (np.linalg.norm(v - c, axis=1) / radius) ** 2, 0, 1) ** 2
    if name == "cheekPuff":   # both cheeks
        fall2 = np.clip(1 - (np.linalg.norm(v - c * [-1, 1, 1], axis=1) / radius) ** 2, 0, 1) ** 2
        return fall[:, None] * d + fall2[:, None] * d * [-1, 1, 1]
    return fall[:, None] * d


def main(out: str) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.mesh.primitive_monkey_add(location=(0, 0, 1.6), size=0.2)
    head = bpy.context.active_object
    head.name = head.data.name = "Suzanne"
    bpy.ops.object.transform_apply(location=False, scale=True, rotation=False)
    bpy.ops.object.shade_smooth()
    base = np.array([v.co[:] for v in head.data.vertices]) / 0.1   # the monkey's own units
    head.shape_key_add(name="Basis")
    for name in ARKIT:
        key = head.shape_key_add(name=blender_name(name))
        key.value = 0.0          # at rest (the exporter writes the values as the mesh's default weights)
        moved = base + displacement(base, name)
        for i, p in enumerate(moved * 0.1):
            key.data[i].co = p

    bpy.ops.object.armature_add(location=(0, 0, 1.0))
    rig = bpy.context.active_object
    rig.name = rig.data.name = "Rig"
    bpy.ops.object.mode_set(mode="EDIT")
    bones = rig.data.edit_bones
    spine = bones[0]
    spine.name, spine.head, spine.tail = "DEF-spine", (0, 0, 1.0), (0, 0.02, 1.35)
    neck = bones.new("DEF-neck")
    neck.head, neck.tail, neck.parent = (0, 0.02, 1.35), (0, 0.0, 1.5), spine
    top = bones.new("DEF-head")
    top.head, top.tail, top.parent = (0, 0.0, 1.5), (0, 0.0, 1.8), neck
    bpy.ops.object.mode_set(mode="OBJECT")
    group = head.vertex_groups.new(name="DEF-head")
    group.add(list(range(len(head.data.vertices))), 1.0, "REPLACE")
    head.parent = rig
    head.matrix_parent_inverse = rig.matrix_world.inverted()   # keep the head where it is
    head.modifiers.new("Armature", "ARMATURE").object = rig

    material = bpy.data.materials.new("Skin")
    material.diffuse_color = (0.75, 0.55, 0.42, 1.0)
    head.data.materials.append(material)
    bpy.ops.export_scene.gltf(filepath=out, export_format="GLB", export_morph=True, export_skins=True,
                              export_animations=False, export_apply=False, export_materials="EXPORT")
    print("wrote", out)


if __name__ == "__main__":
    main(sys.argv[-1])
