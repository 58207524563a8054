"""Training throughput of the style generator: s/step and windows/s for the small and base sizes.

Runs the real training loop (`talkstyle.train.fit`) for a few steps per size and reads the step
times it logs (the first step, with its one-off allocations, is left out). It also gives the
process's CPU seconds per step (a run of WARM steps subtracted from one of WARM + steps, so that
building the model and the final validation cancel): on a machine shared with other jobs that
figure is what the step costs, while the wall time depends on the others. Data: a synthetic
pack of the right shapes (throughput does not depend on the values), `--data DIR` to use a
dataset's cached training pack, or `--pack FILE` for one cached pack file.

    .venv/bin/python benchmarks/bench_train.py --steps 8 --threads 2
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def synthetic_pack(clips: int, frames: int, audio_dim: int, seed: int = 0):
    from talkstyle.data.pack import Pack

    rng = np.random.default_rng(seed)
    total = clips * frames
    return Pack(motion=rng.uniform(0, 0.3, (total, 55)).astype(np.float32),
                audio=rng.normal(size=(1, total, audio_dim)).astype(np.float16),
                starts=np.arange(clips, dtype=np.int64) * frames, lengths=np.full(clips, frames, np.int64),
                text=rng.normal(size=(clips, 384)).astype(np.float32),
                attrs=rng.integers(0, 4, (clips, 4)).astype(np.float32))


WARM = 3


def measure(size: str, steps: int, threads: int, batch_size: int | None, pack) -> dict:
    from talkstyle.model.config import get_config
    from talkstyle.train import fit

    mc, tc = get_config(size)
    mc = dataclasses.replace(mc, audio_dim=pack.audio.shape[2])
    tc = dataclasses.replace(tc, steps=steps, threads=threads, val_every=10**9, save_every=10**9,
                             batch_size=batch_size or tc.batch_size)
    cpu = []
    for n in (WARM, WARM + steps):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.process_time()
            fit(pack, pack, Path(tmp), mc, dataclasses.replace(tc, steps=n), seed=0, resume=False)
            cpu.append(time.process_time() - start)
            times = [json.loads(line)["time"] for line in (Path(tmp) / "log.jsonl").read_text().splitlines()]
    per_step = (times[-1] - times[0]) / max(1, len(times) - 1)
    from talkstyle.model.generator import StyleGenerator

    params = sum(p.numel() for p in StyleGenerator(mc).parameters())
    # A step trains on batch_size pairs of windows: 2 * batch_size windows of N frames.
    return {"size": size, "params": params, "batch": tc.batch_size, "window": mc.window,
            "s_per_step": per_step, "cpu_s_per_step": (cpu[1] - cpu[0]) / steps, "windows_per_s": 2 * tc.batch_size / per_step if per_step > 0 else float("nan"),
            "steps_per_hour": 3600 / per_step if per_step > 0 else float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="small,base")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--data", type=Path, default=None, help="use this dataset's training pack (Whisper features)")
    ap.add_argument("--pack", type=Path, default=None, help="use this cached pack file (DATA/cache/pack_train_*.safetensors)")
    args = ap.parse_args()
    if args.pack is not None:
        from talkstyle.data.pack import Pack

        pack = Pack.load(args.pack)
    elif args.data is not None:
        from talkstyle.model.config import get_config
        from talkstyle.train import load_packs

        pack = load_packs(args.data, get_config("small")[0], augmented=1, seed=0)[0]
    else:
        pack = synthetic_pack(clips=32, frames=300, audio_dim=384)
    rows = [measure(s, args.steps, args.threads, args.batch_size, pack) for s in args.sizes.split(",")]
    print(f"\n{'size':6s} {'params':>10s} {'batch':>5s} {'s/step':>8s} {'CPU s/step':>10s} {'windows/s':>10s} "
          f"{'steps/h':>8s}")
    for r in rows:
        print(f"{r['size']:6s} {r['params']:10,d} {r['batch']:5d} {r['s_per_step']:8.3f} {r['cpu_s_per_step']:10.3f} "
              f"{r['windows_per_s']:10.1f} {r['steps_per_hour']:8.0f}")
    if len(rows) > 1:
        print(f"ratio {rows[1]['size']}/{rows[0]['size']}: {rows[1]['s_per_step'] / rows[0]['s_per_step']:.2f}x s/step, "
              f"{rows[1]['params'] / rows[0]['params']:.2f}x parameters  (threads={args.threads})")


if __name__ == "__main__":
    main()
