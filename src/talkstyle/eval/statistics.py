"""Paired significance tests over clips: talkstyle against each other checkpoint."""
from __future__ import annotations

import dataclasses

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
