"""Procedural actor speed: synthesis (TTS + motion, no render) against real time, one worker.

    .venv/bin/python benchmarks/bench_actor.py [--clips 48]

Target: >= 100x real time per worker. Prints per-delivery figures, the TTS share and the hours of
data one worker makes per minute (x workers for a build, CPU cores permitting).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from talkstyle.data.records import DELIVERIES, EMOTION_FAMILIES, HEAD_MOTIONS, Prompt, StyleAttributes
from talkstyle.data.synth.person import PersonStyle
from talkstyle.data.synth.procedural import perform, speak_as

LINES = Path(__file__).resolve().parents[1] / "src/talkstyle/data/assets/lines.txt"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=48)
    args = ap.parse_args()
    lines = [s for s in LINES.read_text().splitlines() if s.strip() and not s.startswith("#")]
    jobs = []
    for i in range(args.clips):
        delivery, family = DELIVERIES[i % 4], EMOTION_FAMILIES[(i * 3) % len(EMOTION_FAMILIES)]
        head = HEAD_MOTIONS[(i // 4) % len(HEAD_MOTIONS)]
        gender = ("female", "male")[i % 2]
        a = StyleAttributes(gender=gender, family=family, emotion=family, level=0.7, head_motion=head,
                            delivery=delivery)
        jobs.append((Prompt(f"A person {delivery} ({family}).", a), lines[(i * 7) % len(lines)],
                     PersonStyle.from_id(f"bench-{i % 16}", gender), i))

    # Warm-up: library loads and first-call costs (once per worker process), reported apart.
    t = time.perf_counter()
    for d in DELIVERIES:
        perform(Prompt("warm-up", StyleAttributes(delivery=d)), lines[0], jobs[0][2], 0)
    warm = time.perf_counter() - t

    per = {d: [0.0, 0.0] for d in DELIVERIES}   # delivery -> [synth s, audio s]
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for prompt, line, person, seed in jobs:
        t = time.perf_counter()
        clip = perform(prompt, line, person, seed)
        dt = time.perf_counter() - t
        per[prompt.attributes.delivery][0] += dt
        per[prompt.attributes.delivery][1] += clip.motion.duration
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    cpu1 = time.process_time()
    for prompt, line, person, seed in jobs:
        speak_as(line, prompt, person, np.random.default_rng(seed))
    tts_cpu = time.process_time() - cpu1

    audio = sum(v[1] for v in per.values())
    print(f"warm-up (first clip per delivery, once per process): {warm:.2f} s")
    print(f"{args.clips} clips, {audio:.1f} s of speech: wall {wall:.2f} s, CPU {cpu:.2f} s")
    for d, (s, a) in per.items():
        print(f"  {d:9s} {a:7.1f} s audio  {s:6.2f} s  -> {a / max(s, 1e-9):6.0f}x real time")
    print(f"overall: {audio / wall:.0f}x real time (wall), {audio / cpu:.0f}x (CPU); target 100x -> "
          f"ratio {audio / wall / 100:.2f}")
    print(f"TTS (espeak-ng + resampling + vowel holds) share of the CPU time: {tts_cpu / cpu:.0%}")
    print(f"one worker: {audio / wall * 60 / 3600:.2f} hours of data per minute")


if __name__ == "__main__":
    main()
