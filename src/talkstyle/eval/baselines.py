"""Baselines and ablations as configuration variants of the one style generator.

Every variant trains with the same code, data, step budget and seed as talkstyle itself; only
the switches in `ModelConfig` / `TrainConfig` differ (seed paper sections 5.3 and 6.1):

    talkstyle      the full model (style basis, mixed cross/self-window conditioning)
    unconditioned  style always the learned null: audio only
    diffposetalk   style encoder pre-trained with a contrastive loss, then frozen; no style basis
    vae            jointly trained VAE style, no style basis, no cross-conditioning
    regression     no diffusion: one pass from audio + style to motion
    no_basis       ablation: K = 0
    no_cross       ablation: self-window style conditioning only
    smooth_basis   design change: basis weights low-passed over 0.5 s (expression, not lip motion)
    base           the larger size (small is talkstyle's)

Text-only vs reference-only vs both is not a training variant: the protocol (eval/run.py)
conditions every model each of the three ways.
"""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..errors import TalkstyleError
from ..model.config import ModelConfig, TrainConfig, get_config
from ..model.generator import StyleGenerator
from ..data.pack import Pack
from ..model.style import DOWNSAMPLE


@dataclasses.dataclass(frozen=True)
class Variant:
    description: str
    config: str = "small"
    model: dict[str, Any] = dataclasses.field(default_factory=dict)
    train: dict[str, Any] = dataclasses.field(default_factory=dict)
    pretrain_style: bool = False        # contrastive pre-training of the style encoder first


VARIANTS: dict[str, Variant] = {
    "talkstyle": Variant("full model: style basis, cross- and self-window conditioning"),
    "unconditioned": Variant("baseline: no style (audio only)", model={"style_conditioned": False}),
    "diffposetalk": Variant("baseline: contrastively pre-trained, frozen style encoder; no style basis",
                            model={"basis": 0}, train={"freeze_style_encoder": True}, pretrain_style=True),
    "vae": Variant("baseline: jointly trained VAE style, no style basis, no cross-conditioning",
                   model={"basis": 0}, train={"p_cross": 0.0}),
    "regression": Variant("baseline: deterministic regression (no diffusion)", model={"regression": True}),
    "no_basis": Variant("ablation: no style basis", model={"basis": 0}),
    "no_cross": Variant("ablation: no cross-window conditioning", train={"p_cross": 0.0}),
    "smooth_basis": Variant("design change: style-basis weights smoothed over time (sigma 0.5 s)",
                            model={"basis_smoothing": 0.5}),
    "base": Variant("ablation: base size instead of small", config="base"),
}


def variant_configs(name: str, size: str | None = None, **train_overrides: Any) -> tuple[ModelConfig, TrainConfig]:
    """The (model, train) configs of a variant; `size` replaces its config name (tests use tiny)."""
    if name not in VARIANTS:
        raise TalkstyleError(f"unknown variant '{name}': choose one of {', '.join(VARIANTS)}")
    v = VARIANTS[name]
    mc, tc = get_config(size if size is not None and name != "base" else v.config)
    overrides = {k: val for k, val in train_overrides.items() if val is not None}
    return dataclasses.replace(mc, **v.model), dataclasses.replace(tc, **v.train, **overrides)


# ------------------------------------------------------------------ DiffPoseTalk-style pre-training
def _crop_pairs(pack: Pack, batch: int, length: int, rng: np.random.Generator,
                model: StyleGenerator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two non-overlapping crops of the same clip (one from each half) for each of `batch` clips."""
    clips = rng.choice(len(pack), batch, replace=len(pack) < batch)
    x = np.zeros((2, batch, length, pack.motion.shape[1]), np.float32)
    mask = np.zeros((2, batch, length), bool)
    for i, c in enumerate(clips):
        half = int(pack.lengths[c]) // 2
        for j, lo in enumerate((0, half)):
            n = min(length, half)
            a = pack.starts[c] + lo + rng.integers(0, half - n + 1)
            x[j, i, :n], mask[j, i, :n] = pack.motion[a:a + n], True
    xt, mt = model.normalise(torch.from_numpy(x)) * torch.from_numpy(mask)[..., None], torch.from_numpy(mask)
    return xt[0], mt[0], xt[1], mt[1]


def pretrain_style_encoder(model: StyleGenerator, pack: Pack, steps: int, batch: int = 32, lr: float = 3e-4,
                           tau: float = 0.1, seed: int = 0) -> list[float]:
    """Train `model.motion_style` alone: crops of one clip are positives, other clips negatives
    (symmetric InfoNCE on the style means, plus the VQ tokenizer's own loss). Returns the losses."""
    rng = np.random.default_rng(seed)
    enc = model.motion_style.train()
    opt = torch.optim.AdamW(enc.parameters(), lr=lr)
    length = max(DOWNSAMPLE, model.cfg.window // 2 // DOWNSAMPLE * DOWNSAMPLE)
    losses = []
    for _ in tqdm(range(steps), desc="style pre-training", unit="step", leave=False):
        xa, ma, xb, mb = _crop_pairs(pack, batch, length, rng, model)
        out = enc(torch.cat([xa, xb]), torch.cat([ma, mb]))
        za, zb = F.normalize(out.mu, dim=-1).chunk(2)
        logits = za @ zb.T / tau
        target = torch.arange(len(za))
        loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) + out.vq.loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _warm_start(out: Path, train_pack: Pack, mc: ModelConfig, tc: TrainConfig, seed: int, steps: int,
                extra: dict[str, Any]) -> None:
    """Write a step-0 run state holding the pre-trained encoder, which `fit` then resumes from."""
    from ..train import save_state

    torch.manual_seed(seed)
    model = StyleGenerator(mc)
    model.set_normalisation(train_pack.motion)
    losses = pretrain_style_encoder(model, train_pack, steps, seed=seed)
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr)
    save_state(out, model, copy.deepcopy(model), opt, 0, np.random.default_rng(seed), mc, tc,
               {**extra, "style_pretrain_loss": [round(losses[0], 4), round(losses[-1], 4)]})


# ------------------------------------------------------------------ training a variant
def train_variant(name: str, data: str | Path, out: str | Path, steps: int, *, size: str | None = None,
                  batch_size: int | None = None, seed: int = 0, augmented: int = 1, threads: int | None = None,
                  audio_encoder: str | None = None, pretrain_steps: int | None = None,
                  data_seed: int | None = None) -> Path:
    """Train one variant for `steps` steps (resumable, like `talkstyle train`). Returns its folder.

    `data_seed` (default `seed`) draws the training data's speed copies and augmented audio: runs
    that differ only in `seed` (initialisation, batches, noise) train on the same packed data.
    """
    from ..audio.features import get_audio_encoder
    from ..distributed import rank_zero_first, session
    from ..train import fit, load_packs

    data, out = Path(data), Path(out)
    if not data.is_dir():
        raise TalkstyleError(f"dataset folder not found: {data}")
    from ..validate import integer, seed as check_seed, train_options

    train_options(out, steps=steps, batch_size=batch_size, threads=threads, augmented=augmented, seed=seed)
    data_seed = seed if data_seed is None else data_seed
    check_seed(data_seed, "--data-seed")
    if pretrain_steps is not None:
        integer("--pretrain-steps", pretrain_steps, 1, 10_000_000)
    mc, tc = variant_configs(name, size, steps=steps, batch_size=batch_size, threads=threads)
    encoder = audio_encoder or mc.audio_encoder
    mc = dataclasses.replace(mc, audio_encoder=encoder, audio_dim=get_audio_encoder(encoder).dim)
    torch.set_num_threads(tc.threads)
    extra = {"variant": name, "config_name": VARIANTS[name].config if name == "base" else (size or "small"),
             "data": str(data), **({"data_seed": data_seed} if data_seed != seed else {})}
    with session() as shard:            # under torchrun: process 0 writes the cache and the warm start
        with rank_zero_first(shard):
            train_pack, val_pack = load_packs(data, mc, augmented, data_seed)
            if VARIANTS[name].pretrain_style:
                # The encoder's pre-training comes on top of the shared step budget (stated in the report).
                extra["style_pretrain_steps"] = pretrain_steps or max(1, steps // 2)
                if shard.rank == 0 and not (out / "train_state.safetensors").is_file():
                    out.mkdir(parents=True, exist_ok=True)
                    _warm_start(out, train_pack, mc, tc, seed, extra["style_pretrain_steps"], extra)
        return fit(train_pack, val_pack, out, mc, tc, seed, resume=True, extra=extra, shard=shard)
