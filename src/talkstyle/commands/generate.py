"""`talkstyle animate` and `talkstyle train`: the style generator commands."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def animate(
    ctx: typer.Context,
    audio: Path = typer.Option(..., "--audio", "-a", help="Speech (or singing) audio: any file ffmpeg reads, any length; "
                               "or a folder of audio files (batch: one model load, OUT/<name>/ per file, resumable)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder: motion.npz, preview.mp4, livelink.csv, face.glb."),
    outputs: str = typer.Option("npz,mp4,csv,glb", help="What to write, comma-separated: npz (motion.npz), mp4 "
                                "(preview.mp4, the slow one), csv (livelink.csv), glb (face.glb)."),
    style: Optional[List[str]] = typer.Option(None, "--style", "-s", help='Style prompt, e.g. "A man speaks with a low happy '
                                              'expression". Repeat to blend prompts (see --mix).'),
    style_ref: Optional[List[Path]] = typer.Option(None, "--style-ref", help="Reference clip whose style to follow: motion "
                                                   ".npz or video. Repeat to blend references (see --mix)."),
    mix: Optional[str] = typer.Option(None, help="Blend the style parts with these weights, comma-separated: the --style "
                                      "prompts first, then the --style-ref clips."),
    intensity: float = typer.Option(1.0, help="Expression intensity: 0 neutral delivery of the same style, 1 as "
                                    "asked, 1.5 exaggerated (at most 2)."),
    edit: Optional[str] = typer.Option(None, help="Give the style this prompt's emotion, e.g. --style-ref clip.npz "
                                       '--edit "furious": like the clip, but furious.'),
    style_at: Optional[List[str]] = typer.Option(
        None, "--style-at", metavar="TIME STYLE", help='Change to STYLE at TIME seconds (12.5, 1:02.5), e.g. --style-at '
        '12.5 "She becomes furious"; STYLE may be "ref:clip.npz" or a blend "0.7*ref:a.npz + 0.3*A happy man". '
        'Repeatable.'),
    timeline: Optional[Path] = typer.Option(None, help="A style timeline file (.json, or text lines 'TIME STYLE'); "
                                            "see the README."),
    transition: float = typer.Option(0.8, help="Seconds a change of style takes (centred on its time)."),
    cfg_audio: float = typer.Option(1.0, help="Classifier-free guidance scale of the audio."),
    cfg_style: float = typer.Option(1.0, help="Classifier-free guidance scale of the style."),
    steps: int = typer.Option(4, help="Denoising steps per window (the paper: 1000 with ddpm)."),
    sampler: str = typer.Option("dpm", help="ddim | dpm | ddpm (the paper's setting: ddpm with 1000 steps)."),
    seed: int = typer.Option(0, help="Random seed."),
    head_words: bool = typer.Option(True, "--head-words/--no-head-words",
                                    help="Let nod / shake / still words of --style move the head."),
    lip_contact: bool = typer.Option(True, "--lip-contact/--no-lip-contact",
                                     help="Seal the lips where the model hears a p, b or m (when the checkpoint has a "
                                          "lip-contact component)."),
    checkpoint: Optional[Path] = typer.Option(None, help="Checkpoint folder (config.json + model.safetensors); "
                                                         "default: the bundled model."),
    threads: int = typer.Option(2, help="CPU threads for torch while generating."),
) -> None:
    """Animate a face from speech, in the style of a prompt and/or a reference clip, or a timeline of styles."""
    import warnings

    from ..animate import Settings, animate as run, animate_folder, parse_outputs
    from ..errors import TalkstyleError
    from ..style_control import parse_mix

    # --style-at takes two values; typer has no repeatable pairs, so each STYLE arrives as an extra
    # argument (cli.py registers the command with allow_extra_args), in order.
    times, styles_at = style_at or [], list(ctx.args)
    if len(styles_at) != len(times):
        raise TalkstyleError(f'--style-at takes a time and a style (--style-at 12.5 "She becomes furious"); '
                             f"got {len(times)} time(s) and {len(styles_at)} style(s)")
    kinds = parse_outputs(outputs)
    options = dict(style=style or None, style_ref=style_ref or None, checkpoint=checkpoint, threads=threads,
                   settings=Settings(cfg_audio=cfg_audio, cfg_style=cfg_style, steps=steps, sampler=sampler,
                                     seed=seed, head_words=head_words, lip_contact=lip_contact),
                   mix=parse_mix(mix) if mix is not None else None, intensity=intensity, edit=edit,
                   style_at=list(zip(times, styles_at)), timeline=timeline, transition=transition, outputs=kinds)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda msg, *a, **k: typer.echo(f"warning: {msg}", err=True)
        if audio.is_dir():
            done, skipped, failed = animate_folder(audio, out, say=lambda t: typer.echo(t, err=True), **options)
            typer.echo(f"{len(done)} animated, {len(skipped)} already done (skipped), {len(failed)} failed -> {out}/")
            if failed:
                raise TalkstyleError(f"{len(failed)} of {len(done) + len(skipped) + len(failed)} files failed: "
                                     + ", ".join(f.name for f in failed))
            return
        motion = run(audio, out_dir=out, **options)
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
    from ..distributed import is_lead

    if is_lead():                    # under torchrun: one line, not one per process
        typer.echo(f"checkpoint: {path}")


def train_contact(
    data: Path = typer.Option(..., "--data", help="Dataset folder made by `talkstyle data build` (its phone timings)."),
    checkpoint: Path = typer.Option(..., "--checkpoint", help="Checkpoint folder to add lip_contact.json + "
                                                              "lip_contact.safetensors to: a diffusion model's, or a "
                                                              "streaming model's (stream_config.json)."),
    steps: int = typer.Option(2000, help="Training steps."),
    augmented: int = typer.Option(1, help="Augmented audio copies of the training set (as for `talkstyle train`)."),
    seed: int = typer.Option(0, help="Random seed."),
    threads: Optional[int] = typer.Option(None, help="CPU threads for torch."),
    features: str = typer.Option("log-mel", help="A streaming model's component: 'log-mel' (inside the ONNX graph) "
                                                 "or 'whisper' (Whisper on a 2 s sliding window; better on people's "
                                                 "voices, about 0.3 of a core per stream)."),
) -> None:
    """Train the lip-contact component of a checkpoint (`talkstyle train` does it at the end of a run)."""
    from ..errors import TalkstyleError
    from ..model.stream import CONFIG_FILE as STREAM_CONFIG
    from ..validate import train_options

    train_options(checkpoint, steps=steps, threads=threads, augmented=augmented, seed=seed)
    if (checkpoint / STREAM_CONFIG).is_file():      # on the stream's features, within its look-ahead
        from ..train_stream import train_stream_contact

        if augmented != 1:
            raise TalkstyleError("--augmented applies to diffusion checkpoints; a streaming model's lip contact "
                                 "always trains on one copy in other recording conditions")
        if features not in ("log-mel", "whisper"):
            raise TalkstyleError(f"--features must be log-mel or whisper, got {features!r}"[:200])
        folder = train_stream_contact(data, checkpoint, steps, seed, threads, features=features)
    elif features != "log-mel":
        raise TalkstyleError("--features applies to streaming models; a diffusion model's lip contact reads its own "
                             "audio features")
    else:
        from ..train import train_contact

        folder = train_contact(data, checkpoint, steps, augmented, seed, threads)
    typer.echo(f"lip contact added to {folder}")


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
