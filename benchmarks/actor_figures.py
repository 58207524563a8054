"""Figures of the procedural actor for docs/: look at what it makes.

    .venv/bin/python benchmarks/actor_figures.py [--out docs] [--videos /tmp/actor_videos]

actor_grid.png: the same line spoken with each emotion family (rows, strong intensity), rendered
with the FaceRig at chosen moments (columns): a pause, a bilabial closure, an open vowel, a rounded
vowel, a mid-sentence frame.
actor_lipsync.png: mouth curves against the phones of one clip (red bands: p/b/m).
With --videos DIR: actor_same_line.mp4 (one line, each emotion), actor_same_prompt.mp4 (one prompt,
four lines), rendered with talkstyle.render's grid, and actor_grid_frame.png, a frame of the first.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from talkstyle.data.records import SynthClip
from talkstyle.vocab.attributes import EMOTION_FAMILIES, Prompt, StyleAttributes
from talkstyle.data.synth.person import PersonStyle
from talkstyle.data.synth.procedural import perform
from talkstyle.data.synth.visemes import LEAD_S, lip_gap
from talkstyle.face.arkit import INDEX

LINE = "Maybe Bob bought a blue boat at the harbour, but papa lost it."
PERSON = PersonStyle.from_id("figure-person", "female", "adult")


def take(family: str, level: float = 0.85) -> SynthClip:
    a = StyleAttributes(subject="woman", gender="female", emotion=family, family=family, level=level,
                        head_motion="natural")
    return perform(Prompt(f"A woman speaks with a strong {family} expression.", a), LINE, PERSON, seed=5)


def moments(clip: SynthClip) -> list[tuple[str, int]]:
    """(label, frame) for a pause, a closure, an open vowel, a rounded vowel, the middle."""
    n = clip.motion.num_frames
    frame = lambda p: min(n - 1, max(0, round(((p.start + p.end) / 2 - LEAD_S) * 25)))  # noqa: E731
    first = lambda test: next(p for p in clip.phones if p.symbol and test(p.symbol.lstrip("ˈˌ")))  # noqa: E731
    pause = next(p for p in clip.phones[1:] if not p.symbol)
    return [("pause", frame(pause)), ("b closure", frame(first(lambda s: s == "b"))),
            ("open vowel", frame(first(lambda s: s[0] in "aɑæ"))),
            ("rounded vowel", frame(first(lambda s: s[0] in "uoʊ"))), ("middle", n // 2)]


def grid(path: Path) -> None:
    from PIL import Image, ImageDraw

    from talkstyle.face.rig import FaceRig
    from talkstyle.render.renderer import Renderer

    rig, rows = FaceRig.default(), []
    with Renderer(size=224) as renderer:
        for family in EMOTION_FAMILIES:
            clip = take(family)
            tiles = []
            for label, k in moments(clip):
                v = rig.decode_weights(clip.motion.weights[k:k + 1], clip.motion.head[k:k + 1])[0]
                img = Image.fromarray(renderer.render_frame(v))
                ImageDraw.Draw(img).text((6, 6), f"{family}: {label}", fill=(255, 230, 80))
                tiles.append(np.asarray(img))
            rows.append(np.concatenate(tiles, 1))
    Image.fromarray(np.concatenate(rows, 0)).quantize(128).save(path, optimize=True)   # small for the repo


def lipsync(path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clip = take("happy", 0.6)
    m = clip.motion
    t = np.arange(m.num_frames) / m.fps
    fig, ax = plt.subplots(2, 1, figsize=(14, 6), sharex=True, gridspec_kw=dict(height_ratios=[1, 2]))
    ax[0].plot(np.arange(len(m.audio)) / m.sample_rate, m.audio, lw=0.3, color="gray")
    ax[0].set_ylabel("audio")
    for p in clip.phones:
        for a in ax:
            a.axvline(p.start, color="k", lw=0.2)
            if p.symbol in ("p", "b", "m"):
                a.axvspan(p.start, p.end, color="red", alpha=0.15)
        ax[1].text((p.start + p.end) / 2, 1.02, p.symbol, ha="center", fontsize=7)
    for name in ("jawOpen", "mouthClose", "mouthPucker", "mouthSmileLeft"):
        ax[1].plot(t, m.weights[:, INDEX[name]], ".-", label=name, lw=1, ms=3)
    ax[1].plot(t, lip_gap(m.weights), "k.-", label="lip gap", lw=1.5, ms=3)
    ax[1].set_ylim(0, 1.1)
    ax[1].legend(loc="upper right", fontsize=8)
    ax[1].set_xlabel("seconds (red: p/b/m; frames lead the sound by one frame)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def grid_videos(video_dir: Path, frame_png: Path) -> None:
    """Two preview grids with talkstyle.render: the same line with each emotion (audio of the
    first), and the same prompt with different lines; one frame of the first goes to docs."""
    import av
    from PIL import Image

    from talkstyle.render.grid import render_grid

    emotions = [take(f) for f in EMOTION_FAMILIES]
    same_line = video_dir / "actor_same_line.mp4"
    render_grid([c.motion for c in emotions], same_line, [c.prompt.attributes.family for c in emotions], size=256,
                progress=False)
    lines = ["Please pass me the bread and the butter, Bob.", "My mother bought a bright blue lamp at the market.",
             "Maybe we can meet by the harbour after the parade.", "The old boat was painted bright blue."]
    a = StyleAttributes(subject="woman", gender="female", emotion="happy", family="happy", level=0.6, head_motion="nod")
    prompt = Prompt("A woman speaks with a clear happy expression while nodding.", a)
    same_prompt = [perform(prompt, line, PERSON, seed=i) for i, line in enumerate(lines)]
    render_grid([c.motion for c in same_prompt], video_dir / "actor_same_prompt.mp4",
                [f"line {i + 1}" for i in range(len(lines))], size=256, progress=False)
    with av.open(str(same_line)) as f:   # a frame in mid-sentence, as the viewer sees the video
        frame = next(fr for i, fr in enumerate(f.decode(video=0)) if i == 38).to_ndarray(format="rgb24")
    Image.fromarray(frame).quantize(128).save(frame_png, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs")
    ap.add_argument("--videos", default=None, help="also write the preview grid videos into this folder")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    grid(out / "actor_grid.png")
    lipsync(out / "actor_lipsync.png")
    print(f"wrote {out / 'actor_grid.png'} and {out / 'actor_lipsync.png'}")
    if args.videos:
        Path(args.videos).mkdir(parents=True, exist_ok=True)
        grid_videos(Path(args.videos), out / "actor_grid_frame.png")
        print(f"wrote the grid videos into {args.videos} and {out / 'actor_grid_frame.png'}")


if __name__ == "__main__":
    main()
