"""Validation curves of the fair-budget runs side by side (issue 20: why does a variant win?).

    python scripts/fair_curves.py runs/fair/runs/talkstyle runs/fair/runs/vae ... -o docs/eval/fair_round1/curves.png

Reads each run's log.jsonl (`talkstyle train` / `train-variant` write one row per step, with the
validation losses every checkpoint) and plots the validation x0 error ("simple"), the lip-gap
loss and the training x0 error (a running mean) against the step.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def read_log(run: Path) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(steps with validation, {loss: values}, training 'simple' per step)."""
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    val = [r for r in rows if "val" in r]
    keys = ("simple", "lips")
    return (np.array([r["step"] for r in val]), {k: np.array([r["val"][k] for r in val]) for k in keys},
            np.array([r["simple"] for r in rows]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for run in args.runs:
        steps, val, train = read_log(run)
        mean = np.convolve(train, np.ones(200) / 200, mode="valid")       # step 200 onwards, no edge effects
        axes[0].plot(np.arange(len(mean)) + 200, mean, label=run.name)
        axes[1].plot(steps, val["simple"], marker="o", ms=3, label=run.name)
        axes[2].plot(steps, val["lips"], marker="o", ms=3, label=run.name)
        print(f"{run.name}: val simple {val['simple'][-1]:.4f} (best {val['simple'].min():.4f} at step "
              f"{steps[val['simple'].argmin()]}), val lips {val['lips'][-1]:.3f}")
    for ax, title in zip(axes, ("training x0 error (200-step mean)", "validation x0 error", "validation lip-gap loss")):
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].set_ylim(None, 0.5)
    axes[1].legend()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=90)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
