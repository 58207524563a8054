"""Blender imports face.glb with its shape-key animation and head rotation (scripts/blender_check_glb.py).

Runs when TALKSTYLE_BPY_PYTHON names a Python with the PyPI `bpy` wheel (its own venv: bpy needs
numpy<2 and Python 3.11); otherwise skipped, saying why.
"""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from talkstyle.export.gltf import write_glb
from talkstyle.face.motion import FaceMotion

BPY = os.environ.get("TALKSTYLE_BPY_PYTHON")
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "blender_check_glb.py"


@pytest.mark.skipif(not BPY, reason="set TALKSTYLE_BPY_PYTHON to a Python with `bpy` (docs/formats.md)")
def test_blender_reads_back_keyframes_and_head(tmp_path):
    rng = np.random.default_rng(1)
    t = np.arange(30)
    motion = FaceMotion(rng.uniform(0, 1, (30, 52)),
                        np.stack([0.2 * np.sin(t / 4), 0.4 * np.sin(t / 6), 0.1 * np.cos(t / 5)], 1), 25.0)
    motion.save(tmp_path / "m.npz")
    write_glb(motion, tmp_path / "face.glb")
    res = subprocess.run([BPY, str(SCRIPT), str(tmp_path / "face.glb"), str(tmp_path / "m.npz")],
                         capture_output=True, text=True, timeout=300)
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert res.returncode == 0 and report["ok"], report
    assert report["shape_keys"] == 52 and report["weights_max_error"] < 1e-4
