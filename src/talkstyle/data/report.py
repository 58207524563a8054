"""The meta-attribute distribution of a prompt file or a dataset: Markdown tables and bar charts."""
from __future__ import annotations

from pathlib import Path

from ..atomic import atomic_path, write_text
from ..errors import TalkstyleError
from .prompts import STRATA, load_prompts, prompt_to_dict
from ..vocab.words import intensity_band

# Attribute columns reported, in the seed's order (S, E, I) and then the rest.
OVERVIEW = ("group", "family", "band", "head_motion", "delivery", "age_group")
REPORTED = ("subject", "gender", "age_group", "group", "emotion", "family", "intensity", "band", "head_motion", "delivery")


def load_table(source: str | Path):
    """A DataFrame of prompts with attributes, from a dataset folder or a prompts .jsonl file."""
    import pandas as pd

    source = Path(source)
    if source.is_dir():
        from .store import Dataset

        df = Dataset(source).manifest.copy()
        if df.empty:
            raise TalkstyleError(f"the dataset in {source} has no clips yet")
    elif source.is_file():
        df = pd.DataFrame([prompt_to_dict(p) for p in load_prompts(source)])
        if df.empty:
            raise TalkstyleError(f"no prompts in {source}")
    else:
        raise TalkstyleError(f"no dataset folder or prompt file at {source}")
    df["band"] = [intensity_band(v) for v in df["level"]]
    df["group"] = df["gender"] + "-" + df["age_group"].map(lambda a: "young" if a in ("child", "young") else "adult")
    return df


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _bars(ax, counts, title: str) -> None:
    if len(counts) > 12:  # many values: horizontal bars, most frequent on top, stay readable
        ax.barh(range(len(counts)), counts.values[::-1], color="#4477aa")
        ax.set_yticks(range(len(counts)), counts.index[::-1], fontsize=7)
        ax.set_xlabel("clips", fontsize=8)
        ax.margins(y=0.005)
    else:
        ax.bar(range(len(counts)), counts.values, color="#4477aa")
        ax.set_xticks(range(len(counts)), counts.index, fontsize=7, rotation=30 if len(counts) > 5 else 0)
        ax.set_ylabel("clips", fontsize=8)
    ax.set_title(title, fontsize=9)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    _plt().close(fig)


def _bar_chart(counts, title: str, path: Path) -> None:
    plt = _plt()
    size = (6.0, 0.17 * len(counts) + 1.0) if len(counts) > 12 else (max(4.0, 0.6 * len(counts) + 1.5), 3.2)
    fig, ax = plt.subplots(figsize=size)
    _bars(ax, counts, title)
    _save(fig, path)


def _overview(df, path: Path) -> None:
    """The seed's meta-attribute distribution at a glance: one panel per balanced attribute."""
    plt = _plt()
    fig, axes = plt.subplots(2, 3, figsize=(12, 6))
    for ax, column in zip(axes.flat, OVERVIEW):
        _bars(ax, df[column].value_counts().sort_index(), column)
    _save(fig, path)


def write_report(source: str | Path, out: str | Path) -> Path:
    """Write report.md and one PNG bar chart per attribute into `out`. Returns the .md path."""
    df = load_table(source)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = f"{len(df)} prompts"
    if "duration" in df:
        summary = f"{len(df)} clips, {df['duration'].sum() / 3600:.2f} hours, {df['person'].nunique()} persons"
    lines = [f"# Attribute distribution: {Path(source).name}", "", summary]
    if "duration" in df:
        hours = df.groupby("split")["duration"].sum() / 3600
        lines += ["", "| split | clips | hours | persons |", "|---|---|---|---|"]
        for split, g in df.groupby("split"):
            lines.append(f"| {split} | {len(g)} | {hours[split]:.2f} | {g['person'].nunique()} |")
        lines.append(f"\naugmented clips: {int((df['augmented'] != '').sum())}")
    # Balance over the sampler's strata (emotion family x intensity band x subject group x head motion),
    # counted on sampled clips: augmented copies add nods and shakes on purpose.
    sampled = df[df["augmented"] == ""] if "augmented" in df else df
    per_stratum = sampled.groupby(["family", "band", "group", "head_motion"]).size()
    per_stratum = per_stratum.reindex(list(STRATA), fill_value=0)
    lines += ["", "## Balance over strata (family x intensity band x subject group x head motion)", "",
              f"{len(per_stratum)} strata; sampled clips per stratum (augmented copies not counted): "
              f"min {per_stratum.min()}, max {per_stratum.max()}, mean {per_stratum.mean():.2f}",
              "", "![overview](overview.png)"]
    _overview(df, out / "overview.png")
    for column in REPORTED:
        counts = df[column].value_counts().sort_values(ascending=False, kind="stable")
        png = out / f"{column}.png"
        _bar_chart(counts, f"{column} ({counts.size} values)", png)
        lines += ["", f"## {column}", "", f"![{column}]({png.name})", "", "| value | count | share |", "|---|---|---|"]
        lines += [f"| {k} | {v} | {v / len(df):.1%} |" for k, v in counts.items()]
    md = out / "report.md"
    write_text(md, "\n".join(lines) + "\n")
    return md
