"""Look at lip contact: frames of real fast speech at its p/b/m, generated with and without it.

    .venv/bin/python scripts/lip_contact_figure.py docs/lip_contact.png [--checkpoint DIR] [--recording pyannote_call]

The recording comes from benchmarks/realspeech/transcripts.tsv (default: the two-person telephone
call shipped in pyannote-audio, the fastest speech the benchmark has); its p/b/m come from the
benchmark's forced alignment. Row 1: the shipped pipeline; row 2: the same with --no-lip-contact.
Each frame is captioned with its word's phone and the inner-lip gap in mm.
"""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--recording", default="pyannote_call")
    ap.add_argument("--count", type=int, default=6, help="p/b/m frames to show")
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    from PIL import Image

    from talkstyle.animate import animate
    from talkstyle.audio import load_audio
    from talkstyle.errors import TalkstyleError
    from talkstyle.eval.lipsync import BILABIALS
    from talkstyle.eval.realspeech import AlignmentCache, load_recordings
    from talkstyle.face.motion import FaceMotion
    from talkstyle.face.rig import FaceRig
    from talkstyle.pipeline import Settings
    from talkstyle.render.grid import caption
    from talkstyle.render.renderer import Renderer

    recs = {r.id: r for r in load_recordings(ROOT / "benchmarks" / "realspeech" / "transcripts.tsv")}
    rec = recs.get(args.recording)
    path = rec.path(ROOT.parent / "shared" / "realspeech") if rec else None
    if path is None:
        raise TalkstyleError(f"recording {args.recording!r} is not listed or not installed")
    audio = load_audio(path)
    phones, _ = AlignmentCache().phones(audio, rec.align_text or rec.text)
    bilabials = [p for p in phones if p.symbol in BILABIALS]
    picks = [bilabials[i] for i in np.linspace(0, len(bilabials) - 1, min(args.count, len(bilabials))).astype(int)]
    prompt = "A person speaks with a calm neutral expression."
    rig = FaceRig.default()
    rows = []
    with Renderer(size=args.size, head=True, samples=4) as r:
        for contact in (True, False):
            m = animate(audio, prompt, checkpoint=args.checkpoint, progress=False, settings=Settings(lip_contact=contact))
            frames = [min(m.num_frames - 1, round((p.start + p.end) / 2 * m.fps)) for p in picks]
            gap = rig.mouth_opening(m)
            sub = FaceMotion(m.weights[frames], m.head[frames], m.fps)
            label = "lip contact" if contact else "no lip contact"
            rows.append([caption(img, f"{label}: {p.symbol} {p.start:.2f}s {gap[f]:.1f}mm")
                         for img, p, f in zip(r.render_motion(sub), picks, frames)])
    Image.fromarray(np.concatenate([np.concatenate(row, 1) for row in rows], 0)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
