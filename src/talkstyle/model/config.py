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
SAMPLERS = ("ddim", "dpm", "ddpm")      # samplers (schedulers.py, chosen in diffusion.py)


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
    # Gaussian sigma in seconds of the basis weights alpha over time. 0: free per frame, as in the
    # seed paper; > 0 keeps the basis for slow expression and leaves lip motion to the primary.
    basis_smoothing: float = 0.0
    # diffusion
    train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        """A config from JSON, every value checked for type and size before anything is built
        from it (a damaged or hostile config.json must not allocate terabytes)."""
        if not isinstance(d, dict):
            raise TalkstyleError(f"model config must be a JSON object, got {type(d).__name__}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        for key, value in d.items():
            if key not in known:
                continue                    # from_plain names unknown keys
            kind = type(known[key].default)
            ok = (isinstance(value, bool) if kind is bool else
                  isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float else
                  isinstance(value, kind) and not isinstance(value, bool))
            if not ok:
                raise TalkstyleError(f"model config '{key}' must be {kind.__name__}, got {value!r}"[:200])
        cfg = from_plain(cls, d, "model config")
        cfg.check()
        return cfg

    def check(self) -> None:
        """Sizes within bounds, consistent shapes, known names; raise TalkstyleError otherwise."""
        import math

        from ..audio.features import ENCODERS

        for key, (lo, hi) in MODEL_BOUNDS.items():
            value = getattr(self, key)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi):
                raise TalkstyleError(f"model config '{key}' = {value} is outside [{lo}, {hi}]")
        if self.motion_dim != MOTION_DIM:
            raise TalkstyleError(f"model config 'motion_dim' must be {MOTION_DIM}, got {self.motion_dim}")
        if self.context >= self.window:
            raise TalkstyleError(f"model config 'context' ({self.context}) must be less than 'window' ({self.window})")
        if self.d_model % self.heads:
            raise TalkstyleError(f"model config 'd_model' ({self.d_model}) must be a multiple of 'heads' ({self.heads})")
        if self.style_d_model % max(1, self.style_d_model // 32):
            raise TalkstyleError(f"model config 'style_d_model' ({self.style_d_model}) must be a multiple of "
                                 f"{max(1, self.style_d_model // 32)}")
        if self.audio_encoder not in ENCODERS:
            raise TalkstyleError(f"model config 'audio_encoder' must be one of {', '.join(ENCODERS)}, "
                                 f"got {self.audio_encoder!r}"[:200])
        if self.beta_schedule not in BETA_SCHEDULES:
            raise TalkstyleError(f"model config 'beta_schedule' must be one of {', '.join(BETA_SCHEDULES)}")
        if self.approx_parameters() > MAX_PARAMETERS:
            raise TalkstyleError(f"model config describes about {self.approx_parameters() / 1e6:.0f} M parameters "
                                 f"(at most {MAX_PARAMETERS / 1e6:.0f} M): a damaged config?")

    def approx_parameters(self) -> int:
        """An estimate of the parameter count (within ~10%), from the shapes alone."""
        d, s = self.d_model, self.style_d_model
        ff = self.ff_mult
        return int(self.layers * (8 + 2 * ff) * d * d + self.style_layers * 8 * s * s
                   + (self.audio_dim + self.text_dim + self.motion_dim + self.window + self.context) * (d + s)
                   + self.codebook_size * self.code_dim + self.basis * (self.basis_hidden + self.motion_dim) * d
                   + self.basis_hidden * (d + s + self.style_dim) + self.style_tokens * self.style_dim * d)


MAX_PARAMETERS = 500_000_000         # 2 GB of float32: far beyond every config here (base: ~10 M)
BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")
MODEL_BOUNDS: dict[str, tuple[float, float]] = {
    "audio_dim": (1, 8192), "text_dim": (1, 8192), "fps": (1.0, 1000.0), "window": (2, 10_000), "context": (0, 10_000),
    "d_model": (1, 8192), "layers": (1, 128), "heads": (1, 256), "ff_mult": (1, 64), "audio_band": (0, 10_000),
    "dropout": (0.0, 0.99), "style_dim": (1, 8192), "style_tokens": (1, 1024), "style_layers": (1, 128),
    "style_d_model": (1, 8192), "codebook_size": (1, 1 << 20), "code_dim": (1, 8192), "basis": (0, 1024),
    "basis_hidden": (1, 8192), "basis_smoothing": (0.0, 60.0), "train_timesteps": (1, 100_000),
}


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
    contact_steps: int = 2000           # the lip-contact classifier, trained after the generator (model/contact.py)

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        return from_plain(cls, d, "training config")


CONFIGS: dict[str, tuple[ModelConfig, TrainConfig]] = {
    "tiny": (ModelConfig(d_model=32, layers=1, heads=2, ff_mult=2, style_dim=16, style_tokens=2,
                         style_layers=1, style_d_model=32, codebook_size=16, code_dim=16,
                         basis_hidden=32, window=20, context=4),
             TrainConfig(batch_size=4, steps=4, warmup=1, val_every=2, save_every=2, threads=1, contact_steps=4)),
    "small": (ModelConfig(), TrainConfig(steps=8000)),
    "base": (ModelConfig(d_model=256, layers=8, heads=8, style_dim=128, style_layers=4, style_d_model=256,
                         codebook_size=512, code_dim=128, basis_hidden=256),
             TrainConfig(batch_size=16, lr=1e-4, steps=100_000)),
}


def get_config(name: str) -> tuple[ModelConfig, TrainConfig]:
    if name not in CONFIGS:
        raise TalkstyleError(f"unknown config '{name}': choose one of {', '.join(CONFIGS)}")
    return CONFIGS[name]
