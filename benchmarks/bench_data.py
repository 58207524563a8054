"""Data engine throughput: synthesis speed vs real time, store cost, hours of data per minute.

    python benchmarks/bench_data.py [--hours 0.05] [--jobs 30] [--backend procedural]

Prints measured figures and their ratios to the targets (synthesis >= 100x real time per worker;
hours of data per minute with 1 and 2 workers). Keep the sizes small: the machine is shared.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from talkstyle.data import engine
from talkstyle.data.store import Dataset

TARGET_X_REALTIME = 100.0


def synthesis_speed(backend_name: str, jobs: int) -> None:
    backend = engine.load_backend(backend_name)
    items = engine.plan(1.0, seed=123, persons=engine.person_pool(123))[:jobs]
    backend.synthesize(items[0].job, Path(tempfile.gettempdir()))  # warm up (voice loading, imports)
    audio_s = synth_s = store_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        ds = Dataset(Path(tmp) / "ds", create=True)
        for it in items:
            t0 = time.perf_counter()
            clip = backend.synthesize(it.job, Path(tmp)).clip
            t1 = time.perf_counter()
            ds.add(clip, it.job.clip_id, backend_name, split=it.split)
            t2 = time.perf_counter()
            audio_s += clip.motion.duration
            synth_s += t1 - t0
            store_s += t2 - t1
    x = audio_s / synth_s
    print(f"synthesis: {len(items)} clips, {audio_s:.1f} s of speech in {synth_s:.2f} s CPU-wall "
          f"-> {x:.0f}x real time (target {TARGET_X_REALTIME:.0f}x: ratio {x / TARGET_X_REALTIME:.2f})")
    print(f"store: {1000 * store_s / len(items):.1f} ms per clip (npz + wav + checksum + row); "
          f"synthesis + store -> {audio_s / (synth_s + store_s):.0f}x real time")


def build_rate(backend_name: str, hours: float, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        s = engine.build(Path(tmp) / "ds", hours, seed=7, workers=workers, backend=backend_name, progress=False)
        wall = time.perf_counter() - t0
    rate = s.seconds_stored / 3600 / (wall / 60)
    print(f"build --workers {workers}: {s.done} clips, {s.seconds_stored / 3600:.3f} h stored "
          f"(augmented copies included) in {wall:.1f} s -> {rate:.2f} h of data per minute "
          f"(1 h in {1 / rate:.1f} min)")
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hours", type=float, default=0.2, help="hours per build measurement")
    ap.add_argument("--jobs", type=int, default=30, help="clips for the synthesis speed measurement")
    ap.add_argument("--backend", default="procedural")
    args = ap.parse_args()
    synthesis_speed(args.backend, args.jobs)
    one = build_rate(args.backend, args.hours, 1)
    two = build_rate(args.backend, args.hours, 2)
    print(f"2 workers / 1 worker: {two / one:.2f}x (the machine has 2 cores shared with other users)")


if __name__ == "__main__":
    main()
