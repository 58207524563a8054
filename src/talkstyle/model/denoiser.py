"""The windowed denoiser (seed paper sections 4.1-4.3, 5.2).

One window: [style tokens | Np context frames of the previous window | N noisy frames]. A
transformer decoder runs self-attention over that sequence and cross-attends to the audio
features of the context + window frames. Each motion frame sees only audio within +-band frames
(lip sync is local in time, and the band makes it learn fast); style tokens see all audio.
It predicts x0 as primary motion + per-frame weights alpha on the K style-basis poses.
"""
from __future__ import annotations

import torch
from torch import nn

from .basis import combine, smooth_weights
from .config import ModelConfig
from .timestep import TimestepEmbedding, sinusoidal


class Denoiser(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d, n = cfg.d_model, cfg.context + cfg.window
        self.cfg = cfg
        self.motion_in = nn.Linear(cfg.motion_dim, d)
        self.audio_in = nn.Sequential(nn.LayerNorm(cfg.audio_dim), nn.Linear(cfg.audio_dim, d))
        self.style_in = nn.Linear(cfg.style_dim, cfg.style_tokens * d)
        self.time_embed = TimestepEmbedding(d)
        self.frame_pos = nn.Parameter(torch.randn(1, n, d) * 0.02)
        self.style_pos = nn.Parameter(torch.randn(1, cfg.style_tokens, d) * 0.02)
        self.role = nn.Embedding(2, d)                      # 0: clean context frame, 1: noisy frame
        # Learned stand-ins: dropped audio (CFG null) and the "previous window" of the first window.
        self.null_audio = nn.Parameter(torch.zeros(cfg.audio_dim))
        self.start_motion = nn.Parameter(torch.zeros(cfg.context, cfg.motion_dim))
        self.start_audio = nn.Parameter(torch.zeros(cfg.context, cfg.audio_dim))
        layer = nn.TransformerDecoderLayer(d, cfg.heads, cfg.ff_mult * d, dropout=cfg.dropout,
                                           batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, cfg.layers, norm=nn.LayerNorm(d))
        self.out = nn.Linear(d, cfg.motion_dim + cfg.basis)
        self.register_buffer("memory_mask", self._band_mask(cfg), persistent=False)

    @staticmethod
    def _band_mask(cfg: ModelConfig) -> torch.Tensor:
        """(S + Np + N, Np + N) bool, True where attention is NOT allowed."""
        n = cfg.context + cfg.window
        frames = torch.arange(n)
        far = (frames[:, None] - frames[None, :]).abs() > cfg.audio_band
        return torch.cat([torch.zeros(cfg.style_tokens, n, dtype=torch.bool), far], 0)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, prev_motion: torch.Tensor, audio: torch.Tensor,
                style: torch.Tensor, basis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x_t (B, N, D) noisy window, t (B,), prev_motion (B, Np, D), audio (B, Np+N, A),
        style (B, S), basis (B, K, D) -> x0 estimate (B, N, D) and alpha (B, N, K)."""
        cfg, b = self.cfg, x_t.shape[0]
        temb = self.time_embed(sinusoidal(t, cfg.d_model).to(x_t.dtype)).unsqueeze(1)
        frames = self.motion_in(torch.cat([prev_motion, x_t], 1)) + self.frame_pos
        roles = torch.cat([torch.zeros(cfg.context, dtype=torch.long), torch.ones(cfg.window, dtype=torch.long)])
        frames = frames + self.role(roles.to(x_t.device))
        style_tok = self.style_in(style).view(b, cfg.style_tokens, -1) + self.style_pos
        h = torch.cat([style_tok, frames], 1) + temb
        memory = self.audio_in(audio) + self.frame_pos
        h = self.decoder(h, memory, memory_mask=self.memory_mask)
        out = self.out(h[:, -cfg.window:])
        primary, alpha = out.split([cfg.motion_dim, cfg.basis], dim=-1)
        alpha = smooth_weights(alpha, cfg.basis_smoothing * cfg.fps)
        return combine(primary, alpha, basis), alpha
