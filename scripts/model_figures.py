"""Figures of a style generator checkpoint on real human speech, for docs/ (look before you ship).

    .venv/bin/python scripts/model_figures.py [--checkpoint DIR] [--out docs]

Writes model_styles.jpg (one row per prompt, three moments of one sentence), model_jaw.jpg
(jawOpen against the speech envelope), model_lips.png (inner-lip gap with the p/b/m centres of a
forced alignment) and head_words.png (head rotation by head-motion words); with --run, model_curves.png (training and
validation losses from the run's log.jsonl). The speech is
beckett.wav from useful-moonshine-onnx (`make install-test` installs it) and the bundled demo clip.
"""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from talkstyle.animate import animate  # noqa: E402
from talkstyle.audio import load_audio  # noqa: E402
from talkstyle.audio.samples import speech_path  # noqa: E402
from talkstyle.errors import TalkstyleError  # noqa: E402
from talkstyle.face.motion import FaceMotion  # noqa: E402

STYLES = ["A man speaks with a strong happy expression.", "A woman speaks with an intense angry expression.",
          "A sad old man whispers.", "A girl speaks with a vivid surprised expression.",
          "A man speaks with a clear disgusted expression.", None]
HEAD_WORDS = ["", ", nodding along", ", shaking his head", ", keeping the head still"]


def speech() -> dict[str, np.ndarray]:
    beckett = speech_path("beckett")
    if beckett is None:
        raise TalkstyleError("beckett.wav comes with useful-moonshine-onnx: run `make install-test` first")
    return {"beckett": load_audio(beckett), "demo": load_audio(speech_path("arctic_a0007"))}


def envelope(audio: np.ndarray, frames: int) -> np.ndarray:
    hop = 16000 // 25
    env = np.array([np.sqrt(np.mean(audio[i * hop:(i + 1) * hop] ** 2)) for i in range(frames)])
    return env / env.max()


def styles_figure(audio: np.ndarray, checkpoint: str | None, path: Path, moments=(0.18, 0.39, 0.62)) -> None:
    from PIL import Image

    from talkstyle.render.grid import caption
    from talkstyle.render.renderer import Renderer

    rows = []
    with Renderer(size=213, head=True) as renderer:
        for style in STYLES:
            motion = animate(audio, style, checkpoint=checkpoint, progress=False)
            frames = [int(m * motion.num_frames) for m in moments]
            tiles = list(renderer.render_motion(FaceMotion(motion.weights[frames], motion.head[frames], motion.fps)))
            tiles[0] = caption(tiles[0], style or "no style")
            rows.append(np.concatenate(tiles, 1))
    Image.fromarray(np.concatenate(rows, 0)).save(path, quality=88)


def jaw_figure(clips: dict[str, np.ndarray], checkpoint: str | None, path: Path) -> None:
    fig, axes = plt.subplots(len(clips), 1, figsize=(9.8, 5.6))
    for ax, (name, audio) in zip(axes, clips.items()):
        for style in STYLES[:3] + [None]:
            motion = animate(audio, style, checkpoint=checkpoint, progress=False)
            ax.plot(motion.channel("jawOpen"), lw=1, label=f"jawOpen: {(style or 'no style')[:28]}")
        ax.plot(envelope(audio, motion.num_frames), "k", lw=1.5, label="speech envelope")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=6, loc="upper right")
    axes[-1].set_xlabel("frame (25 fps)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def lips_figure(clips: dict[str, np.ndarray], checkpoint: str | None, path: Path) -> None:
    from talkstyle.eval.lipsync import BILABIALS, CLOSED_MM, align_phones, transcribe
    from talkstyle.face.rig import FaceRig

    rig = FaceRig.default()
    fig, axes = plt.subplots(len(clips), 1, figsize=(9.8, 5.0))
    for ax, (name, audio) in zip(axes, clips.items()):
        motion = animate(audio, "A person speaks with a calm neutral expression.", checkpoint=checkpoint, progress=False)
        text = transcribe(audio)
        phones = align_phones(audio, text)
        ax.plot(rig.mouth_opening(motion), "C0", lw=1.2, label="inner-lip gap (mm)")
        ax.axhline(CLOSED_MM, color="0.6", lw=0.8, ls=":", label=f"closed below {CLOSED_MM} mm")
        for p in phones:
            if p.symbol in BILABIALS:
                ax.axvspan(p.start * 25, p.end * 25, color="C3", alpha=0.25)
                ax.text((p.start + p.end) / 2 * 25, ax.get_ylim()[1] * 0.9, p.symbol, ha="center", fontsize=8)
        ax.set_title(f"{name}: \"{text}\" (p/b/m shaded)", fontsize=8)
        ax.legend(fontsize=6, loc="upper left")
    axes[-1].set_xlabel("frame (25 fps)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def head_words_figure(audio: np.ndarray, checkpoint: str | None, path: Path) -> None:
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    base = "A man talks with a calm neutral expression"
    for words in HEAD_WORDS:
        motion = animate(audio, base + words + ".", checkpoint=checkpoint, progress=False)
        t = np.arange(motion.num_frames) / motion.fps
        for axis, ax in enumerate(axes):
            ax.plot(t, np.degrees(motion.head[:, axis]), lw=1, label=words.strip(", ") or "no head words")
    axes[0].set_ylabel("pitch (deg)")
    axes[1].set_ylabel("yaw (deg)")
    axes[1].set_xlabel("s")
    axes[0].legend(fontsize=8, ncol=4)
    fig.suptitle("head rotation on beckett.wav by head-motion words", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def curves_figure(run: Path, path: Path) -> None:
    import json

    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    val = [r for r in rows if "val" in r]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, key in zip(axes, ("simple", "lips")):
        steps = np.array([r["step"] for r in rows])
        train = np.array([r[key] for r in rows])
        kernel = np.ones(50) / 50                    # per-step losses are noisy: a 50-step mean
        ax.plot(steps[49:], np.convolve(train, kernel, "valid"), lw=1, label="train (50-step mean)")
        ax.plot([r["step"] for r in val], [r["val"][key] for r in val], "o-", ms=3, label="validation (EMA)")
        ax.set_yscale("log")
        ax.set_title({"simple": "x0 MSE (normalised)", "lips": "lip-gap loss"}[key], fontsize=9)
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="checkpoint folder (default: the shipped model)")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--run", type=Path, default=None, help="training run folder: also draw its loss curves")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.run is not None:
        curves_figure(args.run, args.out / "model_curves.png")
    clips = speech()
    styles_figure(clips["beckett"], args.checkpoint, args.out / "model_styles.jpg")
    jaw_figure(clips, args.checkpoint, args.out / "model_jaw.jpg")
    lips_figure(clips, args.checkpoint, args.out / "model_lips.png")
    head_words_figure(clips["beckett"], args.checkpoint, args.out / "head_words.png")
    print(f"wrote {args.out}/model_styles.jpg, model_jaw.jpg, model_lips.png, head_words.png")


if __name__ == "__main__":
    main()
