"""Speed and memory of `animate` with the shipped model (issue 4 performance targets).

1. 60 s of real speech at default settings vs real time (target >= 20x), with the preview render
   and the exports (Live Link CSV + GLB) timed separately.
2. Peak memory (max RSS of a fresh process) animating 10 minutes of audio (target <= 2 GB).
3. The paper's sampler (DDPM, 1000 steps) vs the default, as a time ratio per window, and how far
   the default's motion is from DDPM-1000's.

    python benchmarks/bench_animate.py [--skip-memory] [--threads 2]
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SPEECH = Path(__file__).resolve().parents[1] / "src" / "talkstyle" / "assets" / "demo_speech.wav"


def speech_of(seconds: float) -> np.ndarray:
    """The bundled real speech clip (CMU ARCTIC) repeated to `seconds`, with short pauses between."""
    from talkstyle.audio.io import load_audio

    clip = np.concatenate([load_audio(SPEECH), np.zeros(8000, np.float32)])
    n = int(seconds * 16000)
    return np.tile(clip, n // len(clip) + 1)[:n]


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def bench_speed(seconds: float = 60.0) -> None:
    import tempfile

    from talkstyle.animate import Settings, animate
    from talkstyle.export.gltf import write_glb
    from talkstyle.export.livelink import write_csv
    from talkstyle.render.grid import render_motion

    audio = speech_of(seconds)
    prompt = "A woman speaks with a clear happy expression."
    animate(audio[:16000], prompt, progress=False)                    # load models once (not timed)
    motion, t_gen = timed(animate, audio, prompt, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        _, t_render = timed(render_motion, motion, Path(tmp) / "preview.mp4")
        t0 = time.perf_counter()
        motion.save(Path(tmp) / "motion.npz")
        write_csv(motion, Path(tmp) / "livelink.csv")
        write_glb(motion, Path(tmp) / "face.glb")
        t_export = time.perf_counter() - t0
    print(f"animate {seconds:.0f} s of speech (default settings {Settings()}):")
    print(f"  audio features + style + diffusion: {t_gen:.2f} s = {seconds / t_gen:.1f}x real time (target >= 20x)")
    print(f"  preview render (512 px mp4 with audio): {t_render:.2f} s = {seconds / t_render:.1f}x real time")
    print(f"  exports (npz + Live Link csv + glb): {t_export:.2f} s = {seconds / t_export:.1f}x real time")


def bench_memory(minutes: float = 10.0) -> None:
    code = ("import sys, resource; sys.path.insert(0, %r); import bench_animate as b; "
            "from talkstyle.animate import animate; m = animate(b.speech_of(%f), 'A man speaks calmly.', progress=False); "
            "print(m.num_frames, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)") % (str(Path(__file__).parent), minutes * 60)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    frames, rss_kb = map(int, r.stdout.split()[-2:])
    print(f"animate {minutes:.0f} min of audio ({frames} frames) in {time.perf_counter() - t0:.0f} s: "
          f"peak RSS {rss_kb / 1024:.0f} MB (target <= 2048 MB)")


def bench_ddpm(seconds: float = 8.0) -> None:
    from talkstyle.animate import Settings, animate

    audio = speech_of(seconds)
    default, t_default = timed(animate, audio, "A man speaks calmly.", progress=False)
    paper, t_paper = timed(animate, audio, "A man speaks calmly.", settings=Settings(sampler="ddpm", steps=1000),
                           progress=False)
    jaw = default.channel("jawOpen"), paper.channel("jawOpen")
    print(f"DDPM 1000 steps vs default ({Settings().sampler} {Settings().steps} steps) on {seconds:.0f} s: "
          f"{t_paper:.1f} s vs {t_default:.2f} s = {t_paper / t_default:.0f}x slower; "
          f"mean |weights diff| {np.abs(default.weights - paper.weights).mean():.3f}, "
          f"jawOpen corr {np.corrcoef(*jaw)[0, 1]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"load average at start: {load} (on {torch.get_num_threads()} torch threads)")
    bench_speed()
    bench_ddpm()
    if not args.skip_memory:
        bench_memory()
    print(f"this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
