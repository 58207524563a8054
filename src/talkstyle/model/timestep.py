"""The diffusion timestep as the denoiser's input: DDPM's sinusoidal features and a small MLP.

The same computation and parameter names as diffusers' Timesteps(d, flip_sin_to_cos=True,
downscale_freq_shift=0) and TimestepEmbedding(d, d), which the shipped checkpoint was trained with
(time_embed.linear_1 / linear_2); written here so that inference does not import diffusers.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Timesteps (B,) -> (B, dim) features [cos(t f_k), sin(t f_k)], f_k = max_period^(-k / (dim // 2))."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    angles = t[:, None].float() * freqs[None, :]
    emb = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
    return nn.functional.pad(emb, (0, dim % 2))        # an odd width gets a zero column


class TimestepEmbedding(nn.Module):
    """Sinusoidal features (B, dim) -> (B, dim) through Linear, SiLU, Linear."""

    def __init__(self, dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(dim, dim)
        self.act = nn.SiLU()
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(features)))
