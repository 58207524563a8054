"""Blink and gaze statistics of generated motion, to compare with people's (FACE_FACTS.md).

    python scripts/gaze_blink_stats.py [--seconds 60] [--checkpoint DIR]

Animates real speech with the shipped model in a few styles (the recordings repeated to reach
--seconds each) and reports blinks per minute (eyeBlink crossing 0.5), blink duration (eyeBlink above 0.2), gaze shifts
per minute (the eyes' yaw/pitch, as the preview turns them, moving more than 4 degrees within
0.2 s) and the gaze's spread.
"""
from __future__ import annotations

import argparse

import numpy as np

from talkstyle.animate import animate
from talkstyle.audio import load_audio
from talkstyle.audio.samples import speech_path
from talkstyle.face.arkit import INDEX
from talkstyle.face.head_parts import gaze_angles

STYLES = ["A man speaks with a strong happy expression.", "A woman speaks calmly.",
          "A sad old man whispers.", None]


def stats(weights: np.ndarray, fps: float) -> dict[str, float]:
    lids = (weights[:, INDEX["eyeBlinkLeft"]] + weights[:, INDEX["eyeBlinkRight"]]) / 2
    closed = lids > 0.5
    starts = np.flatnonzero(closed[1:] & ~closed[:-1]) + 1
    # A blink lasts from the lid leaving rest to its return: the run above 0.2 around each closure.
    moving = lids > 0.2
    durations = []
    for s in starts:
        a, b = s, s
        while a > 0 and moving[a - 1]:
            a -= 1
        while b < len(moving) and moving[b]:
            b += 1
        durations.append((b - a) / fps)
    gaze = np.rad2deg(gaze_angles(weights)["left"])          # (T, 2) yaw, pitch
    step = max(1, int(round(0.2 * fps)))
    moved = np.linalg.norm(gaze[step:] - gaze[:-step], axis=1) > 4.0
    shifts = np.flatnonzero(moved[1:] & ~moved[:-1]).size + int(moved[0])
    minutes = len(weights) / fps / 60
    return {"blinks/min": len(starts) / minutes, "blink ms": 1000 * float(np.median(durations)) if durations else 0.0,
            "gaze shifts/min": shifts / minutes, "gaze yaw sd": float(gaze[:, 0].std()),
            "gaze pitch sd": float(gaze[:, 1].std())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--checkpoint", default=None)
    args = ap.parse_args()
    clips = [load_audio(p) for p in (speech_path(n) for n in ("arctic_a0007", "beckett")) if p is not None]
    gap = np.zeros(8000, np.float32)                                    # half a second between repeats
    one = np.concatenate([np.concatenate([c, gap]) for c in clips])
    audio = np.tile(one, int(np.ceil(args.seconds * 16000 / len(one))))[: int(args.seconds * 16000)]
    print(f"{'style':46s} " + " ".join(f"{k:>15s}" for k in ("blinks/min", "blink ms", "gaze shifts/min",
                                                              "gaze yaw sd", "gaze pitch sd")))
    for style in STYLES:
        m = animate(audio, style, checkpoint=args.checkpoint, progress=False)
        s = stats(m.weights, m.fps)
        print(f"{(style or 'no style')[:46]:46s} " + " ".join(f"{v:15.1f}" for v in s.values()))


if __name__ == "__main__":
    main()
