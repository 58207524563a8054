"""`talkstyle evaluate` (the protocol and its report) and `talkstyle train-variant` (baselines, ablations)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import TalkstyleError


def parse_checkpoints(specs: list[str]) -> dict[str, Path]:
    """["talkstyle=runs/a", "vae=runs/b,no_basis=runs/c"] -> ordered {name: path}."""
    out: dict[str, Path] = {}
    for item in (s.strip() for spec in specs for s in spec.split(",") if s.strip()):
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise TalkstyleError(f"--checkpoints takes NAME=DIR, got {item!r}")
        if name in out:
            raise TalkstyleError(f"checkpoint name '{name}' given twice")
        out[name] = Path(path)
    return out


def evaluate(
    data: Path = typer.Option(..., "--data", help="Dataset built by `talkstyle data build`; its TEST split is used."),
    checkpoints: List[str] = typer.Option(..., "--checkpoints", "-c",
                                          help="NAME=DIR, repeated or comma-separated; the first is compared with the rest."),
    out: Path = typer.Option(..., "-o", "--out", help="Report folder: report.md, report.json, PNG plots."),
    eval_data: Optional[Path] = typer.Option(None, "--eval-data",
                                             help="Dataset built with ANOTHER seed, to train the style evaluator on."),
    max_clips: Optional[int] = typer.Option(None, help="Evaluate at most this many test clips (evenly spread)."),
    steps: int = typer.Option(10, help="Denoising steps per window."),
    sampler: str = typer.Option("dpm", help="ddim | dpm | ddpm."),
    cfg_audio: float = typer.Option(1.0, help="Guidance scale of the audio."),
    cfg_style: float = typer.Option(1.0, help="Guidance scale of the style."),
    seed: int = typer.Option(0, help="Sampling seed (the same for every model: paired comparisons)."),
    evaluator_steps: int = typer.Option(1500, help="Training steps of the style evaluator (cached in EVAL_DATA/cache)."),
    edit_clips: int = typer.Option(16, help="Clips whose prompt gets one-word edits."),
    note: List[str] = typer.Option([], "--note", help="A line for the report's notes (e.g. the training budget); repeatable."),
    threads: int = typer.Option(2, help="CPU threads for torch during the evaluation."),
) -> None:
    """Evaluate checkpoints on held-out persons: paper metrics, significance, style, lip sync; one report.

    Generations are cached in OUT/cache: a rerun (or one with a checkpoint added) generates only what is new.
    """
    from ..eval.report import write_report
    from ..eval.run import evaluate as run
    from ..pipeline import Settings
    from ..validate import integer, output_folder

    if max_clips is not None and max_clips < 1:
        raise TalkstyleError(f"--max-clips must be at least 1, got {max_clips}")
    if out.exists() and not out.is_dir():
        raise TalkstyleError(f"report folder is a file: {out}")
    integer("--evaluator-steps", evaluator_steps, 1, 10_000_000)
    integer("--edit-clips", edit_clips, 0, 100_000)
    settings = Settings(cfg_audio=cfg_audio, cfg_style=cfg_style, steps=steps, sampler=sampler, seed=seed)
    output_folder(out)
    result = run(data, parse_checkpoints(checkpoints), eval_data, settings,
                 max_clips=max_clips, evaluator_steps=evaluator_steps, swap_clips=edit_clips, cache=out / "cache",
                 threads=threads)
    result.notes[:0] = note
    typer.echo(f"wrote {write_report(result, out)}")


def train_variant(
    variant: str = typer.Argument(..., help="talkstyle | unconditioned | diffposetalk | vae | regression | "
                                            "no_basis | no_cross | base"),
    data: Path = typer.Option(..., "--data", help="Dataset folder made by `talkstyle data build`."),
    out: Path = typer.Option(..., "-o", "--out", help="Run folder (resumed if it holds this variant's run)."),
    steps: int = typer.Option(..., help="Training steps: give every variant the same budget."),
    size: Optional[str] = typer.Option(None, help="Model size for every variant but `base` (default small)."),
    batch_size: Optional[int] = typer.Option(None, help="Window pairs per step (default: the config's)."),
    audio_encoder: Optional[str] = typer.Option(None, help="whisper | mel (default: the config's)."),
    augmented: int = typer.Option(1, help="Augmented audio copies of the training set."),
    pretrain_steps: Optional[int] = typer.Option(None, help="diffposetalk only: style-encoder pre-training steps "
                                                            "(default steps/2)."),
    seed: int = typer.Option(0, help="Random seed."),
    data_seed: Optional[int] = typer.Option(None, help="Seed of the data's speed copies and augmented audio "
                                                       "(default --seed): other seeds, same training data."),
    threads: Optional[int] = typer.Option(None, help="CPU threads for torch."),
) -> None:
    """Train a baseline or ablation of the style generator with the same code, data and budget."""
    from ..eval.baselines import train_variant as run

    path = run(variant, data, out, steps, size=size, batch_size=batch_size, seed=seed, augmented=augmented,
               threads=threads, audio_encoder=audio_encoder, pretrain_steps=pretrain_steps,
               data_seed=data_seed)
    from ..distributed import is_lead

    if is_lead():                    # under torchrun: one line, not one per process
        typer.echo(f"checkpoint: {path}")
