"""CPU-seconds per audio second for each audio encoder, the augmentation chain and lip-sync scoring.

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

    # Lip-sync scoring on the shipped real recording (CMU ARCTIC a0007, 4 s).

    from talkstyle import assets
    from talkstyle.audio import load_audio
    from talkstyle.eval.lipsync import align_phones, transcribe

    speech = load_audio(assets.path("demo_speech.wav"))
    seconds = len(speech) / 16000
    text = transcribe(speech)                                # warm up (model load)
    cpu_t = cpu_time(lambda: transcribe(speech))
    align_phones(speech, text)
    cpu_a = cpu_time(lambda: align_phones(speech, text))
    print(f"lip sync: Whisper transcript {cpu_t / seconds:.3f}, pocketsphinx alignment {cpu_a / seconds:.3f} "
          f"CPU-s per audio second ({seconds:.1f} s clip: \"{text}\")")


if __name__ == "__main__":
    main()
