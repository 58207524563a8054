"""Render every ARKit target of the FaceRig at weight 1 into one labelled PNG.

    python scripts/contact_sheet.py docs/contact_sheet.png [--size 192]
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
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--columns", type=int, default=8)
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
    verts = rig.decode(FaceMotion(weights, np.zeros((len(names), 3))))
    r = Renderer(size=args.size, rig=rig)
    tiles = [caption(img, name) for img, name in zip(r.render(verts), names)]
    r.release()
    rows = -(-len(tiles) // args.columns)
    s = args.size
    sheet = np.zeros((rows * s, args.columns * s, 3), np.uint8)
    sheet[:] = np.round(np.array(BACKGROUND) * 255).astype(np.uint8)
    for i, t in enumerate(tiles):
        y, x = divmod(i, args.columns)
        sheet[y * s:(y + 1) * s, x * s:(x + 1) * s] = t
    from PIL import Image

    Image.fromarray(sheet).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
