"""Stage II text-to-video throughput: seconds per clip, footage per GPU-hour, peak GPU memory.

With no arguments it measures the tiny random-weight LTX-2 and Wan pipelines of the test suite on
CPU (pipeline overhead, local loop vs Ray); with --model-dir it measures real weights on a GPU:

    python benchmarks/bench_synth_video.py --backend ltx2 --model-dir /models/LTX-2 --n 3
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from talkstyle.data.prompts import sample_prompts  # noqa: E402
from talkstyle.data.records import Prompt  # noqa: E402
from talkstyle.data.scale import run_local, run_ray  # noqa: E402
from talkstyle.data.synth.base import SynthJob  # noqa: E402
from talkstyle.data.synth.video_models import VideoModelOptions  # noqa: E402

LINE = "Please bring me a bottle of water and a big map of the old harbour."


def jobs(n: int) -> list[SynthJob]:
    prompts: list[Prompt] = sample_prompts(n, seed=0)
    return [SynthJob(f"bench-{i:04d}", p, LINE, f"bench-{i:04d}", seed=i) for i, p in enumerate(prompts)]


def timed(run, n: int, options: VideoModelOptions, out: Path, **kw) -> tuple[float, float]:
    """Wall time of the whole run and of the clips after the first (the first pays the load)."""
    stamps: list[float] = []
    start = time.perf_counter()
    run(jobs(n), options, out, lambda d: stamps.append(time.perf_counter()), **kw)
    total = time.perf_counter() - start
    steady = (stamps[-1] - stamps[0]) / max(n - 1, 1)
    return total, steady


def report(name: str, options: VideoModelOptions, n: int, out: Path, with_ray: bool) -> None:
    o = options.resolved()
    clip_s = o.num_frames / o.fps
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    total, per_clip = timed(run_local, n, options, out)
    print(f"{name}: {o.width}x{o.height}, {o.num_frames} frames at {o.fps:g} fps ({clip_s:.2f} s of video), "
          f"{o.steps} steps, {o.dtype}")
    print(f"  local loop: {total:.2f} s for {n} clips incl. load; {per_clip:.3f} s per clip after the first")
    print(f"  footage per worker-hour: {clip_s / per_clip:.2f} h "
          f"({per_clip / clip_s:.2f} s of compute per second of video)")
    if torch.cuda.is_available():
        print(f"  peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    if with_ray:
        ray_total, ray_per_clip = timed(run_ray, n, options, out, num_cpus=2)
        print(f"  ray (1 actor): {ray_total:.2f} s incl. cluster start and load; {ray_per_clip:.3f} s per clip "
              f"after the first; steady-state ratio ray/local {ray_per_clip / per_clip:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["ltx2", "wan"], default=None)
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--ray", action="store_true", help="also time the Ray path")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "videos"
        out.mkdir()
        if args.model_dir is not None:
            report(args.backend or "ltx2", VideoModelOptions(args.backend or "ltx2", args.model_dir, args.dtype),
                   args.n, out, args.ray)
            return
        from tiny_pipelines import build_tiny_ltx2, build_tiny_wan

        tiny = dict(dtype="float32", height=32, width=32, num_frames=9, steps=2)
        report("tiny ltx2 (CPU)", VideoModelOptions("ltx2", build_tiny_ltx2(Path(tmp) / "ltx2"), **tiny),
               args.n, out, with_ray=True)
        report("tiny wan (CPU)", VideoModelOptions("wan", build_tiny_wan(Path(tmp) / "wan"), **tiny),
               args.n, out, with_ray=False)


if __name__ == "__main__":
    main()
