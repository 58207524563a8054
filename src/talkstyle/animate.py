"""The Python API of `talkstyle animate`: files in, files out, around TalkstylePipeline.

    from talkstyle.animate import animate
    motion = animate("speech.wav", style="A woman speaks with a strong happy expression",
                     out_dir="out/")          # motion.npz, preview.mp4, livelink.csv, face.glb

Any audio ffmpeg reads, any length (generated window by window in bounded memory). The style
reference may be a motion .npz or a video, which goes through the data engine's capture; that is
why this module sits above data/ and the pipeline below it.
"""
from __future__ import annotations

import dataclasses
import functools
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from .audio.io import load_audio
from .errors import TalkstyleError
from .face.motion import FaceMotion
from .pipeline import Settings, TalkstylePipeline
from .style_control import DEFAULT_TRANSITION, Timeline, build_timeline, with_references

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"}
OUTPUT_FILES = ("motion.npz", "preview.mp4", "livelink.csv", "face.glb")
DEFAULT_THREADS = 2                # the speed the README quotes; the small model gains little from more

__all__ = ["Settings", "animate", "load_reference", "write_outputs"]


@functools.cache
def _pipeline(checkpoint: str | None, threads: int | None) -> TalkstylePipeline:
    """One pipeline per checkpoint and process: loading takes longer than a short clip's generation."""
    return TalkstylePipeline.from_pretrained(checkpoint, threads=threads)


def load_reference(ref: str | Path | FaceMotion) -> FaceMotion:
    """A style reference: a FaceMotion, a motion .npz, or a video (through video capture)."""
    if isinstance(ref, FaceMotion):
        return ref
    from .validate import input_file

    path = input_file(ref, "style reference")
    if path.suffix.lower() == ".npz":
        return FaceMotion.load(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        from .data.capture import capture_video

        return capture_video(path).motion
    raise TalkstyleError(f"style reference must be a motion .npz or a video ({', '.join(sorted(VIDEO_SUFFIXES))}): {path}")


def animate(audio: str | Path | np.ndarray, style: str | Sequence[str] | None = None,
            style_ref: str | Path | FaceMotion | Sequence[str | Path | FaceMotion] | None = None, *,
            settings: Settings | None = None, checkpoint: str | Path | None = None,
            out_dir: str | Path | None = None, progress: bool = True, threads: int | None = DEFAULT_THREADS,
            mix: Sequence[float] | None = None, intensity: float = 1.0, edit: str | None = None,
            style_at: Sequence[tuple[float | str, str]] = (), timeline: Timeline | str | Path | None = None,
            transition: float = DEFAULT_TRANSITION) -> FaceMotion:
    """Generate a FaceMotion (the model's frame rate, the 16 kHz audio attached) for `audio` in the given style.

    `audio` is a file path (anything ffmpeg reads) or 16 kHz mono float32 samples. With `out_dir`,
    also writes motion.npz, preview.mp4, livelink.csv and face.glb there, as one set: the folder
    holds one run's complete outputs, never a mix of two runs. `threads`: torch CPU threads while
    generating (None: torch's own setting). `settings`: the checkpoint's pipeline.json defaults
    when not given.

    Style control (style_control.py): several prompts / references (files or FaceMotions) blended
    with `mix` weights (prompts first, then references), `intensity` (0 neutral, 1 as asked, 1.5
    exaggerated), `edit` (a prompt whose emotion replaces the style's), `style_at` [(seconds,
    style), ...] for changes over time, or a whole `timeline` (a Timeline, or a .json / text file).
    """
    from .pipeline import check_prompt
    from .validate import input_file, output_folder

    say = _stage_printer(progress)
    # Check every input and the output folder before the heavy work, so that bad input fails fast.
    if out_dir is not None:
        output_folder(out_dir, OUTPUT_FILES)
    if not isinstance(audio, np.ndarray):
        input_file(audio, "audio file")
    tl = build_timeline(style, style_ref, mix=mix, intensity=intensity, edit=edit, style_at=style_at,
                        timeline=timeline, transition=transition)        # bad timelines fail here
    for prompt in (p for seg in tl.segments for p in seg.style.prompts) if tl is not None else ():
        with warnings.catch_warnings():     # the pipeline warns about a vague prompt, once
            warnings.simplefilter("ignore")
            check_prompt(prompt)            # an empty prompt fails here, before the model loads
    described = tl.describe() if tl is not None else None
    tl = with_references(tl, load_reference) if tl is not None else None
    say("loading the model")
    pipe = _pipeline(str(checkpoint) if checkpoint is not None else None, threads)  # checks config and weights
    settings = settings or pipe.settings
    if not isinstance(audio, np.ndarray):
        say(f"decoding {Path(audio).name}")
        wav = load_audio(audio, progress=progress)
    else:
        wav = audio
    motion = pipe(wav, timeline=tl, settings=settings, progress=progress)
    motion = dataclasses.replace(motion, metadata={
        "generator": "talkstyle", "prompt": style if isinstance(style, str) else None,
        "style_ref": str(style_ref) if isinstance(style_ref, (str, Path)) else None,
        "timeline": described,
        "checkpoint": str(checkpoint) if checkpoint else "bundled", **dataclasses.asdict(settings)})
    if out_dir is not None:
        say(f"writing {', '.join(OUTPUT_FILES)}")
        write_outputs(motion, Path(out_dir), progress=progress)
    return motion


def _stage_printer(progress: bool):
    """On a terminal, one line as each stage of a long job starts, so that something shows at
    once (the bars of the long stages follow). Logs and pipes get only the bars and results."""
    import os
    import sys

    show = progress and (sys.stderr.isatty() or os.environ.get("TALKSTYLE_PROGRESS") == "1")

    def say(text: str) -> None:
        if show:
            print(f"{text}...", file=sys.stderr, flush=True)
    return say


def write_outputs(motion: FaceMotion, out_dir: Path, progress: bool = True) -> dict[str, Path]:
    """motion.npz, preview.mp4 (with the audio), livelink.csv and face.glb, written as one set
    (atomic.atomic_files): an error or Ctrl-C half way leaves the folder as it was."""
    from .atomic import atomic_files
    from .export.gltf import write_glb
    from .export.livelink import write_csv
    from .render.grid import render_motion

    with atomic_files(out_dir, OUTPUT_FILES) as stage:
        motion.save(stage / "motion.npz")
        render_motion(motion, stage / "preview.mp4", progress=progress)
        write_csv(motion, stage / "livelink.csv")
        write_glb(motion, stage / "face.glb")
    return {"motion": out_dir / "motion.npz", "preview": out_dir / "preview.mp4",
            "livelink": out_dir / "livelink.csv", "glb": out_dir / "face.glb"}
