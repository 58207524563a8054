"""Model and training configurations as plain data (saved as JSON next to every checkpoint).

Sizes follow the seed paper (section 5.2) scaled down to a 2-core CPU: `base` is the paper's
shape at half width, `small` is what trains in under an hour here, `tiny` is for tests.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import TalkstyleError
from ..face.arkit import NUM_BLENDSHAPES
from ..face.motion import DEFAULT_FPS
from ..plain import from_plain, to_plain

MOTION_DIM = NUM_BLENDSHAPES + 3        # 52 ARKit weights + head pitch, yaw, roll
SAMPLERS = ("ddim", "dpm", "ddpm")      # diffusers schedulers for sampling (see diffusion.py)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    audio_encoder: str = "whisper"      # name for talkstyle.audio.features.get_audio_encoder
    audio_dim: int = 384
    text_dim: int = 384                 # frozen sentence encoder output
    motion_dim: int = MOTION_DIM
    fps: float = DEFAULT_FPS            # motion frames per second, in and out (audio features follow it)
    window: int = 100                   # N: frames generated per window
    context: int = 10                   # Np: frames of the previous window given as context
    # denoiser
    d_model: int = 128
    layers: int = 4
    heads: int = 4
    ff_mult: int = 4
    audio_band: int = 5                 # each frame cross-attends to audio frames within +-band
    dropout: float = 0.0                # attention dropout dominated CPU step time; data is plentiful
    # style
    style_dim: int = 64                 # VAE latent / text projection size
    style_tokens: int = 4               # tokens prepended to the denoiser sequence
    style_layers: int = 2
    style_d_model: int = 128
    codebook_size: int = 256            # VQ motion tokenizer
    code_dim: int = 64
    basis: int = 4                      # K static poses of the style basis (0: no style basis, ablation)
    style_conditioned: bool = True      # False: unconditioned baseline (style is always the learned null)
    regression: bool = False            # True: deterministic regression baseline (one pass, no diffusion)
    basis_hidden: int = 128
    # diffusion
    train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        return from_plain(cls, d, "model config")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 8                 # pairs of windows (2N frames each)
    lr: float = 4e-4
    steps: int = 4000
    warmup: int = 200
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    cond_drop: float = 0.1              # audio / style replaced by learned nulls (for CFG)
    # loss weights (paper: vel 0.5, smooth 5e-6, KL 1e-6); lips, VQ, contrastive are ours
    w_vel: float = 0.5
    w_smooth: float = 5e-6
    w_lips: float = 0.1                 # lip-gap term (ours): lips sealed on p, b, m
    lip_sealed_boost: float = 4.0       # its extra weight on frames where the ground truth seals the lips
    w_kl: float = 1e-6
    w_vq: float = 1.0
    w_contrast: float = 0.1
    contrast_tau: float = 0.1
    p_cross: float = 0.5                # share of cross-window style conditioning (0: self-window only)
    freeze_style_encoder: bool = False  # DiffPoseTalk-style baseline: pre-trained encoder kept fixed
    val_every: int = 250
    save_every: int = 250
    threads: int = 2

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        return from_plain(cls, d, "training config")


CONFIGS: dict[str, tuple[ModelConfig, TrainConfig]] = {
    "tiny": (ModelConfig(d_model=32, layers=1, heads=2, ff_mult=2, style_dim=16, style_tokens=2,
                         style_layers=1, style_d_model=32, codebook_size=16, code_dim=16,
                         basis_hidden=32, window=20, context=4),
             TrainConfig(batch_size=4, steps=4, warmup=1, val_every=2, save_every=2, threads=1)),
    "small": (ModelConfig(), TrainConfig(steps=8000)),
    "base": (ModelConfig(d_model=256, layers=8, heads=8, style_dim=128, style_layers=4, style_d_model=256,
                         codebook_size=512, code_dim=128, basis_hidden=256),
             TrainConfig(batch_size=16, lr=1e-4, steps=100_000)),
}


def get_config(name: str) -> tuple[ModelConfig, TrainConfig]:
    if name not in CONFIGS:
        raise TalkstyleError(f"unknown config '{name}': choose one of {', '.join(CONFIGS)}")
    return CONFIGS[name]
