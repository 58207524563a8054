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
    audio_s = synth_s = store_s = synth_cpu = store_cpu = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        ds = Dataset(Path(tmp) / "ds", create=True)
        for it in items:
            t0, c0 = time.perf_counter(), time.process_time()
            clip = backend.synthesize(it.job, Path(tmp)).clip
            t1, c1 = time.perf_counter(), time.process_time()
            ds.add(clip, it.job.clip_id, backend_name, split=it.split)
            t2, c2 = time.perf_counter(), time.process_time()
            audio_s += clip.motion.duration
            synth_s, synth_cpu = synth_s + t1 - t0, synth_cpu + c1 - c0
            store_s, store_cpu = store_s + t2 - t1, store_cpu + c2 - c1
    # CPU time is what one worker costs whatever else runs on the machine; wall time is what it got.
    for label, synth, store in (("wall", synth_s, store_s), ("CPU", synth_cpu, store_cpu)):
        x = audio_s / synth
        print(f"synthesis ({label}): {len(items)} clips, {audio_s:.1f} s of speech in {synth:.2f} s -> {x:.0f}x "
              f"real time (target {TARGET_X_REALTIME:.0f}x: ratio {x / TARGET_X_REALTIME:.2f}); store "
              f"{1000 * store / len(items):.1f} ms a clip (npz + wav + checksum + row); synthesis + store "
              f"{audio_s / (synth + store):.0f}x real time")


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
