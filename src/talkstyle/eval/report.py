"""The evaluation report: report.md (tables like the seed paper's), report.json and PNG plots.

    REPORT_DIR/report.md      tables, significance, style, lip sync, a closing note per baseline
    REPORT_DIR/report.json    every number, per clip too
    REPORT_DIR/metrics.png    metric bars with 95 % confidence intervals (reference-conditioned)
    REPORT_DIR/alpha.png      style-basis weights alpha over time (paper figure 7)
    REPORT_DIR/frames.png     one frame of the first test clip: ground truth and every model
    REPORT_DIR/seeds.png      designs trained with several seeds, each seed beside the others
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path, write_text
from ..face.motion import DEFAULT_FPS
from .baselines import VARIANTS
from .protocol import LABELS, METRICS, MODES
from .run import Evaluation, plain
from .statistics import PairedTest, seed_comparisons, seed_groups, seed_spreads

PAPER_METRICS = ("mse", "lve", "fdd", "mod")
BASELINES = ("unconditioned", "diffposetalk", "vae", "regression")
ABLATIONS = ("no_basis", "no_cross", "smooth_basis", "base")
MAIN_MODE = "reference"                 # the paper's table setting: every model gets the reference


def ci95(x: np.ndarray) -> float:
    return float(1.96 * x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0


def summary(ev: Evaluation) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """model -> mode -> metric -> mean, std, ci95."""
    return {r.checkpoint.name: {mode: {k: {"mean": float(r.values(mode, k).mean()), "std": float(r.values(mode, k).std()),
                                           "ci95": ci95(r.values(mode, k))} for k in METRICS} for mode in MODES}
            for r in ev.runs}


# ------------------------------------------------------------------ markdown
def _fmt(x: float) -> str:
    return "nan" if not np.isfinite(x) else f"{x:.3g}" if abs(x) < 100 else f"{x:.1f}"


def _md(label: str) -> str:
    """A label inside a Markdown table cell (|FDD| must not split the cell)."""
    return label.replace("|", "\\|")


def _test_of(tests: list[PairedTest], other: str, mode: str, metric: str) -> PairedTest | None:
    return next((t for t in tests if t.other == other and t.mode == mode and t.metric == metric), None)


def metric_table(ev: Evaluation, names: list[str], mode: str, metrics=METRICS) -> str:
    """Rows: models; cells: mean ± 95 % CI; * / † mark a model significantly worse / better than the
    first one (p < 0.05); bold: the first model beats every other in the table."""
    ref = ev.runs[0].checkpoint.name
    lines = ["| Model | " + " | ".join(f"{_md(LABELS[k])} ↓" for k in metrics) + " |",
             "|---" * (len(metrics) + 1) + "|"]
    for run in (r for r in ev.runs if r.checkpoint.name in names):
        cells = []
        for k in metrics:
            v = run.values(mode, k)
            cell = f"{_fmt(v.mean())} ± {_fmt(ci95(v))}"
            t = _test_of(ev.tests, run.checkpoint.name, mode, k)
            if t is not None and t.significant:
                cell += " *" if t.mean_diff < 0 else " †"      # worse / better than the first model
            if run.checkpoint.name == ref and ev.tests and all(
                    (x := _test_of(ev.tests, o, mode, k)) is not None and x.significant and x.mean_diff < 0
                    for o in names if o != ref):
                cell = f"**{cell}**"
            cells.append(cell)
        lines.append(f"| {run.checkpoint.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mode_table(ev: Evaluation) -> str:
    lines = ["| Model | Conditioning | " + " | ".join(_md(LABELS[k]) for k in PAPER_METRICS) + " |",
             "|---" * (len(PAPER_METRICS) + 2) + "|"]
    for run in ev.runs:
        for mode in MODES:
            lines.append(f"| {run.checkpoint.name} | {mode} | "
                         + " | ".join(_fmt(run.values(mode, k).mean()) for k in PAPER_METRICS) + " |")
    return "\n".join(lines)


def significance_table(ev: Evaluation) -> str:
    ref = ev.runs[0].checkpoint.name
    lines = [f"| {ref} vs | Conditioning | " + " | ".join(_md(LABELS[k]) for k in PAPER_METRICS) + " |",
             "|---" * (len(PAPER_METRICS) + 2) + "|"]
    for run in ev.runs[1:]:
        for mode in MODES:
            cells = []
            for k in PAPER_METRICS:
                t = _test_of(ev.tests, run.checkpoint.name, mode, k)
                cells.append(f"{t.mean_diff:+.3g} (p={t.p_value:.2g})")
            lines.append(f"| {run.checkpoint.name} | {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def closing_note(ev: Evaluation) -> list[str]:
    """One sentence per other model: where the first model stands against it (reference mode)."""
    ref = ev.runs[0].checkpoint.name
    out = []
    for run in ev.runs[1:]:
        better, worse, same = [], [], []
        for k in PAPER_METRICS:
            t = _test_of(ev.tests, run.checkpoint.name, MAIN_MODE, k)
            (better if t.significant and t.mean_diff < 0 else worse if t.significant else same).append(
                f"{LABELS[k].split(' ')[0]} (p={t.p_value:.2g})")
        parts = [f"better on {', '.join(better)}" if better else "",
                 f"worse on {', '.join(worse)}" if worse else "",
                 f"not significantly different on {', '.join(same)}" if same else ""]
        out.append(f"- **{ref} vs {run.checkpoint.name}**: " + "; ".join(p for p in parts if p) + ".")
    return out


def models_table(ev: Evaluation) -> str:
    lines = ["| Name | Variant | What it is | Size | Parameters | Training steps | Audio |", "|---|---|---|---|---|---|---|"]
    for r in ev.runs:
        i = r.checkpoint.info
        v = VARIANTS.get(i["variant"])
        steps = f"{i['steps']}" + (f" (+{i['style_pretrain_steps']} encoder pre-training)" if i.get("style_pretrain_steps") else "")
        lines.append(f"| {r.checkpoint.name} | {i['variant']} | {v.description if v else '-'} | {i.get('config_name') or '-'} "
                     f"| {i['parameters']:,} | {steps} | {i['model']['audio_encoder']} |")
    return "\n".join(lines)


def style_section(ev: Evaluation) -> list[str]:
    s = ev.style
    if s is None:
        return ["Not run (no `--eval-data`)."]
    out = [f"Evaluator: trained for {s.evaluator_steps} steps on {s.evaluator_clips} clips of `{s.eval_data}` "
           "(another build seed: persons the generators never saw). Chance for emotion accuracy: 1/8.", "",
           "| Model | Conditioning | Emotion acc ↑ | R-precision top-1 ↑ | top-3 ↑ | Matching score ↓ |",
           "|---|---|---|---|---|---|"]
    out += [f"| {r.model} | {r.mode} | {r.scores.emotion_accuracy:.2f} | {r.scores.r_precision_top1:.2f} | "
            f"{r.scores.r_precision_top3:.2f} | {r.scores.matching_score:.3f} |" for r in s.rows]
    out += ["", "**One-word edits** (text conditioning, same audio and seed; signed so that > 0 means the "
            "change went the way the word asked):", "",
            "| Model | Edit | n | Δ P(family) | Δ family channels | as asked | classified as asked | largest channel changes |",
            "|---|---|---|---|---|---|---|---|"]
    out += [f"| {e.model} | {e.kind} | {e.n} | {e.prob_change:+.3f} | {e.channel_change:+.4f} | {e.as_asked:.2f} | "
            f"{e.hit_rate:.2f} | {', '.join(f'{c} {d:+.3f}' for c, d in e.top_channels)} |" for e in s.edits]
    out += ["", "Family channels (from the evaluator's data): "
            + "; ".join(f"{f}: {', '.join(c)}" for f, c in s.family_channels.items()), "",
            "**Reference following** (evaluator embedding of the motion generated from a reference vs all "
            "references; AUC chance 0.5, top-1 chance 1/n):", "",
            "| Model | AUC ↑ | top-1 ↑ | n |", "|---|---|---|---|"]
    out += [f"| {f.model} | {f.auc:.2f} | {f.top1:.2f} | {f.n} |" for f in s.following]
    return out


def seeds_section(ev: Evaluation) -> list[str]:
    """Designs trained with several seeds (NAME, NAME-s1, ...): mean and spread over seeds, and the
    first design against the others with the clips' values averaged over seeds; conditioned on the
    reference (the paper's setting) and on the prompt (the product's usual one)."""
    groups = seed_groups(ev.runs)
    if not groups:
        return []
    accuracy = {(r.model, r.mode): r.scores.emotion_accuracy for r in ev.style.rows} if ev.style else {}
    first = next(iter(groups))
    out = ["## Over seeds", "",
           "Mean over seeds of each seed's clip mean ± their standard deviation [lowest, highest seed]; then "
           f"{first} − other with the clips' values averaged over each design's seeds (negative: {first} lower), "
           f"Wilcoxon over clips, and the seed pairs (one run of each) in which {first} is lower.", ""]
    for mode in (MAIN_MODE, "text"):
        spreads = {(x.design, x.metric): x for x in seed_spreads(groups, mode, PAPER_METRICS)}
        out += [f"**Conditioned on the {'prompt' if mode == 'text' else mode}**", "",
                "| Design | Seeds | " + " | ".join(_md(LABELS[k]) for k in PAPER_METRICS)
                + (" | Emotion acc. |" if accuracy else " |"),
                "|---" * (len(PAPER_METRICS) + 2 + bool(accuracy)) + "|"]
        for design, runs in groups.items():
            cells = [f"{_fmt(x.mean)} ± {_fmt(x.std)} [{_fmt(x.low)}, {_fmt(x.high)}]"
                     for x in (spreads[design, k] for k in PAPER_METRICS)]
            if accuracy:
                a = [accuracy[r.checkpoint.name, mode] for r in runs]
                cells.append(f"{np.mean(a):.2f} ± {np.std(a, ddof=1):.2f}")
            out.append(f"| {design} | {len(runs)} | " + " | ".join(cells) + " |")
        comparisons = seed_comparisons(groups, mode, PAPER_METRICS)
        if comparisons:
            out += ["", f"| {first} vs | " + " | ".join(_md(LABELS[k]) for k in PAPER_METRICS) + " |",
                    "|---" * (len(PAPER_METRICS) + 1) + "|"]
            for other in list(groups)[1:]:
                cells = [f"{c.mean_diff:+.3g} ({c.relative:+.1%}, p={c.p_value:.2g}, {c.wins}/{c.pairs})"
                         for c in comparisons if c.other == other]
                out.append(f"| {other} | " + " | ".join(cells) + " |")
        out.append("")
    return out + ["![seeds](seeds.png)", ""]


def lipsync_section(ev: Evaluation) -> list[str]:
    if not ev.lipsync:
        return ["Not run (eval/lipsync.py not available)."]
    out = [f"Real speech: `{ev.lipsync['audio']}` (CMU ARCTIC), transcript \"{ev.lipsync['transcript']}\" "
           f"(Whisper tiny.en), prompt \"{ev.lipsync['prompt']}\". Bilabial closed share and vowel open share: "
           "higher is better; lag near 0 ms.", ""]
    scores = ev.lipsync["scores"]
    keys = [k for k, v in next(iter(scores.values())).items() if isinstance(v, (int, float))]
    out += ["| Model | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    out += [f"| {m} | " + " | ".join(_fmt(float(s[k])) for k in keys) + " |" for m, s in scores.items()]
    return out


def markdown(ev: Evaluation) -> str:
    names = [r.checkpoint.name for r in ev.runs]
    variant = {r.checkpoint.name: r.checkpoint.info["variant"] for r in ev.runs}
    ref = names[0]
    table1 = [ref] + [n for n in names[1:] if variant[n] not in ABLATIONS]
    table2 = [ref] + [n for n in names[1:] if variant[n] in ABLATIONS]
    persons = len({c.person for c in ev.clips})
    st = ev.settings
    md = ["# talkstyle evaluation", "",
          f"Data: `{ev.data}`, TEST split (held-out persons): {len(ev.clips)} clips of {persons} persons. Each clip "
          "is cut at its middle: the first half is the style reference (adjacent, non-overlapping), the second "
          "half the target (its audio in, its motion the ground truth).",
          f"Sampling: {st.sampler}, {st.steps} steps, guidance audio {st.cfg_audio} / style {st.cfg_style}, "
          f"seed {st.seed}. Metrics on FaceRig vertices (head rotation excluded; scored apart in degrees).",
          f"Cells: mean ± 95 % CI over clips. Against **{ref}** (Wilcoxon signed-rank over clips, p < 0.05): "
          f"`*` significantly worse than {ref}, `†` significantly better; bold: {ref} significantly better "
          "than every other model in the table.", "",
          "## Models and training budget", "", models_table(ev), "",
          "## Table 1: baselines (conditioned on the reference, as the paper)", "",
          metric_table(ev, table1, MAIN_MODE), ""]
    if len(table2) > 1:
        md += ["## Table 2: ablations (conditioned on the reference)", "", metric_table(ev, table2, MAIN_MODE), ""]
    md += seeds_section(ev)
    md += ["## Text vs reference vs both", "", mode_table(ev), ""]
    if ev.tests:
        md += ["## Paired significance (Wilcoxon signed-rank over clips)", "",
               f"Mean difference {ref} − other (negative: {ref} lower, better) and two-sided p.", "",
               significance_table(ev), ""]
    md += ["## Style", ""] + style_section(ev) + ["", "## Lip sync on real speech", ""] + lipsync_section(ev)
    md += ["", "## Plots", "", "![metrics](metrics.png)", ""]
    if ev.alphas:
        md += ["![alpha](alpha.png)", ""]
    md += ["![frames](frames.png)", ""]
    if ev.tests:
        md += ["## Where talkstyle stands", ""] + closing_note(ev) + [""]
    if ev.notes:
        md += ["## Notes", ""] + [f"- {n}" for n in ev.notes] + [""]
    return "\n".join(md)


# ------------------------------------------------------------------ json
def to_json(ev: Evaluation) -> dict[str, Any]:
    groups = seed_groups(ev.runs)
    return {
        "data": ev.data, "eval_data": ev.eval_data, "settings": dataclasses.asdict(ev.settings),
        "clips": [{"clip_id": c.clip_id, "person": c.person, "prompt": c.prompt.text,
                   "family": c.prompt.attributes.family, "frames": c.target.num_frames} for c in ev.clips],
        "models": {r.checkpoint.name: {**{k: v for k, v in r.checkpoint.info.items()}, "path": str(r.checkpoint.path)}
                   for r in ev.runs},
        "summary": summary(ev),
        "per_clip": {r.checkpoint.name: {mode: {k: r.values(mode, k).tolist() for k in METRICS} for mode in MODES}
                     for r in ev.runs},
        "fdd_signed": {r.checkpoint.name: {mode: [m.fdd for m in r.metrics[mode]] for mode in MODES} for r in ev.runs},
        "significance": [{**dataclasses.asdict(t), "significant": t.significant} for t in ev.tests],
        "seeds": {mode: {"spread": [dataclasses.asdict(x) for x in seed_spreads(groups, mode, METRICS)],
                         "comparisons": [dataclasses.asdict(x) for x in seed_comparisons(groups, mode, METRICS)]}
                  for mode in MODES},
        "style": plain(ev.style) if ev.style is not None else None,
        "lipsync": ev.lipsync, "alpha": {k: v.tolist() for k, v in ev.alphas.items()}, "notes": ev.notes,
    }


# ------------------------------------------------------------------ plots
def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_metrics(ev: Evaluation, path: Path) -> None:
    import matplotlib.pyplot as plt

    names = [r.checkpoint.name for r in ev.runs]
    fig, axes = plt.subplots(1, len(PAPER_METRICS), figsize=(3.4 * len(PAPER_METRICS), 3.2))
    colours = plt.cm.tab10(np.arange(len(names)) % 10)
    for ax, k in zip(axes, PAPER_METRICS):
        means = [r.values(MAIN_MODE, k).mean() for r in ev.runs]
        errs = [ci95(r.values(MAIN_MODE, k)) for r in ev.runs]
        ax.bar(range(len(names)), means, yerr=errs, color=colours, capsize=3)
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
        ax.set_title(LABELS[k] + " ↓", fontsize=10)
    fig.suptitle(f"Reference-conditioned, {len(ev.clips)} test clips (95 % CI)", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def plot_seeds(ev: Evaluation, path: Path) -> None:
    """Each design's seeds side by side (reference-conditioned, 95 % CI over clips), LVE and |FDD|,
    with the text-conditioned emotion accuracy where the style evaluator ran."""
    import matplotlib.pyplot as plt

    groups = seed_groups(ev.runs)
    accuracy = {(r.model, r.mode): r.scores.emotion_accuracy for r in ev.style.rows} if ev.style else {}
    panels = ["lve", "fdd"] + (["accuracy"] if accuracy else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.2))
    for ax, key in zip(np.atleast_1d(axes), panels):
        for i, (design, runs) in enumerate(groups.items()):
            x = i + np.linspace(-0.2, 0.2, len(runs))
            if key == "accuracy":
                y = [accuracy[r.checkpoint.name, "text"] for r in runs]
                ax.plot(x, y, "o", color=f"C{i}")
            else:
                y = [r.values(MAIN_MODE, key).mean() for r in runs]
                ax.errorbar(x, y, yerr=[ci95(r.values(MAIN_MODE, key)) for r in runs], fmt="o", color=f"C{i}", capsize=3)
            ax.hlines(np.mean(y), i - 0.3, i + 0.3, color=f"C{i}")
        ax.set_xticks(range(len(groups)), list(groups), rotation=30, ha="right", fontsize=8)
        ax.set_title("emotion accuracy from text ↑" if key == "accuracy" else LABELS[key] + " ↓", fontsize=10)
    fig.suptitle("Each seed (dots, 95 % CI over clips) and the mean over seeds (line)", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def plot_alpha(ev: Evaluation, path: Path) -> None:
    import matplotlib.pyplot as plt

    items = list(ev.alphas.items())
    fig, axes = plt.subplots(len(items), 1, figsize=(7, 2.2 * len(items)), squeeze=False)
    for ax, (name, alpha) in zip(axes[:, 0], items):
        t = np.arange(len(alpha)) / DEFAULT_FPS
        for k in range(alpha.shape[1]):
            ax.plot(t, alpha[:, k], label=f"basis {k}")
        ax.set_title(f"{name}: style-basis weights α (clip {ev.clips[0].clip_id})", fontsize=9)
        ax.set_ylabel("α")
        ax.legend(fontsize=7, ncol=alpha.shape[1], loc="upper right")
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    _save(fig, path)


def plot_frames(ev: Evaluation, path: Path, size: int = 256) -> None:
    """Ground truth and each model at the frame where the ground truth's mouth is most open."""
    import matplotlib.pyplot as plt

    from ..face.rig import FaceRig
    from ..render.renderer import Renderer

    clip = ev.clips[0]
    f = int(np.argmax(clip.target.channel("jawOpen")))
    rig = FaceRig.default()
    panels = [("ground truth", clip.target)] + [(r.checkpoint.name, r.motions[MAIN_MODE][0]) for r in ev.runs]
    with Renderer(size=size, rig=rig) as renderer:
        images = [renderer.render_frame(rig.decode(m.slice(f, f + 1))[0]) for _, m in panels]
    fig, axes = plt.subplots(1, len(panels), figsize=(2.2 * len(panels), 2.5), squeeze=False)
    for ax, (name, _), img in zip(axes[0], panels, images):
        ax.imshow(img)
        ax.set_title(name, fontsize=8)
        ax.axis("off")
    fig.suptitle(f"{clip.clip_id}, frame {f}: \"{clip.prompt.text[:70]}\"", fontsize=8)
    _save(fig, path)


def write_report(ev: Evaluation, out: str | Path) -> Path:
    """Write every report file into `out` (created); returns report.md's path."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plot_metrics(ev, out / "metrics.png")
    if ev.alphas:
        plot_alpha(ev, out / "alpha.png")
    if seed_groups(ev.runs):
        plot_seeds(ev, out / "seeds.png")
    plot_frames(ev, out / "frames.png")
    write_text(out / "report.json", json.dumps(plain(to_json(ev)), indent=1) + "\n")
    write_text(out / "report.md", markdown(ev))
    return out / "report.md"
