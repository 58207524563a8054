"""Closing the lips on a weight track: shared by the synthetic actor (its p/b/m ground truth), the
pipeline's lip-contact step and the streaming model (also inside its ONNX graph), so that all of
them seal the mouth the same way."""
from __future__ import annotations

import numpy as np

from .arkit import ARKIT_NAMES, INDEX

# Shapes that part the lips (a funnel flares them open: 3.4 mm at 0.5 on the rig); a seal removes them.
LIP_PARTING = np.array([name.startswith(("mouthLowerDown", "mouthUpperUp", "mouthStretch", "mouthFunnel"))
                        for name in ARKIT_NAMES])
_CLOSE = np.arange(len(ARKIT_NAMES)) == INDEX["mouthClose"]


def seal_lips(weights, closure):
    """(..., T, 52) weights with the lips closed in proportion to `closure` (..., T) in [0, 1]:
    mouthClose follows the jaw (lips meet whatever the jaw does) and lip pulls that would part them
    are removed. numpy arrays in, numpy out; torch tensors in, tensors out (plain arithmetic, no
    in-place writes, so that it exports to ONNX)."""
    if isinstance(weights, np.ndarray) or not hasattr(weights, "clamp"):
        w, c = np.asarray(weights, np.float32), np.asarray(closure, np.float32)[..., None]
        parting, close, maximum = LIP_PARTING.astype(np.float32), _CLOSE.astype(np.float32), np.maximum
    else:
        import torch

        w, c = weights, closure[..., None]
        parting, close, maximum = torch.from_numpy(LIP_PARTING).to(w.dtype), torch.from_numpy(_CLOSE).to(w.dtype), torch.maximum
    jaw, shut = w[..., INDEX["jawOpen"]:INDEX["jawOpen"] + 1], w[..., INDEX["mouthClose"]:INDEX["mouthClose"] + 1]
    sealed = w * (1.0 - c * parting) + close * (maximum(shut * (1.0 - c), c * jaw) - shut)
    return sealed.clamp(0.0, 1.0) if hasattr(sealed, "clamp") else np.clip(sealed, 0.0, 1.0).astype(np.float32)
