"""Render every ARKit target of the FaceRig at weight 1 into one labelled PNG.

    python scripts/contact_sheet.py docs/contact_sheet.png [--size 288] [--mask]
"""
from __future__ import annotations

import argparse

import numpy as np

from talkstyle.face import ARKIT_NAMES, FaceMotion
from talkstyle.face.rig import FaceRig
from talkstyle.render.grid import caption
from talkstyle.render.renderer import BACKGROUND, Renderer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=288)
    ap.add_argument("--columns", type=int, default=8)
    ap.add_argument("--mask", action="store_true", help="the face mask alone, without eyes, teeth and head")
    args = ap.parse_args()
    names = ["neutral", *ARKIT_NAMES]
    weights = np.zeros((len(names), 52), np.float32)
    for k in range(52):
        weights[k + 1, k] = 1.0
    # ARKit's mouthClose means lips together while the jaw is open: show it that way.
    close = names.index("mouthClose")
    weights[close, ARKIT_NAMES.index("jawOpen")] = 1.0
    names[close] = "mouthClose (+jawOpen)"
    rig = FaceRig.default()
    motion = FaceMotion(weights, np.zeros((len(names), 3)))
    bg = np.round(np.array(BACKGROUND) * 255).astype(np.uint8)
    s = args.size
    # Crop each frame to the face (the preview camera leaves room for head turns) under a label band.
    crop = (slice(int(0.07 * s), int(0.97 * s)), slice(int(0.17 * s), int(0.83 * s)))
    band = np.broadcast_to(bg, (max(18, s // 12), crop[1].stop - crop[1].start, 3))
    with Renderer(size=args.size, rig=rig, samples=4, head=not args.mask) as r:
        tiles = [caption(np.concatenate([band, img[crop]]), name) for img, name in zip(r.render_motion(motion), names)]
    rows = -(-len(tiles) // args.columns)
    th, tw = tiles[0].shape[:2]
    sheet = np.zeros((rows * th, args.columns * tw, 3), np.uint8)
    sheet[:] = bg
    for i, t in enumerate(tiles):
        y, x = divmod(i, args.columns)
        sheet[y * th:(y + 1) * th, x * tw:(x + 1) * tw] = t
    from PIL import Image

    Image.fromarray(sheet).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
