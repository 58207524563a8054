"""What a checkpoint's style basis encodes (issue 20, item 3): its per-frame weights alpha on
held-out clips, set against speech, the mouth and the clip's emotion family.

    python scripts/basis_analysis.py --data data/nat3 --checkpoint runs/fair/runs/talkstyle [--clips 80]

For each test clip (the evaluation's held-out persons): the clip's own motion as the style
reference, the generator's motion for its audio, and alpha read back at t = 0
(eval.generation.alpha_trajectory). Prints, per basis vector: its mean and spread, how much of
its variance lies within clips (over time) rather than between clips (over styles), its
correlation with the generated jawOpen and with the speech envelope, and its mean per family.
A basis that carries style varies between clips and by family; one that tracks the jaw or the
envelope within a clip is doing the audio's work.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--clips", type=int, default=80)
    args = ap.parse_args()
    from talkstyle.data.store import Dataset
    from talkstyle.eval.generation import alpha_trajectory
    from talkstyle.eval.lipsync import ENVELOPE_HZ, speech_envelope
    from talkstyle.face.arkit import INDEX
    from talkstyle.pipeline import TalkstylePipeline

    torch.set_num_threads(1)
    pipe = TalkstylePipeline.from_pretrained(args.checkpoint)
    model = pipe.generator
    records = Dataset(args.data).records("test")[:args.clips]
    rows = []                                   # (clip index, family, alpha (T, K), jaw (T,), envelope (T,))
    for i, r in enumerate(records):
        feats = pipe.encode_audio(r.motion.audio)
        n = min(len(feats), r.motion.num_frames)
        with torch.no_grad():
            style = pipe.style_vector(None, r.motion)
        motion = pipe.generate(feats[:n], style)
        alpha = alpha_trajectory(model, motion, feats[:n], style)
        env = speech_envelope(r.motion.audio)
        env = np.interp(np.arange(n) / motion.fps, np.arange(len(env)) / ENVELOPE_HZ, env)
        rows.append((i, r.prompt.attributes.family, alpha[:n], motion.weights[:n, INDEX["jawOpen"]], env))
    k = rows[0][2].shape[1]
    alpha = np.concatenate([a for _, _, a, _, _ in rows])
    jaw = np.concatenate([j for _, _, _, j, _ in rows])
    env = np.concatenate([e for _, _, _, _, e in rows])
    clip_means = np.stack([a.mean(0) for _, _, a, _, _ in rows])
    within = np.mean([a.var(0) for _, _, a, _, _ in rows], axis=0)
    families = sorted({f for _, f, _, _, _ in rows})
    print(f"{args.checkpoint}: {len(rows)} test clips, {len(alpha)} frames, {k} basis vectors")
    print("| basis | mean | std | share of variance within clips | r with jawOpen | r with envelope | "
          + " | ".join(families) + " |")
    print("|---" * (6 + len(families)) + "|")
    for b in range(k):
        share = within[b] / max(alpha[:, b].var(), 1e-12)
        by_family = [clip_means[[f == fam for _, f, _, _, _ in rows], b].mean() for fam in families]
        print(f"| {b} | {alpha[:, b].mean():+.2f} | {alpha[:, b].std():.2f} | {share:.2f} | "
              f"{np.corrcoef(alpha[:, b], jaw)[0, 1]:+.2f} | {np.corrcoef(alpha[:, b], env)[0, 1]:+.2f} | "
              + " | ".join(f"{v:+.2f}" for v in by_family) + " |")


if __name__ == "__main__":
    main()
