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
# What `--outputs` names -> the file it writes. The preview takes most of the time (render/).
OUTPUTS = {"npz": "motion.npz", "mp4": "preview.mp4", "csv": "livelink.csv", "glb": "face.glb"}
OUTPUT_FILES = tuple(OUTPUTS.values())
AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wma", ".aif", ".aiff", ".webm"}
DEFAULT_THREADS = 2                # the speed the README quotes; the small model gains little from more

__all__ = ["Settings", "animate", "animate_folder", "load_reference", "parse_outputs", "write_outputs"]


@functools.cache
def _pipeline(checkpoint: str | None, threads: int | None) -> TalkstylePipeline:
    """One pipeline per checkpoint and process: loading takes longer than a short clip's generation."""
    return TalkstylePipeline.from_pretrained(checkpoint, threads=threads)


def parse_outputs(text: str | Sequence[str]) -> tuple[str, ...]:
    """'npz,glb' (or a list of names) -> the output kinds, in OUTPUTS order; unknown names are an error."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    unknown = [n for n in names if n not in OUTPUTS]
    if unknown or not names:
        raise TalkstyleError(f"--outputs takes a comma-separated list of {', '.join(OUTPUTS)}; "
                             f"got {text!r}")
    return tuple(k for k in OUTPUTS if k in names)


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


def checked_timeline(style, style_ref, **controls) -> Timeline | None:
    """The style timeline of animate()'s style arguments, checked before any model loads: a bad
    timeline or an empty prompt fails here (references are not loaded yet)."""
    from .pipeline import check_prompt

    tl = build_timeline(style, style_ref, **controls)
    for prompt in (p for seg in tl.segments for p in seg.style.prompts) if tl is not None else ():
        with warnings.catch_warnings():     # the pipeline warns about a vague prompt, once
            warnings.simplefilter("ignore")
            check_prompt(prompt)
    return tl


def animate(audio: str | Path | np.ndarray, style: str | Sequence[str] | None = None,
            style_ref: str | Path | FaceMotion | Sequence[str | Path | FaceMotion] | None = None, *,
            settings: Settings | None = None, checkpoint: str | Path | None = None,
            out_dir: str | Path | None = None, progress: bool = True, threads: int | None = DEFAULT_THREADS,
            mix: Sequence[float] | None = None, intensity: float = 1.0, edit: str | None = None,
            style_at: Sequence[tuple[float | str, str]] = (), timeline: Timeline | str | Path | None = None,
            transition: float = DEFAULT_TRANSITION, outputs: Sequence[str] = tuple(OUTPUTS)) -> FaceMotion:
    """Generate a FaceMotion (the model's frame rate, the 16 kHz audio attached) for `audio` in the given style.

    `audio` is a file path (anything ffmpeg reads) or 16 kHz mono float32 samples. With `out_dir`,
    also writes `outputs` there (default all: motion.npz, preview.mp4, livelink.csv, face.glb), as
    one set: the folder holds one run's outputs, never a mix of two runs. `threads`: torch CPU threads while
    generating (None: torch's own setting). `settings`: the checkpoint's pipeline.json defaults
    when not given.

    Style control (style_control.py): several prompts / references (files or FaceMotions) blended
    with `mix` weights (prompts first, then references), `intensity` (0 neutral, 1 as asked, 1.5
    exaggerated), `edit` (a prompt whose emotion replaces the style's), `style_at` [(seconds,
    style), ...] for changes over time, or a whole `timeline` (a Timeline, or a .json / text file).
    """
    from .validate import input_file, output_folder

    say = _stage_printer(progress)
    outputs = parse_outputs(outputs)
    # Check every input and the output folder before the heavy work, so that bad input fails fast.
    if out_dir is not None:
        output_folder(out_dir, OUTPUT_FILES)
    if not isinstance(audio, np.ndarray):
        input_file(audio, "audio file")
    tl = checked_timeline(style, style_ref, mix=mix, intensity=intensity, edit=edit, style_at=style_at,
                          timeline=timeline, transition=transition)
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
        say(f"writing {', '.join(OUTPUTS[k] for k in outputs)}")
        write_outputs(motion, Path(out_dir), progress=progress, outputs=outputs)
    return motion


def audio_files(folder: Path) -> list[Path]:
    """The audio files directly in `folder` (by suffix), sorted; none is an error."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise TalkstyleError(f"no audio files ({', '.join(sorted(AUDIO_SUFFIXES))}) in {folder}")
    return files


def animate_folder(folder: str | Path, out_dir: str | Path, *, outputs: Sequence[str] = tuple(OUTPUTS),
                   progress: bool = True, say=print, **kwargs) -> tuple[list[Path], list[Path], dict[Path, str]]:
    """`animate` every audio file in `folder` into out_dir/<file stem>/, loading the model once.

    Resumable: a file whose folder already holds every asked output is skipped (delete the folder
    to redo it). A file that fails (damaged audio...) is reported and the others go on.
    Returns (done, skipped, failed {file: error}). `kwargs` are animate()'s style and settings."""
    from .validate import output_folder

    folder, out_dir = Path(folder), Path(out_dir)
    outputs = parse_outputs(outputs)
    files = audio_files(folder)
    stems = [f.stem for f in files]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise TalkstyleError(f"audio files in {folder} share a name: {', '.join(clashes)} (one output folder each)")
    output_folder(out_dir)
    style_controls = {k: kwargs[k] for k in ("mix", "intensity", "edit", "style_at", "timeline", "transition") if k in kwargs}
    checked_timeline(kwargs.get("style"), kwargs.get("style_ref"), **style_controls)   # style errors stop the batch
    ref = kwargs.get("style_ref")
    if ref is not None:     # a reference video is captured once, not once per audio file
        kwargs["style_ref"] = ([load_reference(r) for r in ref] if isinstance(ref, (list, tuple))
                               else load_reference(ref))
    done, skipped, failed = [], [], {}
    for i, f in enumerate(files, 1):
        target = out_dir / f.stem
        if all((target / OUTPUTS[k]).is_file() for k in outputs):
            skipped.append(f)
            continue
        say(f"[{i}/{len(files)}] {f.name}")
        try:
            animate(f, out_dir=target, outputs=outputs, progress=progress, **kwargs)
            done.append(f)
        except TalkstyleError as e:      # this file's problem: the others still run
            failed[f] = str(e)
            say(f"error: {f.name}: {e}")
    return done, skipped, failed


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


def write_outputs(motion: FaceMotion, out_dir: Path, progress: bool = True,
                  outputs: Sequence[str] = tuple(OUTPUTS)) -> dict[str, Path]:
    """The asked outputs (default all: motion.npz, preview.mp4 with the audio, livelink.csv,
    face.glb), written as one set (atomic.atomic_files): an error or Ctrl-C half way leaves the
    folder as it was. Outputs of an earlier run that this one does not write are removed, so
    that the folder never mixes two runs. Returns {kind: path}."""
    from .atomic import atomic_files

    outputs = parse_outputs(outputs)
    files = [OUTPUTS[k] for k in outputs]
    with atomic_files(out_dir, files) as stage:
        for kind in outputs:
            _WRITERS[kind](motion, stage / OUTPUTS[kind], progress)
    for stale in set(OUTPUT_FILES) - set(files):
        (out_dir / stale).unlink(missing_ok=True)
    return {k: out_dir / OUTPUTS[k] for k in outputs}


def _write_npz(motion: FaceMotion, path: Path, progress: bool) -> None:
    motion.save(path)


def _write_mp4(motion: FaceMotion, path: Path, progress: bool) -> None:
    from .render.grid import render_motion

    render_motion(motion, path, progress=progress)


def _write_csv(motion: FaceMotion, path: Path, progress: bool) -> None:
    from .export.livelink import write_csv

    write_csv(motion, path)


def _write_glb(motion: FaceMotion, path: Path, progress: bool) -> None:
    from .export.gltf import write_glb

    write_glb(motion, path)


_WRITERS = {"npz": _write_npz, "mp4": _write_mp4, "csv": _write_csv, "glb": _write_glb}
