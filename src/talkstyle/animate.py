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
from pathlib import Path

import numpy as np

from .audio.io import load_audio
from .errors import TalkstyleError
from .face.motion import FaceMotion
from .pipeline import Settings, TalkstylePipeline

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"}
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
    path = Path(ref)
    if not path.is_file():
        raise TalkstyleError(f"style reference not found: {path}")
    if path.suffix.lower() == ".npz":
        return FaceMotion.load(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        from .data.capture import capture_video

        return capture_video(path).motion
    raise TalkstyleError(f"style reference must be a motion .npz or a video ({', '.join(sorted(VIDEO_SUFFIXES))}): {path}")


def animate(audio: str | Path | np.ndarray, style: str | None = None,
            style_ref: str | Path | FaceMotion | None = None, *, settings: Settings | None = None,
            checkpoint: str | Path | None = None, out_dir: str | Path | None = None,
            progress: bool = True, threads: int | None = DEFAULT_THREADS) -> FaceMotion:
    """Generate a FaceMotion (the model's frame rate, the 16 kHz audio attached) for `audio` in the given style.

    `audio` is a file path (anything ffmpeg reads) or 16 kHz mono float32 samples. With `out_dir`,
    also writes motion.npz, preview.mp4, livelink.csv and face.glb there. `threads`: torch CPU
    threads while generating (None: torch's own setting). `settings`: the checkpoint's
    pipeline.json defaults when not given.
    """
    wav = load_audio(audio) if not isinstance(audio, np.ndarray) else audio
    reference = load_reference(style_ref) if style_ref is not None else None
    pipe = _pipeline(str(checkpoint) if checkpoint is not None else None, threads)
    settings = settings or pipe.settings
    motion = pipe(wav, style, reference, settings=settings, progress=progress)
    motion = dataclasses.replace(motion, metadata={
        "generator": "talkstyle", "prompt": style, "style_ref": str(style_ref) if isinstance(style_ref, (str, Path)) else None,
        "checkpoint": str(checkpoint) if checkpoint else "bundled", **dataclasses.asdict(settings)})
    if out_dir is not None:
        write_outputs(motion, Path(out_dir))
    return motion


def write_outputs(motion: FaceMotion, out_dir: Path) -> dict[str, Path]:
    """motion.npz, preview.mp4 (with the audio), livelink.csv and face.glb, each written atomically."""
    from .export.gltf import write_glb
    from .export.livelink import write_csv
    from .render.grid import render_motion

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"motion": out_dir / "motion.npz", "preview": out_dir / "preview.mp4",
             "livelink": out_dir / "livelink.csv", "glb": out_dir / "face.glb"}
    motion.save(paths["motion"])
    render_motion(motion, paths["preview"])
    write_csv(motion, paths["livelink"])
    write_glb(motion, paths["glb"])
    return paths
