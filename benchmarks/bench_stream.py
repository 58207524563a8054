"""The streaming animator (issue 18): latency from chunk to frame, real-time factor, the cost of an
incremental Whisper encoder, and lip sync streaming beside offline on the real-speech benchmark.

1. Real time: the bundled real speech (repeated to --seconds) arrives in chunks of 20 and 40 ms at
   the pace of a microphone; each frame's latency is the wall time from the arrival of the chunk
   holding its last sample ("frame complete") or its first sample ("frame start") until push()
   returns it. Median and 95th percentile, the real-time factor (audio seconds per wall second
   inside push(), --threads torch threads) and the CPU time per second of audio (what the work
   costs whatever the other tenants of the cores do). Target: p95 <= 250 ms.
2. The ONNX export in onnxruntime: CPU time per second of audio.
   Both lip contacts: on Whisper's 2 s window (the default) and on the log-mel frames (the ONNX one).
3. Whisper, used incrementally: one pass of its encoder over its 30 s window (what the offline
   features cost: far too much per 40 ms step) and over the stream's 2 s window.
4. Lip sync: benchmarks/bench_realspeech.py with the offline model and the streaming model (fed in
   40 ms chunks, with either lip contact) side by side. Target: lips closed at p/b/m within 0.1 of
   the offline model.

    python benchmarks/bench_stream.py [--seconds 60] [--threads 1] [--skip-lipsync] [--limit N]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_animate import speech_of  # noqa: E402

SR = 16000
PROMPT = "A person speaks with a calm neutral expression."


def realtime(audio: np.ndarray, chunk_ms: float, threads: int, contact: str) -> dict[str, float]:
    """Feed `audio` at real-time pace in chunks; latencies (ms) of every frame and the compute time."""
    from talkstyle.stream import StreamAnimator

    animator = StreamAnimator(PROMPT, threads=threads, lip_contact=contact)
    animator.push(np.zeros(SR, np.float32))          # warm-up (allocations, caches): not timed
    animator.reset()
    step = int(round(chunk_ms * SR / 1000))
    arrival_of = lambda sample: (sample // step + 1) * step / SR       # noqa: E731  chunk holding `sample` is complete
    complete, start, busy = [], [], 0.0
    t0, cpu0 = time.perf_counter(), time.process_time()
    for begin in range(0, len(audio), step):
        end = min(begin + step, len(audio))
        wait = t0 + end / SR - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        c0 = time.perf_counter()
        frames = animator.push(audio[begin:end])
        done = time.perf_counter()
        busy += done - c0
        for f in frames:
            first, last = f.index * 640, (f.index + 1) * 640 - 1
            complete.append(done - t0 - arrival_of(last))
            start.append(done - t0 - arrival_of(first))
    cpu = time.process_time() - cpu0
    ms = lambda x, q: 1000 * float(np.percentile(x, q))              # noqa: E731
    return {"cpu_ms_per_s": 1000 * cpu / (len(audio) / SR), "frames": len(complete), "complete_p50": ms(complete, 50), "complete_p95": ms(complete, 95),
            "start_p50": ms(start, 50), "start_p95": ms(start, 95), "max": 1000 * max(start),
            "rtf": len(audio) / SR / busy, "algorithmic": 1000 * animator.latency}


def onnx_cpu_ms(audio: np.ndarray, chunk_ms: float = 40.0) -> float:
    """CPU ms per second of audio of the exported graph in onnxruntime (one thread), as fast as it runs."""
    import tempfile

    from talkstyle.stream_onnx import OnnxAnimator, export_onnx

    with tempfile.TemporaryDirectory() as tmp:
        export_onnx(tmp)
        animator = OnnxAnimator(tmp)
        step = int(round(chunk_ms * SR / 1000))
        c0 = time.process_time()
        for begin in range(0, len(audio), step):
            animator.push(audio[begin:begin + step])
        return 1000 * (time.process_time() - c0) / (len(audio) / SR)


def whisper_pass_ms(encode, repeats: int = 5) -> float:
    audio = speech_of(2.0)
    encode(audio)                      # load the model, not timed
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        encode(audio)
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="seconds of speech streamed per chunk size")
    p.add_argument("--threads", type=int, default=1, help="torch threads of the animator")
    p.add_argument("--skip-lipsync", action="store_true", help="leave out the real-speech lip-sync comparison")
    p.add_argument("--limit", type=int, default=None, help="first N recordings of the lip-sync benchmark")
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    audio = speech_of(args.seconds)
    load = os.getloadavg()[0]
    print(f"streaming {args.seconds:.0f} s of real speech at real-time pace, {args.threads} torch thread(s), "
          f"{os.cpu_count()} cores (load average {load:.1f} at the start: the cores are shared)")
    print("| lip contact | chunk | frames | latency p50 / p95, frame complete | latency p50 / p95, frame start | max | "
          "real-time factor | CPU per s of audio | algorithmic look-ahead |")
    print("|---|---|---|---|---|---|---|---|---|")
    for contact, chunk in (("whisper", 20.0), ("whisper", 40.0), ("log-mel", 20.0), ("log-mel", 40.0)):
        r = realtime(audio, chunk, args.threads, contact)
        print(f"| {contact} | {chunk:.0f} ms | {r['frames']} | {r['complete_p50']:.0f} / {r['complete_p95']:.0f} ms | "
              f"{r['start_p50']:.0f} / {r['start_p95']:.0f} ms | {r['max']:.0f} ms | {r['rtf']:.0f}x | "
              f"{r['cpu_ms_per_s']:.0f} ms | "
              f"{r['algorithmic']:.1f} ms |")
    print(f"\nthe ONNX export in onnxruntime (1 thread, 40 ms chunks): {onnx_cpu_ms(audio):.0f} ms of CPU per s of audio")
    from talkstyle.audio.features import WhisperEncoder
    from talkstyle.audio.whisper_window import WINDOW, encode_window

    w, short = whisper_pass_ms(WhisperEncoder()._encode_chunk), whisper_pass_ms(lambda a: encode_window(a[:WINDOW * 640]))
    print(f"\nWhisper tiny.en encoder, one pass over its 30 s window: {w:.0f} ms ({w / 40:.1f} cores busy for a "
          f"pass per 40 ms step); over the stream's {WINDOW / 25:.0f} s window: {short:.0f} ms ({short / 40:.2f} cores)")
    if not args.skip_lipsync:
        import bench_realspeech

        print("\nlip sync on real speech, offline beside streaming (40 ms chunks):", flush=True)
        bench_realspeech.main(["--checkpoint", "shipped", "--stream", "shipped@whisper", "--stream", "shipped@log-mel"]
                              + (["--limit", str(args.limit)] if args.limit else []))


if __name__ == "__main__":
    main()
