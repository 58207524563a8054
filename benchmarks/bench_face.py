"""Decode and render throughput of the FaceRig preview path (issue targets: decode >= 50,000
frames/s, render >= 60 frames/s at 512x512 on 2 cores).

    .venv/bin/python benchmarks/bench_face.py [--frames 250]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from talkstyle.face import FaceMotion
from talkstyle.face.rig import FaceRig
from talkstyle.render.renderer import Renderer


def best_of(fn, repeats: int = 3) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of the fastest run. The machine is shared:
    CPU time says what the code costs, wall time what a user waits on a busy box."""
    times = []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t, time.process_time() - c))
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=250)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rig = FaceRig.default()
    big = FaceMotion(rng.random((20000, 52)) * 0.5, rng.normal(0, 0.1, (20000, 3)))
    t_decode, c_decode = best_of(lambda: rig.decode(big))
    verts = rig.decode(big.slice(0, args.frames))
    with Renderer(size=512, rig=rig) as r:
        r.render_frame(verts[0])                                   # warm-up (shader compile)
        t_render, c_render = best_of(lambda: [None for _ in r.render(verts)])
        print(f"renderer backend: {r.backend}")
    for what, n, wall, cpu, target in (("decode", len(big), t_decode, c_decode, 50000),
                                       ("render 512x512", args.frames, t_render, c_render, 60)):
        print(f"{what}: {n / wall:,.1f} frames/s wall ({n / wall / target:.2f}x target {target:,}), "
              f"{n / cpu:,.1f} frames per CPU-second ({n / cpu / target:.2f}x)")
    print(f"render vs real time at 25 fps: {args.frames / t_render / 25:.1f}x")


if __name__ == "__main__":
    main()
