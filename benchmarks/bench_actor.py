"""Procedural actor speed: synthesis (TTS + motion, no render) against real time, one worker.

    .venv/bin/python benchmarks/bench_actor.py [--clips 48] [--audio-stats] [--style-check]

Target: >= 100x real time per worker. Prints per-delivery figures, the TTS share and the hours of
data one worker makes per minute (x workers for a build, CPU cores permitting).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from talkstyle import assets
from talkstyle.vocab.attributes import DELIVERIES, EMOTION_FAMILIES, HEAD_MOTIONS, Prompt, StyleAttributes
from talkstyle.data.synth.person import PersonStyle
from talkstyle.data.synth.procedural import perform, speak_as

LINES = assets.path("lines.txt", "talkstyle.data")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=48)
    ap.add_argument("--audio-stats", action="store_true", help="also print audio statistics per style (slow)")
    ap.add_argument("--style-check", action="store_true", help="also check that persons are identifiable")
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
    if args.audio_stats:
        audio_stats(lines)
    if args.style_check:
        style_check(lines)


def audio_stats(lines: list[str]) -> None:
    """Listen through statistics: speaking rate, loudness, pitch (pYIN) and voicing per style, and
    how well the phone times match the energy envelope (vowel vs pause/closure loudness)."""
    import librosa

    from talkstyle.data.synth.voice_rules import is_vowel

    def contrast(clip) -> float:
        a, sr = clip.motion.audio, clip.motion.sample_rate
        rms = lambda p: float(np.sqrt((a[int(((p.start + p.end) / 2 - 0.015) * sr):  # noqa: E731
                                          int(((p.start + p.end) / 2 + 0.015) * sr)] ** 2).mean() + 1e-12))
        vowels = [rms(p) for p in clip.phones if is_vowel(p.symbol) and p.end - p.start > 0.03]
        quiet = [rms(p) for p in clip.phones[1:-1] if p.symbol in ("", "p", "b") and p.end - p.start > 0.03]
        return float(np.median(vowels) / np.median(quiet))

    styles = [("neutral", d) for d in DELIVERIES] + [(f, "speaks") for f in EMOTION_FAMILIES[1:]]
    print("style               chars/s   RMS   F0 Hz  F0 p10-p90  voiced  vowel/closure loudness")
    for family, delivery in styles:
        rows = []
        for i, gender in enumerate(("male", "female", "male", "female")):
            a = StyleAttributes(gender=gender, family=family, level=0.9, delivery=delivery)
            clip = perform(Prompt("stats", a), lines[i * 13], PersonStyle.from_id(f"stats-{i}", gender), i)
            x = clip.motion.audio
            f0, voiced, _ = librosa.pyin(x, fmin=60, fmax=600, sr=16000, frame_length=1024, hop_length=320)
            f = f0[voiced] if voiced.sum() > 5 else np.full(2, np.nan)
            speech_s = sum(p.end - p.start for p in clip.phones if p.symbol)
            rows.append((len(clip.line) / speech_s, np.sqrt((x ** 2).mean()), np.median(f),
                         np.percentile(f, 90) - np.percentile(f, 10), voiced.mean(), contrast(clip)))
        m = np.nanmean(np.array(rows, float), 0)
        print(f"{family:9s} {delivery:8s}  {m[0]:6.1f}  {m[1]:.3f}  {m[2]:6.0f}  {m[3]:9.0f}  {m[4]:6.2f}  {m[5]:8.1f}")


def style_check(lines: list[str], persons: int = 12, takes: int = 6) -> None:
    """Is person-specific style in the data? Summarise each clip by simple motion statistics and
    identify its person by the nearest centroid of the person's other clips (leave one out),
    across different lines and emotions; chance is 1/persons."""
    from talkstyle.face.arkit import INDEX

    mouth = [INDEX[n] for n in ("jawOpen", "mouthPucker", "mouthStretchLeft", "jawLeft", "jawRight",
                                "mouthSmileLeft", "mouthSmileRight")]

    def features(clip) -> np.ndarray:
        w, h = clip.motion.weights, np.degrees(clip.motion.head)
        blink = w[:, INDEX["eyeBlinkLeft"]]
        return np.concatenate([w[:, mouth].mean(0), w[:, mouth].std(0), np.abs(np.diff(h, axis=0)).mean(0),
                               [((blink[1:] > 0.5) & (blink[:-1] <= 0.5)).mean()]])

    feats, who = [], []
    for p in range(persons):
        gender = ("female", "male")[p % 2]
        person = PersonStyle.from_id(f"style-{p}", gender)
        for k in range(takes):
            family = EMOTION_FAMILIES[(p + k) % len(EMOTION_FAMILIES)]
            a = StyleAttributes(gender=gender, family=family, level=0.5)
            feats.append(features(perform(Prompt("style", a), lines[(p * takes + k) % len(lines)], person, k)))
            who.append(p)
    x = np.array(feats)
    x = (x - x.mean(0)) / (x.std(0) + 1e-9)
    who = np.array(who)
    hits = 0
    for i in range(len(x)):
        others = np.arange(len(x)) != i
        cents = np.array([x[others & (who == p)].mean(0) for p in range(persons)])
        hits += int(np.argmin(((cents - x[i]) ** 2).sum(1)) == who[i])
    print(f"person identification from motion statistics: {hits / len(x):.0%} "
          f"({persons} persons x {takes} clips, different lines and emotions; chance {1 / persons:.0%})")


if __name__ == "__main__":
    main()
