"""Calibrate the stage III sync threshold (talkstyle.data.filter) on real speech.

Real recordings (benchmarks/realspeech: LJ Speech, JFK, CMU ARCTIC, ...) with mouths known to
be in sync: the aligned-phone mouth on their own forced alignment (cached by the real-speech
benchmark), made to look like captured footage: articulation scaled down, capture jitter, a
mouth left parted / drifting through the pauses, an audio-video offset of up to +-0.2 s, and
room noise or a far-field copy of the audio. Each clip is scored in sync and shifted by half a
second (the same clip, audio 0.5 s late). Prints both scores (the old one: correlation with the
RMS over all frames within +-2 frames; the new sync_score) and the threshold between them.

    python scripts/calibrate_sync.py [--copies 3]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def captured_like(opening: np.ndarray, speech: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A mouth opening (mm) as a capture of real footage gives it."""
    from scipy.ndimage import uniform_filter1d

    T = len(opening)
    x = opening * rng.uniform(0.4, 1.0)                                   # people articulate less
    rest = uniform_filter1d(rng.standard_normal(T), 40, mode="nearest") * 8 + rng.uniform(0, 5)
    x = x + np.where(speech, 0.3, 1.0) * np.clip(rest, 0, None)          # parted / drifting in pauses
    breaths = uniform_filter1d((rng.random(T) < 0.02).astype(float) * ~speech, 8) * 40
    x = x + breaths
    x = uniform_filter1d(x + rng.normal(0, 0.6, T), 2, mode="nearest")   # capture jitter, smoothing
    return np.clip(x, 0, None)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=3, help="Perturbed captures per recording.")
    ap.add_argument("--tsv", type=Path, default=ROOT / "benchmarks" / "realspeech" / "transcripts.tsv")
    ap.add_argument("--realspeech-dir", type=Path, default=ROOT.parent / "shared" / "realspeech")
    args = ap.parse_args(argv)

    from talkstyle.audio import load_audio
    from talkstyle.audio.degrade import far_field
    from talkstyle.audio.features import num_frames_for
    from talkstyle.data.filter import best_lag_correlation, audio_envelope, sync_score
    from talkstyle.eval.realspeech import AlignmentCache, load_recordings, phone_mouth
    from talkstyle.face.rig import FaceRig

    rig, cache = FaceRig.default(), AlignmentCache()
    fps, sr, shift = 25.0, 16000, 0.5
    rows = []
    for rec in load_recordings(args.tsv):
        path = rec.path(args.realspeech_dir)
        if path is None:
            continue
        clean = load_audio(path)
        phones, _ = cache.phones(clean, rec.align_text or rec.text)
        T = num_frames_for(len(clean))
        opening = rig.mouth_opening(phone_mouth(phones, T))
        speech = np.zeros(T, bool)
        for p in phones:
            if p.symbol.lower() not in ("sil", "sp", "spn", ""):
                speech[int(p.start * fps):int(np.ceil(p.end * fps))] = True
        for k in range(args.copies):
            rng = np.random.default_rng([k, len(rows)])
            mouth = captured_like(opening, speech, rng)
            offset = int(rng.integers(-5, 6))                         # +-0.2 s audio-video offset
            mouth = np.roll(mouth, offset)
            audio = far_field(clean, k)[0] if k % 2 else \
                clean + rng.normal(0, 10 ** (-rng.uniform(15, 30) / 20) * clean.std(), len(clean)).astype(np.float32)
            late = np.concatenate([np.zeros(int(shift * sr), np.float32), audio])[:len(audio)]  # audio 0.5 s late
            for label, a in (("sync", audio), ("shifted", late)):
                old = best_lag_correlation(mouth, audio_envelope(a, sr, T, fps), 2)[0]
                new = sync_score(mouth, a, sr, fps)[0]
                rows.append((rec.id, k, label, old, new))
    if not rows:
        sys.exit("no real speech recordings found (see benchmarks/realspeech)")
    arr = {(lab, m): np.array([r[3 + i] for r in rows if r[2] == lab])
           for lab in ("sync", "shifted") for i, m in enumerate(("old", "new"))}
    print(f"{len(rows) // 2} clips ({len(rows) // 2 // args.copies} recordings x {args.copies} captures)")
    for m in ("old", "new"):
        pos, neg = arr["sync", m], arr["shifted", m]
        print(f"{m}: in sync     p5 {np.percentile(pos, 5):.2f}  median {np.median(pos):.2f}  min {pos.min():.2f}")
        print(f"{m}: shifted 0.5 s p95 {np.percentile(neg, 95):.2f}  median {np.median(neg):.2f}  max {neg.max():.2f}")
        for thr in (0.2, 0.22, 0.25, 0.3, 0.35):
            print(f"  threshold {thr:.2f}: in-sync refused {np.mean(pos < thr):5.1%}, shifted accepted {np.mean(neg >= thr):5.1%}")
        best = min(np.arange(0.1, 0.5, 0.01), key=lambda t: np.mean(pos < t) + np.mean(neg >= t))
        print(f"  fewest errors of both kinds at {best:.2f}")


if __name__ == "__main__":
    main()
