"""Paired significance tests over clips: talkstyle against each other checkpoint, and the same
designs compared over their training seeds."""
from __future__ import annotations

import dataclasses
import re

import numpy as np

from .protocol import METRICS, MODES, ModelRun


@dataclasses.dataclass
class PairedTest:
    """Wilcoxon signed-rank over clips: talkstyle vs another model, one metric and mode."""
    mode: str
    metric: str
    model: str
    other: str
    mean_diff: float                    # mean(model - other): negative = model better (lower)
    p_value: float
    n: int

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def paired_test(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value; 1.0 when the pairs do not differ at all."""
    from scipy.stats import wilcoxon

    if len(a) != len(b):
        raise ValueError("paired samples must have the same length")
    if np.allclose(a, b):
        return 1.0
    return float(wilcoxon(a, b).pvalue)


def significance(runs: list[ModelRun]) -> list[PairedTest]:
    ref = runs[0]
    tests = []
    for other in runs[1:]:
        for mode in MODES:
            for key in METRICS:
                a, b = ref.values(mode, key), other.values(mode, key)
                tests.append(PairedTest(mode, key, ref.checkpoint.name, other.checkpoint.name,
                                        float((a - b).mean()), paired_test(a, b), len(a)))
    return tests


# ------------------------------------------------------------------ seeds
# Runs named NAME, NAME-s1, NAME-s2 ... are one design trained with several seeds.
_SEED_NAME = re.compile(r"^(?P<design>.+)-s(?P<seed>\d+)$")


def seed_groups(runs: list[ModelRun]) -> dict[str, list[ModelRun]]:
    """design -> its runs (NAME first, then NAME-sN by seed), for designs with two or more seeds."""
    names = {r.checkpoint.name for r in runs}
    groups: dict[str, list[tuple[int, ModelRun]]] = {}
    for r in runs:
        m = _SEED_NAME.match(r.checkpoint.name)
        design, seed = (m["design"], int(m["seed"])) if m and m["design"] in names else (r.checkpoint.name, 0)
        groups.setdefault(design, []).append((seed, r))
    return {d: [r for _, r in sorted(g, key=lambda x: x[0])] for d, g in groups.items() if len(g) > 1}


@dataclasses.dataclass
class SeedSpread:
    """One design's metric over its seeds: the mean of each seed's clip mean, their spread."""
    design: str
    metric: str
    seeds: int
    mean: float
    std: float                          # over seed means (ddof 1)
    low: float
    high: float


@dataclasses.dataclass
class SeedComparison:
    """A design against another over seeds. mean_diff and p come from the clips' values averaged
    over each design's seeds (Wilcoxon over clips); `wins` counts the seed pairs (one run of
    each) in which the design's clip mean is the lower, of `pairs`."""
    design: str
    other: str
    metric: str
    mean_diff: float
    relative: float                     # mean_diff / the other's mean
    p_value: float
    wins: int
    pairs: int


def seed_spreads(groups: dict[str, list[ModelRun]], mode: str, metrics: tuple[str, ...]) -> list[SeedSpread]:
    out = []
    for design, runs in groups.items():
        for key in metrics:
            means = np.array([r.values(mode, key).mean() for r in runs])
            out.append(SeedSpread(design, key, len(runs), float(means.mean()), float(means.std(ddof=1)),
                                  float(means.min()), float(means.max())))
    return out


def seed_comparisons(groups: dict[str, list[ModelRun]], mode: str, metrics: tuple[str, ...]) -> list[SeedComparison]:
    """The first design against each other one."""
    designs = list(groups)
    out = []
    for other in designs[1:]:
        a_runs, b_runs = groups[designs[0]], groups[other]
        for key in metrics:
            a_vals, b_vals = [r.values(mode, key) for r in a_runs], [r.values(mode, key) for r in b_runs]
            a, b = np.mean(a_vals, axis=0), np.mean(b_vals, axis=0)
            a_means, b_means = [v.mean() for v in a_vals], [v.mean() for v in b_vals]
            wins = sum(x < y for x in a_means for y in b_means)
            diff, base = float((a - b).mean()), float(b.mean())
            out.append(SeedComparison(designs[0], other, key, diff, diff / base if base else float("nan"),
                                      paired_test(a, b), wins, len(a_means) * len(b_means)))
    return out
