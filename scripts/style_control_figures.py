"""Figures of style control for the README and docs/model.md (look before you ship).

    .venv/bin/python scripts/style_control_figures.py [--checkpoint DIR] [--out docs]

style_timeline.jpg: one long recording (six LJ Speech readings joined, ../shared/realspeech; else
beckett.wav) through a timeline of three styles: frames around each change, and the signature
channels over time with the asked times marked. style_intensity.jpg: one prompt at intensities
0, 0.5, 1 and 1.5, one row each, three moments of the same sentence.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_style_control import LONG_PARTS, REALSPEECH, TSV  # noqa: E402

from talkstyle.animate import animate  # noqa: E402
from talkstyle.audio import load_audio  # noqa: E402
from talkstyle.audio.samples import speech_path  # noqa: E402

STYLES = ["A woman speaks with a calm neutral expression.", "She becomes furious.",
          "A woman speaks with a delighted expression."]
CHANGES = [15.0, 32.0]
GRID_PROMPTS = ["A man speaks with an angry expression.", "A woman speaks with a surprised expression."]
INTENSITIES = [0.0, 0.5, 1.0, 1.5]
CHANNELS = {"browDown (angry)": ["browDownLeft", "browDownRight"],
            "mouthSmile (happy)": ["mouthSmileLeft", "mouthSmileRight"]}


def long_recording() -> np.ndarray:
    from talkstyle.eval.realspeech import load_recordings

    recs = {r.id: r for r in load_recordings(TSV)}
    paths = [recs[i].path(REALSPEECH) for i in LONG_PARTS]
    if any(p is None for p in paths):
        return load_audio(speech_path("arctic_a0007"))
    gap = np.zeros(int(0.3 * 16000), np.float32)
    return np.concatenate([x for p in paths for x in (load_audio(p), gap)])


def tiles(renderer, motion, frames: list[int]) -> list[np.ndarray]:
    from talkstyle.face.motion import FaceMotion

    return list(renderer.render_motion(FaceMotion(motion.weights[frames], motion.head[frames], motion.fps)))


def timeline_figure(checkpoint: str | None, path: Path) -> None:
    from PIL import Image

    from talkstyle.render.grid import caption
    from talkstyle.render.renderer import Renderer

    audio = long_recording()
    motion = animate(audio, STYLES[0], style_at=list(zip(CHANGES, STYLES[1:])), checkpoint=checkpoint, progress=False)
    times = [6.0, 14.5, 15.0, 15.5, 24.0, 31.5, 32.0, 32.5, 42.0]
    with Renderer(size=240, head=True) as renderer:
        faces = tiles(renderer, motion, [min(int(t * motion.fps), motion.num_frames - 1) for t in times])
    strip = np.concatenate([caption(f, f"{t:g} s" + (" (asked)" if t in CHANGES else "")) for f, t in zip(faces, times)], 1)
    fig, ax = plt.subplots(figsize=(strip.shape[1] / 100, 2.2), dpi=100)
    t = np.arange(motion.num_frames) / motion.fps
    for name, chans in CHANNELS.items():
        ax.plot(t, np.mean([motion.channel(c) for c in chans], 0), lw=1, label=name)
    for c in CHANGES:
        ax.axvline(c, color="k", ls="--", lw=0.8)
    for t0 in times:
        ax.axvline(t0, color="0.7", lw=0.5)
    ax.set_xlim(0, t[-1])
    ax.set_xlabel("seconds: calm -> 'She becomes furious.' at 15 s -> delighted at 32 s (dashed: the asked times; "
                  "grey: the frames above)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.canvas.draw()
    plot = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    plt.close(fig)
    plot = np.asarray(Image.fromarray(plot).resize((strip.shape[1], plot.shape[0] * strip.shape[1] // plot.shape[1])))
    Image.fromarray(np.concatenate([strip, plot], 0)).save(path, quality=88)


def intensity_figure(checkpoint: str | None, path: Path, moments=(0.3, 0.55)) -> None:
    from PIL import Image

    from talkstyle.render.grid import caption
    from talkstyle.render.renderer import Renderer

    audio = load_audio(speech_path("beckett") or speech_path("arctic_a0007"))
    rows = []
    with Renderer(size=220, head=True) as renderer:
        for level in INTENSITIES:
            row = []
            for prompt in GRID_PROMPTS:
                motion = animate(audio, prompt, intensity=level, checkpoint=checkpoint, progress=False)
                faces = tiles(renderer, motion, [int(m * motion.num_frames) for m in moments])
                faces[0] = caption(faces[0], f"{prompt.split(' with ')[1].split()[1]}, intensity {level:g}")
                row += faces
            rows.append(np.concatenate(row, 1))
    Image.fromarray(np.concatenate(rows, 0)).save(path, quality=88)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    timeline_figure(args.checkpoint, args.out / "style_timeline.jpg")
    intensity_figure(args.checkpoint, args.out / "style_intensity.jpg")
    print(f"wrote {args.out / 'style_timeline.jpg'}, {args.out / 'style_intensity.jpg'}")


if __name__ == "__main__":
    main()
