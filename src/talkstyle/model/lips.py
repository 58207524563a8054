"""The FaceRig's mouth opening (inner-lip gap, mm) as a differentiable function of the weights.

The training loss on lip closure needs the gap a viewer sees, not a weight-space proxy: lip
pulls, pucker and smile part the lips on the rig as much as the jaw does. Only the six central
inner-lip vertices are decoded, exactly as `FaceRig.decode_weights` does (linear targets, then
the jaw hinge, then mouthClose), so it costs next to nothing per frame.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..face import regions as R
from ..face.arkit import INDEX
from ..face.rig import FaceRig


class LipGap(nn.Module):
    def __init__(self, rig: FaceRig | None = None):
        super().__init__()
        rig = rig or FaceRig.default()
        verts = np.concatenate([R.MID_LIP_UPPER, R.MID_LIP_LOWER])
        linear = rig.deltas[:, verts].copy()
        linear[[INDEX["jawOpen"], INDEX["mouthClose"]]] = 0       # applied by the hinge and after it
        # Rig constants, not weights: kept out of checkpoints (persistent=False).
        for name, value in dict(neutral=rig.neutral[verts], linear=linear, jaw_weight=rig.jaw_weight[verts],
                                close=rig.deltas[INDEX["mouthClose"], verts],
                                hinge=rig.hinge[1:3]).items():
            self.register_buffer(name, torch.from_numpy(np.asarray(value, np.float32)), persistent=False)
        self.jaw_max = float(rig.jaw_max)

    def forward(self, weights: torch.Tensor) -> torch.Tensor:
        """(..., 52) weights in [0, 1] -> (...) inner-lip gap in mm."""
        v = self.neutral + torch.einsum("...k,kvc->...vc", weights, self.linear)
        angle = weights[..., INDEX["jawOpen"], None] * self.jaw_max
        c, s = torch.cos(angle) - 1, torch.sin(angle)
        yy, zz = v[..., 1] - self.hinge[0], v[..., 2] - self.hinge[1]
        y = v[..., 1] + self.jaw_weight * (yy * c - zz * s)
        z = v[..., 2] + self.jaw_weight * (yy * s + zz * c)
        v = torch.stack([v[..., 0], y, z], -1) + weights[..., INDEX["mouthClose"], None, None] * self.close
        d = v[..., :3, :] - v[..., 3:, :]
        return (d.square().sum(-1) + 1e-6).sqrt().mean(-1)      # eps: a finite gradient at sealed lips
