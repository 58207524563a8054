"""The style basis (seed paper section 4.3): K static poses decoded from the style vector.

The denoiser predicts a primary motion and per-frame weights alpha; the window's motion is
primary + sum_k alpha_k * b_k, so persistent expressions (a smile, lowered brows) live in the
basis while the primary motion carries the fast lip sync.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig


class StyleBasis(nn.Module):
    """K sets of 3 fully connected layers: style (B, S) -> basis poses (B, K, D)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        h = cfg.basis_hidden
        self.motion_dim = cfg.motion_dim
        self.decoders = nn.ModuleList(
            nn.Sequential(nn.Linear(cfg.style_dim, h), nn.GELU(), nn.Linear(h, h), nn.GELU(),
                          nn.Linear(h, cfg.motion_dim))
            for _ in range(cfg.basis))

    def forward(self, style: torch.Tensor) -> torch.Tensor:
        if not self.decoders:           # K = 0: the no-style-basis ablation
            return style.new_zeros(style.shape[0], 0, self.motion_dim)
        return torch.stack([dec(style) for dec in self.decoders], dim=1)


def combine(primary: torch.Tensor, alpha: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """primary (B, N, D) + alpha (B, N, K) @ basis (B, K, D)."""
    return primary + alpha @ basis


def smooth_weights(alpha: torch.Tensor, sigma: float) -> torch.Tensor:
    """alpha (B, N, K) low-passed along N by a Gaussian of `sigma` frames, the edges held (a
    window's first and last weights are not pulled towards zero)."""
    n = alpha.shape[1]
    radius = min(math.ceil(3 * sigma), n - 1)
    if sigma <= 0 or radius < 1:
        return alpha
    taps = torch.arange(-radius, radius + 1, dtype=alpha.dtype, device=alpha.device)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = (kernel / kernel.sum()).expand(alpha.shape[2], 1, -1)
    x = F.pad(alpha.transpose(1, 2), (radius, radius), mode="replicate")
    return F.conv1d(x, kernel, groups=alpha.shape[2]).transpose(1, 2)
