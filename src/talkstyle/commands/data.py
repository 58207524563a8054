"""`talkstyle data ...`: prompts (stage I), the distribution report, and building a dataset."""
from __future__ import annotations

from pathlib import Path

import typer


def prompts(n: int = typer.Option(..., "--n", help="How many prompts."),
            seed: int = typer.Option(0, "--seed"),
            out: Path = typer.Option(..., "-o", "--out", help="Output .jsonl (one prompt with its attributes a line).")
            ) -> None:
    """Write N balanced prompts (emotion x intensity x subject group x head motion)."""
    from ..data.prompts import sample_prompts, save_prompts
    from ..validate import integer, output_file, seed as check_seed

    integer("--n", n, 1, 1_000_000)
    check_seed(seed)
    output_file(out)
    save_prompts(out, sample_prompts(n, seed))
    print(f"wrote {n} prompts to {out}")


def parse(text: str = typer.Argument(..., help="A style prompt, e.g. 'A man speaks with a low happy expression'.")
          ) -> None:
    """Show the attributes read from a user-written prompt."""
    import warnings

    from ..text.parse import analyze_prompt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown words are printed below
        parsed = analyze_prompt(text)
    for key, value in parsed.attributes.to_dict().items():
        print(f"{key:12s} {value}")
    for word, known in parsed.mapped.items():
        print(f"mapped       {word} -> {known}")
    if parsed.unknown:
        print(f"unknown      {', '.join(parsed.unknown)}")


def report(source: Path = typer.Argument(..., help="A dataset folder or a prompts .jsonl file."),
           out: Path = typer.Option(None, "-o", "--out", help="Report folder (default: DIR/report or FILE_report).")
           ) -> None:
    """Attribute distribution tables (Markdown) and bar charts (PNG)."""
    from ..data.report import write_report

    if out is None:
        out = source / "report" if source.is_dir() else source.with_name(source.stem + "_report")
    md = write_report(source, out)
    print(f"wrote {md}")


def build(hours: float = typer.Option(..., "--hours", help="Hours of speech to synthesize."),
          out: Path = typer.Option(..., "--out", help="Dataset folder (created; an existing one is resumed)."),
          workers: int = typer.Option(1, "--workers", help="Worker processes."),
          seed: int = typer.Option(0, "--seed"),
          augment_frac: float = typer.Option(0.2, "--augment-frac",
                                             help="Share of still/natural clips that also get a nod or shake copy."),
          backend: str = typer.Option("procedural", "--backend",
                                       help="'procedural' or module:Class."),
          voices: str = typer.Option("all", "--voices",
                                     help="'all' installed voices, 'espeak', or a comma list (festival:kal,flite:slt,...)."),
          persons_per_group: int = typer.Option(8, "--persons-per-group",
                                                help="Synthetic persons per gender x age group."),
          render: bool = typer.Option(False, "--render", help="Also write a preview mp4 per clip (slow)."),
          ) -> None:
    """Build a dataset: balanced prompts -> synthetic clips -> augmentation -> store. Resumable."""
    from ..data.engine import build as run_build

    s = run_build(out, hours, seed=seed, workers=workers, backend=backend, augment_frac=augment_frac,
                  persons_per_group=persons_per_group, render=render, voices=voices)
    for problem in s.damaged:
        print(f"remade {problem}")
    print(f"{s.done} clips made, {s.skipped} already there, {len(s.failed)} failed of {s.planned} planned; "
          f"{s.seconds_stored / 3600:.2f} h stored in {s.wall_s:.0f} s -> {out}")
    print(f"voices: {', '.join(s.voices)}")
    if s.failed:
        print("failed clips are retried by running the same command again")
        raise typer.Exit(1)


def verify(dataset: Path = typer.Argument(..., help="A dataset folder (data build, import or synth)."),
           repair: bool = typer.Option(False, "--repair",
                                       help="Remove damaged clips (row and files) and rewrite the manifest; "
                                            "rerunning the build or import then makes them again."),
           ) -> None:
    """Check every stored clip against its row: files present, sizes and checksums. Exit 1 on damage."""
    from ..data.store import Dataset
    from ..errors import TalkstyleError

    if not dataset.is_dir():
        raise TalkstyleError(f"dataset folder not found: {dataset}")
    ds = Dataset(dataset)
    if repair:
        fixed = ds.repair()
        for problem in fixed:
            print(f"removed {problem}")
        print(f"{len(fixed)} damaged clips removed, {len(ds)} intact -> {dataset}"
              + ("; rerun the same build or import to make them again" if fixed else ""))
        return
    problems = ds.verify(progress=True)
    for problem in problems:
        print(f"damaged {problem}")
    total = len(list((dataset / "rows").glob("*.json")))
    print(f"{total - len(problems)} of {total} clips intact" +
          (f"; `talkstyle data verify {dataset} --repair` removes the damaged ones" if problems else ""))
    if problems:
        raise typer.Exit(1)
