"""Export speed and size: Live Link Face CSV write/read and GLB write for a 60 s motion at 25 fps.

Run: .venv/bin/python benchmarks/bench_export.py
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from talkstyle.export import gltf, gltf_validator, livelink
from talkstyle.face.motion import FaceMotion
from talkstyle.face.rig import FaceRig

SECONDS, FPS = 60, 25.0


def timed(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    frames = int(SECONDS * FPS)
    motion = FaceMotion(rng.uniform(0, 1, (frames, 52)), rng.uniform(-0.3, 0.3, (frames, 3)), FPS)
    FaceRig.default()                                   # built once, cached: not part of the timing
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, glb_path = Path(tmp) / "m.csv", Path(tmp) / "m.glb"
        rows = [
            ("CSV write", timed(lambda: livelink.write_csv(motion, csv_path)), csv_path),
            ("CSV read", timed(lambda: livelink.read_csv(csv_path)), csv_path),
            ("GLB write", timed(lambda: gltf.write_glb(motion, glb_path)), glb_path),
        ]
        print(f"{frames} frames ({SECONDS} s at {FPS:g} fps)")
        for name, seconds, path in rows:
            print(f"{name:10s} {seconds * 1000:7.1f} ms  {frames / seconds:9.0f} frames/s  "
                  f"{path.stat().st_size / 1e6:5.2f} MB")
        if gltf_validator.available():
            start = time.perf_counter()
            issues = gltf_validator.validate(glb_path)["issues"]
            print(f"validator  {time.perf_counter() - start:7.2f} s   errors {issues['numErrors']}, "
                  f"warnings {issues['numWarnings']}, infos {issues['numInfos']}")


if __name__ == "__main__":
    main()
