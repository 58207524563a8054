"""Figure: the inner-lip gap on one benchmark recording, with its p/b/m and open vowels marked.

Run: .venv/bin/python scripts/realspeech_figure.py [--id pyannote_call] [--start 12] [--seconds 8]
     [--checkpoint DIR] [--stream DIR|shipped] [-o docs/realspeech_gap.png]
Curves: talkstyle on the clean and on the degraded audio, and both baselines, against the phones
that score them (the cached alignment of benchmarks/bench_realspeech.py); with --stream also the
streaming model on the clean audio fed in 40 ms chunks (docs/stream_gap.png:
--id LJ001-0001 --start 0 --seconds 9.7 --stream shipped -o docs/stream_gap.png).
"""
from __future__ import annotations

import argparse
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_realspeech import PROMPT, REALSPEECH, TSV  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--id", default="pyannote_call")
    p.add_argument("--start", type=float, default=12.0)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--stream", default=None, help="streaming model folder or 'shipped': add its curve")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "realspeech_gap.png")
    args = p.parse_args()
    warnings.simplefilter("ignore")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from talkstyle.animate import animate
    from talkstyle.audio import load_audio
    from talkstyle.audio.degrade import far_field
    from talkstyle.audio.features import num_frames_for
    from talkstyle.eval.lipsync import BILABIALS, CLOSED_MM, OPEN_VOWELS
    from talkstyle.eval.realspeech import AlignmentCache, envelope_jaw, load_recordings, phone_mouth
    from talkstyle.face.rig import FaceRig

    torch.set_num_threads(1)
    recs = {r.id: r for r in load_recordings(TSV)}
    rec = recs[args.id]
    audio = {i: load_audio(r.path(REALSPEECH)) for i, r in recs.items() if r.path(REALSPEECH) is not None}
    clean = audio[rec.id]
    phones, _ = AlignmentCache().phones(clean, rec.align_text or rec.text)
    # The same degraded copy as the benchmark's (same seed, same babble sources, all recordings).
    degraded, _ = far_field(clean, args.seed * 1_000_003 + zlib.crc32(rec.id.encode()),
                            [a for i, a in audio.items() if i != rec.id])
    n = num_frames_for(len(clean))
    rig = FaceRig.default()
    curves = {"talkstyle (clean audio)": animate(clean, PROMPT, checkpoint=args.checkpoint, progress=False),
              "talkstyle (degraded audio)": animate(degraded, PROMPT, checkpoint=args.checkpoint, progress=False),
              "jaw = envelope (clean)": envelope_jaw(clean, n),
              "aligned-phone mouth": phone_mouth(phones, n)}
    if args.stream:
        from talkstyle.stream import animate_stream

        curves["streaming (clean, 40 ms chunks)"] = animate_stream(clean, PROMPT, None if args.stream == "shipped" else args.stream)
    t = np.arange(n) / 25.0
    lo, hi = args.start, args.start + args.seconds
    fig, (ax_wave, ax) = plt.subplots(2, 1, figsize=(13, 5.5), sharex=True, height_ratios=[1, 3])
    ts = np.arange(len(clean)) / 16000
    keep = (ts >= lo) & (ts < hi)
    ax_wave.plot(ts[keep], clean[keep], lw=0.3, color="0.3")
    ax_wave.plot(ts[keep], degraded[keep] / (np.abs(degraded).max() + 1e-9) * np.abs(clean).max(), lw=0.3,
                 color="tab:red", alpha=0.5)
    ax_wave.set_yticks([])
    ax_wave.set_title(f"{rec.id}: inner-lip gap; grey = p/b/m, yellow = open vowels (aligned on the clean audio)")
    for ph in phones:
        if ph.end < lo or ph.start > hi:
            continue
        if ph.symbol in BILABIALS or ph.symbol in OPEN_VOWELS:
            bil = ph.symbol in BILABIALS
            ax.axvspan(ph.start, ph.end, color="0.75" if bil else "khaki", alpha=0.7, lw=0)
            ax.text((ph.start + ph.end) / 2, 0.3 if bil else 14.0, ph.symbol, ha="center", fontsize=7)
    for (name, motion), style in zip(curves.items(), ["-", "--", ":", "-", "-"]):
        gap = rig.mouth_opening(motion)
        ax.plot(t[:len(gap)], gap[:len(t)], style, lw=1.4 if "talkstyle" in name or "streaming" in name else 1.0, label=name,
                color={"talkstyle (clean audio)": "tab:blue", "talkstyle (degraded audio)": "tab:red",
                       "jaw = envelope (clean)": "tab:green",
                       "streaming (clean, 40 ms chunks)": "tab:purple"}.get(name, "0.2"))
    ax.axhline(CLOSED_MM, color="k", lw=0.6, ls="-.")
    ax.text(lo, CLOSED_MM + 0.2, f"closed < {CLOSED_MM} mm", fontsize=7)
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 15)
    ax.set_xlabel("s")
    ax.set_ylabel("inner-lip gap (mm)")
    ax.legend(loc="upper right", fontsize=8, ncol=5 if args.stream else 4)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
