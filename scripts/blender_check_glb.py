"""Import a talkstyle GLB into Blender (the PyPI `bpy` wheel) and check what Blender sees.

    python3.11 -m venv /tmp/bpyvenv && /tmp/bpyvenv/bin/pip install "numpy<2" bpy==5.0.1
    /tmp/bpyvenv/bin/python scripts/blender_check_glb.py out/face.glb out/motion.npz

Reads back, after Blender's glTF importer: the 52 shape keys by ARKit name, every shape key's
keyframes (compared with the motion's weights), and the head object's evaluated world rotation at
sampled frames (compared with the motion's head rotation, turned into Blender's Z-up frame).
Prints one JSON line; exits 1 when anything differs. Needs no talkstyle import (Blender's
Python has numpy and mathutils only).
"""
from __future__ import annotations

import json
import sys

import bpy
import numpy as np
from mathutils import Matrix

ARKIT_ORDER_KEY = "blendshape_names"


def fcurves(action: bpy.types.Action) -> list:
    """An action's F-curves: Blender 4.4+ keeps them in layered channelbags."""
    if hasattr(action, "layers") and action.layers:
        out = []
        for layer in action.layers:
            for strip in layer.strips:
                for bag in strip.channelbags:
                    out.extend(bag.fcurves)
        return out
    return list(action.fcurves)


def main(glb: str, npz: str) -> int:
    data = np.load(npz, allow_pickle=False)
    names, weights, head, fps = ([str(n) for n in data[ARKIT_ORDER_KEY]], data["weights"], data["head"],
                                 float(data["fps"]))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = int(round(fps)), round(fps) / fps
    bpy.ops.import_scene.gltf(filepath=glb)
    face = next(o for o in scene.objects if o.type == "MESH")
    keys = face.data.shape_keys
    report: dict = {"blender": bpy.app.version_string, "shape_keys": len(keys.key_blocks) - 1}
    missing = [n for n in names if n not in keys.key_blocks]
    report["missing_shape_keys"] = missing

    # Shape-key curves: data_path 'key_blocks["jawOpen"].value', one key per frame.
    curves = {fc.data_path.split('"')[1]: fc for fc in fcurves(keys.animation_data.action)
              if fc.data_path.startswith("key_blocks")}
    err = 0.0
    for k, name in enumerate(names):
        fc = curves.get(name)
        if fc is None:
            missing.append(name + " (no keyframes)")
            continue
        values = np.array([p.co[1] for p in sorted(fc.keyframe_points, key=lambda p: p.co[0])])
        if len(values) != len(weights):
            missing.append(f"{name} ({len(values)} keys for {len(weights)} frames)")
            continue
        err = max(err, float(np.abs(values - weights[:, k]).max()))
    report["weights_max_error"] = err
    first = min(p.co[0] for fc in curves.values() for p in fc.keyframe_points)

    # Head: glTF (y up, +z to the viewer) -> Blender (z up, -y to the viewer): (x, y, z) -> (x, -z, y).
    head_obj = next(o for o in scene.objects if o.name == "head")
    C = Matrix(((1, 0, 0), (0, 0, -1), (0, 1, 0)))
    scene.frame_set(int(first))
    rest = head_obj.matrix_world.to_3x3().normalized()
    worst = 0.0
    for f in np.linspace(0, len(head) - 1, 7).astype(int):
        scene.frame_set(int(first + f))
        pitch, yaw, roll = (float(a) for a in head[f])
        R = Matrix.Rotation(yaw, 3, "Y") @ Matrix.Rotation(pitch, 3, "X") @ Matrix.Rotation(roll, 3, "Z")
        R0 = Matrix.Rotation(float(head[0, 1]), 3, "Y") @ Matrix.Rotation(float(head[0, 0]), 3, "X") @ \
            Matrix.Rotation(float(head[0, 2]), 3, "Z")
        expected = C @ R @ R0.transposed() @ C.transposed() @ rest
        got = head_obj.matrix_world.to_3x3().normalized()
        worst = max(worst, max(abs(got[i][j] - expected[i][j]) for i in range(3) for j in range(3)))
    report["head_max_error"] = worst
    ok = not missing and err < 1e-4 and worst < 1e-3
    report["ok"] = ok
    print(json.dumps(report))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[-2], sys.argv[-1]))
