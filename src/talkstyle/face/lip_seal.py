"""Closing the lips on a weight track: shared by the synthetic actor (its p/b/m ground truth) and
the pipeline's lip-contact step, so that both seal the mouth the same way."""
from __future__ import annotations

import numpy as np

from .arkit import ARKIT_NAMES, INDEX

# Shapes that part the lips (a funnel flares them open: 3.4 mm at 0.5 on the rig); a seal removes them.
LIP_PARTING = np.array([name.startswith(("mouthLowerDown", "mouthUpperUp", "mouthStretch", "mouthFunnel"))
                        for name in ARKIT_NAMES])


def seal_lips(weights: np.ndarray, closure: np.ndarray) -> np.ndarray:
    """(T, 52) weights with the lips closed in proportion to `closure` (T,) in [0, 1]: mouthClose
    follows the jaw (lips meet whatever the jaw does) and lip pulls that would part them are removed."""
    w = np.array(weights, np.float32)
    c = np.asarray(closure, np.float32)
    jaw = w[:, INDEX["jawOpen"]]
    w[:, INDEX["mouthClose"]] = np.maximum(w[:, INDEX["mouthClose"]] * (1 - c), c * jaw)
    w[:, LIP_PARTING] *= (1.0 - c)[:, None]
    return np.clip(w, 0.0, 1.0)
