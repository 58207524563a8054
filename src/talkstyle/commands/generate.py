"""`talkstyle animate` and `talkstyle train`: the style generator commands."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def animate(
    audio: Path = typer.Option(..., "--audio", "-a", help="Speech (or singing) audio: any file ffmpeg reads, any length."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder: motion.npz, preview.mp4, livelink.csv, face.glb."),
    style: Optional[str] = typer.Option(None, "--style", "-s", help='Style prompt, e.g. "A man speaks with a low happy expression".'),
    style_ref: Optional[Path] = typer.Option(None, "--style-ref", help="Reference clip whose style to follow: motion .npz or video."),
    cfg_audio: float = typer.Option(1.0, help="Classifier-free guidance scale of the audio."),
    cfg_style: float = typer.Option(1.0, help="Classifier-free guidance scale of the style."),
    steps: int = typer.Option(4, help="Denoising steps per window (the paper: 1000 with ddpm)."),
    sampler: str = typer.Option("dpm", help="ddim | dpm | ddpm (the paper's setting: ddpm with 1000 steps)."),
    seed: int = typer.Option(0, help="Random seed."),
    head_words: bool = typer.Option(True, "--head-words/--no-head-words",
                                    help="Let nod / shake / still words of --style move the head."),
    checkpoint: Optional[Path] = typer.Option(None, help="Checkpoint folder (config.json + model.safetensors); "
                                                         "default: the bundled model."),
    threads: int = typer.Option(2, help="CPU threads for torch while generating."),
) -> None:
    """Animate a face from speech, in the style of a prompt and/or a reference clip."""
    import warnings

    from ..animate import Settings, animate as run

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda msg, *a, **k: typer.echo(f"warning: {msg}", err=True)
        motion = run(audio, style, style_ref, checkpoint=checkpoint, out_dir=out,
                     settings=Settings(cfg_audio=cfg_audio, cfg_style=cfg_style, steps=steps, sampler=sampler,
                                       seed=seed, head_words=head_words), threads=threads)
    typer.echo(f"{motion.num_frames} frames ({motion.duration:.1f} s) -> {out}/")


def train(
    data: Path = typer.Option(..., "--data", help="Dataset folder made by `talkstyle data build`."),
    out: Path = typer.Option(Path("runs/small"), "-o", "--out", help="Run folder: checkpoints, log.jsonl."),
    config: str = typer.Option("small", help="Model size: tiny | small | base."),
    steps: Optional[int] = typer.Option(None, help="Training steps (default: the config's)."),
    batch_size: Optional[int] = typer.Option(None, help="Window pairs per step (default: the config's)."),
    audio_encoder: Optional[str] = typer.Option(None, help="whisper | mel (default: the config's)."),
    augmented: int = typer.Option(1, help="Augmented audio copies of the training set (noise, reverb, pitch...)."),
    seed: int = typer.Option(0, help="Random seed."),
    threads: Optional[int] = typer.Option(None, help="CPU threads for torch."),
    resume: bool = typer.Option(True, help="Continue the run in --out if there is one."),
    init: Optional[Path] = typer.Option(None, help="Start from this checkpoint's weights (fine-tuning; same config)."),
) -> None:
    """Train the style generator (resumable; EMA weights saved as safetensors + config.json)."""
    from ..errors import TalkstyleError
    from ..validate import train_options

    if not data.is_dir():            # before importing torch: bad input fails fast
        raise TalkstyleError(f"dataset folder not found: {data}")
    train_options(out, steps=steps, batch_size=batch_size, threads=threads, augmented=augmented, seed=seed)
    from ..train import train as run

    path = run(data, out, config=config, steps=steps, batch_size=batch_size, seed=seed, augmented=augmented,
               resume=resume, threads=threads, audio_encoder=audio_encoder, init=init)
    typer.echo(f"checkpoint: {path}")


def export_checkpoint(
    run: Path = typer.Argument(..., help="Run folder made by `talkstyle train` (config.json + model.safetensors)."),
    out: Path = typer.Option(..., "-o", "--out", help="Model folder to write: config.json, model.safetensors (fp16), "
                                                     "pipeline.json."),
) -> None:
    """Export a run's EMA weights as a compact fp16 model that `animate --checkpoint` loads."""
    from ..errors import TalkstyleError

    if not run.is_dir():
        raise TalkstyleError(f"run folder not found: {run}")
    from ..pipeline import export_checkpoint as run_export

    typer.echo(f"model: {run_export(run, out)}")
