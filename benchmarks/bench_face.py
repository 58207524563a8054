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


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=250)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rig = FaceRig.default()
    big = FaceMotion(rng.random((20000, 52)) * 0.5, rng.normal(0, 0.1, (20000, 3)))
    t_decode = best_of(lambda: rig.decode(big))
    decode_fps = len(big) / t_decode
    verts = rig.decode(big.slice(0, args.frames))
    r = Renderer(size=512, rig=rig)
    r.render_frame(verts[0])                                   # warm-up (shader compile)
    t_render = best_of(lambda: [None for _ in r.render(verts)])
    render_fps = args.frames / t_render
    print(f"renderer backend: {r.backend}")
    r.release()
    print(f"decode: {decode_fps:,.0f} frames/s  (target 50,000: {decode_fps / 50000:.2f}x)")
    print(f"render 512x512: {render_fps:,.1f} frames/s  (target 60: {render_fps / 60:.2f}x; "
          f"real time at 25 fps: {render_fps / 25:.1f}x)")


if __name__ == "__main__":
    main()
