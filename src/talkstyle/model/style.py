"""Style encoders: text -> style, reference motion -> VQ codes -> VAE style, and their alignment.

Both encoders map into one `style_dim` space so that a prompt, a reference clip, or both can
condition the denoiser. The reference path follows the seed papers: a motion tokenizer with
vector-quantised codes ("VQ-encoded codes") feeds a transformer whose per-token features are
mean-pooled over time into the mean and variance of a VAE latent (arbitrary clip lengths).
"""
from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from ..vocab.attributes import DELIVERIES, EMOTION_FAMILIES, HEAD_MOTIONS, StyleAttributes
from .config import ModelConfig
from .shard import Shard

DOWNSAMPLE = 4                          # motion frames per VQ code


class TextStyle(nn.Module):
    """Frozen sentence embedding (computed outside) -> style space."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(cfg.text_dim), nn.Linear(cfg.text_dim, cfg.style_d_model),
                                 nn.GELU(), nn.Linear(cfg.style_d_model, cfg.style_dim))

    def forward(self, text_emb: torch.Tensor) -> torch.Tensor:
        return self.net(text_emb)


@dataclasses.dataclass
class VQOutput:
    codes: torch.Tensor                 # (B, T/4) int64 code indices
    quantized: torch.Tensor             # (B, T/4, code_dim), straight-through gradients
    recon: torch.Tensor                 # (B, T, D) motion decoded from the codes
    loss: torch.Tensor                  # reconstruction + codebook + commitment


class MotionTokenizer(nn.Module):
    """A 1D-conv VQ-VAE over motion: 4 frames per code on the unit sphere, trained with its
    reconstruction, codebook and commitment losses."""

    def __init__(self, cfg: ModelConfig, beta: float = 0.25):
        super().__init__()
        h, c = cfg.style_d_model, cfg.code_dim
        self.beta = beta
        self.encoder = nn.ModuleList([nn.Conv1d(cfg.motion_dim, h, 4, 2, 1), nn.Conv1d(h, h, 4, 2, 1),
                                      nn.Conv1d(h, c, 3, 1, 1)])
        self.decoder = nn.Sequential(nn.Conv1d(c, h, 3, 1, 1), nn.GELU(),
                                     nn.ConvTranspose1d(h, h, 4, 2, 1), nn.GELU(),
                                     nn.ConvTranspose1d(h, cfg.motion_dim, 4, 2, 1))
        self.codebook = nn.Embedding(cfg.codebook_size, c)

    def encode(self, motion: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, D) with T a multiple of 4 -> continuous latents (B, T/4, c) and code indices.

        Padding is zeroed before every conv, so codes of real frames never depend on it.
        """
        h = motion.transpose(1, 2)
        for conv, step in zip(self.encoder, (1, 2, 4)):        # frames per input step of each conv
            h = conv(h * mask[:, None, ::step].to(h.dtype))
            if step < 4:
                h = F.gelu(h)
        z = F.normalize(h.transpose(1, 2), dim=-1)
        return z, (z @ self.codebook_vectors().T).argmax(-1)

    def codebook_vectors(self) -> torch.Tensor:
        # Codes and latents on the unit sphere (cosine VQ): bounded losses, fewer dead codes.
        return F.normalize(self.codebook.weight, dim=-1)

    def forward(self, motion: torch.Tensor, mask: torch.Tensor, shard: Shard = Shard()) -> VQOutput:
        """Losses are means over `shard`'s whole batch (the plain batch means in one process)."""
        z, codes = self.encode(motion, mask)
        q = self.codebook_vectors()[codes]
        code_mask = mask[:, ::DOWNSAMPLE].unsqueeze(-1).float()
        vq_loss = shard.mean((((q - z.detach()) ** 2 + self.beta * (z - q.detach()) ** 2) * code_mask).sum(),
                             code_mask.sum(), z.shape[-1])
        q = z + (q - z).detach()                              # straight-through estimator
        recon = self.decoder(q.transpose(1, 2)).transpose(1, 2)
        m = mask.unsqueeze(-1).float()
        recon_loss = shard.mean((((recon - motion) ** 2) * m).sum(), m.sum(), motion.shape[-1])
        return VQOutput(codes, q, recon, recon_loss + vq_loss)


@dataclasses.dataclass
class StyleOutput:
    sample: torch.Tensor                # (B, style_dim) reparameterised sample (mu at eval)
    mu: torch.Tensor
    logvar: torch.Tensor
    vq: VQOutput

    def kl(self, shard: Shard = Shard()) -> torch.Tensor:
        """KL divergence from the unit Gaussian, mean over `shard`'s whole batch."""
        terms = 0.5 * (self.mu ** 2 + self.logvar.exp() - self.logvar - 1)
        return shard.mean(terms.sum(), torch.tensor(float(len(terms)), device=terms.device))


class MotionStyleEncoder(nn.Module):
    """Reference motion -> VQ codes -> transformer -> mean-pool -> (mu, logvar) of the style."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.style_d_model
        self.tokenizer = MotionTokenizer(cfg)
        self.code_in = nn.Linear(cfg.code_dim, d)
        layer = nn.TransformerEncoderLayer(d, max(1, d // 32), 2 * d, dropout=cfg.dropout,
                                           batch_first=True, norm_first=True)
        # No positional encoding on purpose: style is time-invariant, and the conv codes already
        # carry local temporal context.
        self.transformer = nn.TransformerEncoder(layer, cfg.style_layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, 2 * cfg.style_dim))

    def forward(self, motion: torch.Tensor, mask: torch.Tensor, eps: torch.Tensor | None = None,
                shard: Shard = Shard()) -> StyleOutput:
        """motion (B, T, D) normalised, mask (B, T) bool of valid frames; T a multiple of 4.
        `eps` (B, style_dim): the reparameterisation noise in training (default: drawn here)."""
        vq = self.tokenizer(motion, mask, shard)
        code_mask = mask[:, ::DOWNSAMPLE]
        # A window with no real frame (past a clip's end) still attends to one token: a fully
        # masked row is NaN in PyTorch's inference fast path. Its pooling weight stays 0.
        keys = code_mask.clone()
        keys[:, 0] |= ~code_mask.any(1)
        h = self.transformer(self.code_in(vq.quantized), src_key_padding_mask=~keys)
        w = code_mask.unsqueeze(-1).float()
        pooled = (h * w).sum(1) / w.sum(1).clamp(min=1)
        mu, logvar = self.head(pooled).chunk(2, dim=-1)
        logvar = logvar.clamp(-10, 4)
        if not self.training:
            return StyleOutput(mu, mu, logvar, vq)
        eps = torch.randn_like(mu) if eps is None else eps
        return StyleOutput(mu + eps * (0.5 * logvar).exp(), mu, logvar, vq)


# ------------------------------------------------------------------ contrastive alignment
ATTRIBUTE_COLUMNS = ("family", "level", "head_motion", "delivery")


def encode_attributes(attrs: StyleAttributes) -> list[float]:
    """The attributes the soft contrastive targets compare, as numbers (unknown words -> -1)."""
    def index(value: str, choices: tuple[str, ...]) -> float:
        return float(choices.index(value)) if value in choices else -1.0

    return [index(attrs.family, EMOTION_FAMILIES), float(attrs.level),
            index(attrs.head_motion, HEAD_MOTIONS), index(attrs.delivery, DELIVERIES)]


def attribute_similarity(attrs: torch.Tensor) -> torch.Tensor:
    """(B, 4) encoded attributes -> (B, B) similarity in [0, 1]: two angry clips are not negatives.

    Emotion dominates (same family, weighted by how close the intensities are), then delivery
    and head motion. The diagonal is 1.
    """
    same = lambda col: (attrs[:, None, col] == attrs[None, :, col]).float()  # noqa: E731
    level_close = 1 - (attrs[:, None, 1] - attrs[None, :, 1]).abs().clamp(max=1)
    sim = 0.6 * same(0) * level_close + 0.25 * same(3) + 0.15 * same(2)
    return sim.fill_diagonal_(1.0)


def soft_contrastive_loss(motion_style: torch.Tensor, text_style: torch.Tensor, attrs: torch.Tensor,
                          tau: float = 0.1, sharpness: float = 10.0) -> torch.Tensor:
    """Symmetric InfoNCE between motion and text styles with soft targets from attributes."""
    logits = F.normalize(motion_style, dim=-1) @ F.normalize(text_style, dim=-1).T / tau
    target = torch.softmax(sharpness * attribute_similarity(attrs), dim=-1)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))  # sim is symmetric
