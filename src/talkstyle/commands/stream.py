"""`talkstyle train-stream`, `export-stream` and `export-onnx`: the streaming model's commands."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def train_stream(
    data: Path = typer.Option(..., "--data", help="Dataset folder made by `talkstyle data build`."),
    out: Path = typer.Option(Path("runs/stream"), "-o", "--out", help="Run folder: teacher targets, checkpoints, log.jsonl."),
    teacher: Optional[Path] = typer.Option(None, help="Diffusion model to distil (default: the bundled model)."),
    steps: int = typer.Option(1200, help="Training steps."),
    clips: int = typer.Option(480, help="Train clips the teacher animates (a seeded subsample)."),
    lookahead: int = typer.Option(3, help="Frames (40 ms each) of audio the model hears past the frame it outputs."),
    warp: float = typer.Option(0.0, help="Voice augmentation: random mel-axis warp +- this (0.12: voices 12 % "
                               "higher / lower)."),
    tilt_db: float = typer.Option(0.0, help="Voice augmentation: random spectral tilt +- this many dB across the band."),
    threads: int = typer.Option(1, help="CPU threads for torch."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Distil the streaming model from the diffusion model (resumable: rerun the same command)."""
    from ..errors import TalkstyleError

    if not data.is_dir():
        raise TalkstyleError(f"dataset folder not found: {data}")
    for name, value, lo in (("--steps", steps, 1), ("--clips", clips, 1), ("--threads", threads, 1),
                            ("--lookahead", lookahead, 0), ("--warp", warp, 0), ("--tilt-db", tilt_db, 0)):
        if value < lo:
            raise TalkstyleError(f"{name} must be at least {lo}, got {value}")
    if warp >= 0.5:
        raise TalkstyleError(f"--warp must be below 0.5, got {warp}")
    from ..train_stream import train_stream as run

    path = run(data, out, steps=steps, clips=clips, teacher=teacher, threads=threads, lookahead=lookahead, seed=seed,
               warp=warp, tilt_db=tilt_db)
    typer.echo(f"streaming model: {path}")


def export_stream(
    run: Path = typer.Argument(..., help="Run folder made by `talkstyle train-stream`."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder to write: stream_config.json, stream.safetensors (fp16)."),
) -> None:
    """Export a streaming run's EMA weights as a compact fp16 model (StreamAnimator(checkpoint=...))."""
    from ..errors import TalkstyleError

    if not run.is_dir():
        raise TalkstyleError(f"run folder not found: {run}")
    from ..train_stream import export_stream as export

    typer.echo(f"streaming model: {export(run, out)}")


def export_onnx(
    out: Path = typer.Option(..., "-o", "--out", help="Folder to write: talkstyle_stream.onnx and styles.json."),
    style: Optional[List[str]] = typer.Option(None, "--style", "-s", help="A prompt whose style vector goes into "
                                              "styles.json (repeatable); the unstyled vector is always there."),
    checkpoint: Optional[Path] = typer.Option(None, help="Streaming model folder (default: the bundled one)."),
) -> None:
    """Export the streaming model as ONNX for engines (Unity Sentis, Unreal NNE, onnxruntime)."""
    import warnings

    from ..stream_onnx import export_onnx as export

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda msg, *a, **k: typer.echo(f"warning: {msg}", err=True)
        path = export(out, checkpoint, list(style or []))
    typer.echo(f"onnx: {path}")
