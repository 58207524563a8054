"""CPU-seconds per audio second for each audio encoder, plus the augmentation chain.

Run: .venv/bin/python benchmarks/bench_audio.py [--seconds 60]
The HuBERT figure uses a randomly initialised HuBERT-base-sized model built from its config
(no weights ship anywhere): the cost is the same as with real weights.
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np


def cpu_time(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch
    from transformers import HubertConfig, HubertModel

    from talkstyle.audio.augment import AugmentConfig, augment
    from talkstyle.audio.features import HFSpeechEncoder, MelEncoder, WhisperEncoder

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    # Speech-like test signal: noise shaped by a 4 Hz syllable envelope.
    n = int(args.seconds * 16000)
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * np.arange(n) / 16000)
    audio = (0.1 * rng.standard_normal(n) * envelope).astype(np.float32)

    with tempfile.TemporaryDirectory() as tmp:
        HubertModel(HubertConfig()).save_pretrained(tmp)
        encoders = [MelEncoder(), WhisperEncoder(intra_threads=args.threads), HFSpeechEncoder(tmp)]
        print(f"audio: {args.seconds:.0f} s, threads: {args.threads}")
        for enc in encoders:
            enc.encode(audio[:16000])                       # warm up (model load, JIT)
            cpu = cpu_time(lambda: enc.encode(audio))
            print(f"{enc.name:8s} dim {enc.dim:4d}: {cpu / args.seconds:.4f} CPU-s per audio second "
                  f"({args.seconds / cpu:.0f}x real time on one core)")
    everything = AugmentConfig(p_noise=1, p_gain=1, p_speed=1, p_pitch=1, p_reverb=1, p_telephone=1)
    clip = audio[:10 * 16000]
    augment(clip[:16000], rng, everything)
    cpu = cpu_time(lambda: augment(clip, rng, everything))
    print(f"augment (all six transforms): {cpu / 10:.4f} CPU-s per audio second")


if __name__ == "__main__":
    main()
