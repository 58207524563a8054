"""`talkstyle render` and `talkstyle demo`."""
from __future__ import annotations

from pathlib import Path

import typer

from .. import assets


DEMO_PROMPT = "A woman talks with a strong delighted expression."


def render(
    motion: Path = typer.Argument(..., help="FaceMotion .npz"),
    out: Path = typer.Option(..., "-o", "--out", help="Output .mp4"),
    audio: Path = typer.Option(None, "--audio", help="Audio to mux (any file ffmpeg reads); default: the motion's own"),
    size: int = typer.Option(512, "--size", help="Width = height in pixels"),
) -> None:
    """Render a FaceMotion on the FaceRig to a preview mp4 (H.264, AAC audio)."""
    from ..audio.io import SAMPLE_RATE, load_audio
    from ..face.motion import FaceMotion
    from ..render.grid import render_motion

    from ..validate import integer, output_file

    integer("--size", size, 16, 4096)
    output_file(out)
    m = FaceMotion.load(motion)
    wav = load_audio(audio) if audio is not None else None
    render_motion(m, out, audio=wav, sample_rate=SAMPLE_RATE if wav is not None else None, size=size)
    typer.echo(f"wrote {out} ({m.num_frames} frames, {m.duration:.1f} s)")


def demo(
    out: Path = typer.Option(Path("demo_out"), "-o", "--out", help="Output folder"),
    prompt: str = typer.Option(DEMO_PROMPT, "--style", help="Style prompt"),
) -> None:
    """Animate the bundled speech clip with the shipped model and a bundled prompt."""
    from ..animate import animate

    speech = assets.path("demo_speech.wav")
    motion = animate(speech, style=prompt, out_dir=out)      # checks `out` before the work
    typer.echo(f"'{prompt}' -> {out}/ (motion.npz, preview.mp4, livelink.csv, face.glb; "
               f"{motion.num_frames} frames)")
