"""The preview head through speech, from the front and at 45 degrees: docs/head_speech.png.

    python scripts/head_figure.py docs/head_speech.png [--checkpoint DIR]

`talkstyle animate` (shipped model) on the bundled clip; six moments chosen to show an open
mouth, a closure, a blink and a gaze shift; the lower row is the same frames with the head
turned 45 degrees to the subject's left.
"""
from __future__ import annotations

import argparse

import numpy as np

from talkstyle.animate import animate
from talkstyle.audio.samples import speech_path
from talkstyle.face.arkit import INDEX
from talkstyle.face.head_parts import gaze_angles
from talkstyle.face.motion import FaceMotion
from talkstyle.render.grid import caption
from talkstyle.render.renderer import Renderer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--size", type=int, default=256)
    args = ap.parse_args()
    m = animate(str(speech_path("arctic_a0007")), "A woman talks with a strong delighted expression.",
                checkpoint=args.checkpoint, progress=False)
    w = m.weights
    blink = (w[:, INDEX["eyeBlinkLeft"]] + w[:, INDEX["eyeBlinkRight"]]) / 2
    yaw = np.rad2deg(gaze_angles(w)["left"][:, 0])
    picks = {"open": int(np.argmax(w[:, INDEX["jawOpen"]])), "blink": int(np.argmax(blink)),
             "gaze left": int(np.argmax(yaw)), "gaze right": int(np.argmin(yaw)),
             "closed lips": int(np.argmin(w[:, INDEX["jawOpen"]] - w[:, INDEX["mouthClose"]])),
             "mid-sentence": len(w) // 2}
    frames = list(picks.values())
    head = m.head[frames].copy()
    front = FaceMotion(w[frames], head, m.fps)
    turned = FaceMotion(w[frames], head + [0.0, np.deg2rad(45), 0.0], m.fps)
    with Renderer(size=args.size, head=True, samples=4) as r:
        rows = [[caption(img, f"{name} (frame {f})") for img, name, f in zip(r.render_motion(front), picks, frames)],
                list(r.render_motion(turned))]
    from PIL import Image

    Image.fromarray(np.concatenate([np.concatenate(row, 1) for row in rows], 0)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
