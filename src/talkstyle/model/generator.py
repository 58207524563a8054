"""The style generator: audio features + style -> motion, window after window.

Holds every trained part (text projection, VQ + VAE motion style encoder, style basis,
denoiser, learned nulls and the motion normalisation) and the two things done with them:
`losses()` for one training batch of window pairs (seed paper section 4.4) and `generate()` for
audio of any length with bounded memory (one window of N frames at a time, the last Np frames of
the previous window as context).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Iterable

import numpy as np
import torch
from torch import nn

from ..face.arkit import NUM_BLENDSHAPES
from ..face.motion import DEFAULT_FPS, MAX_HEAD_RAD, FaceMotion
from .basis import StyleBasis
from .config import ModelConfig, TrainConfig
from .denoiser import Denoiser
from .diffusion import guided, sample, sampling_scheduler, training_scheduler
from .shard import Shard
from .style import DOWNSAMPLE, MotionStyleEncoder, TextStyle, soft_contrastive_loss

# Normalisation floors: a channel that barely moves in the data must not blow up when it does.
MIN_STD_WEIGHT, MIN_STD_HEAD = 0.05, 0.02
SEALED_MM = 1.0         # inner-lip gap below which the ground truth has the lips sealed (p, b, m, rest)
LIP_SCALE_MM = 2.0      # lip-gap errors in these units, about the size of the normalised channels' errors


def motion_to_array(motion: FaceMotion) -> np.ndarray:
    """FaceMotion -> (T, 55): 52 weights then head pitch, yaw, roll."""
    return np.concatenate([motion.weights, motion.head], 1).astype(np.float32)


def array_to_motion(x: np.ndarray, fps: float = DEFAULT_FPS) -> FaceMotion:
    """(T, 55) -> FaceMotion, weights clipped to [0, 1] and head to a plausible range."""
    limit = 0.99 * MAX_HEAD_RAD
    return FaceMotion(np.clip(x[:, :52], 0, 1), np.clip(x[:, 52:], -limit, limit), fps)


@dataclasses.dataclass
class Batch:
    """Training pairs of consecutive windows (2N frames), normalised motion."""
    motion: torch.Tensor                # (B, 2N, D)
    audio: torch.Tensor                 # (B, 2N, A)
    mask: torch.Tensor                  # (B, 2N) bool: real frames (clips are zero-padded)
    text: torch.Tensor                  # (B, text_dim) frozen sentence embeddings of the prompts
    attrs: torch.Tensor                 # (B, 4) encoded style attributes (soft contrastive targets)

    def to(self, device: torch.device) -> "Batch":
        return Batch(*(getattr(self, f.name).to(device) for f in dataclasses.fields(self)))


def _pairs(x: torch.Tensor, rows: slice) -> torch.Tensor:
    """Rows of per-window values (2B, ...) laid out [windows a; windows b] for the pairs `rows`."""
    half = len(x) // 2
    return torch.cat([x[:half][rows], x[half:][rows]])


@dataclasses.dataclass
class Draws:
    """Every random number of one training step, for a whole batch of B window pairs.

    Drawn once for the global batch (in the order `losses` drew them itself before), so that a
    process computing part of the batch uses exactly the numbers one process would use for it.
    """
    cross: torch.Tensor                 # (B,) uniform: cross-window conditioning below p_cross
    style_eps: torch.Tensor | None      # (2B, style_dim) VAE noise; None where the encoder gives its mean
    mode: torch.Tensor                  # (2B, 1) 0 reference, 1 text, 2 both
    drop_style: torch.Tensor            # (2B, 1) uniform: style dropped to the null below cond_drop
    drop_audio: torch.Tensor            # (2B, 1, 1) uniform: audio dropped below cond_drop
    t: torch.Tensor | None              # (2B,) diffusion timesteps; None for the regression baseline
    noise: torch.Tensor | None          # (2B, N, D)

    def pairs(self, rows: slice) -> "Draws":
        """The draws of the pairs `rows`."""
        return Draws(self.cross[rows], *(None if x is None else _pairs(x, rows) for x in
                                         (self.style_eps, self.mode, self.drop_style, self.drop_audio,
                                          self.t, self.noise)))

    def to(self, device: torch.device) -> "Draws":
        return Draws(*(None if x is None else x.to(device) for x in dataclasses.astuple(self)))


@functools.cache
def _lip_gap() -> nn.Module:
    from .lips import LipGap           # builds the FaceRig: only training needs it

    return LipGap()


class StyleGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.text_style = TextStyle(cfg)
        self.motion_style = MotionStyleEncoder(cfg)
        self.basis = StyleBasis(cfg)
        self.denoiser = Denoiser(cfg)
        self.null_style = nn.Parameter(torch.zeros(cfg.style_dim))
        self.register_buffer("motion_mean", torch.zeros(cfg.motion_dim))
        self.register_buffer("motion_std", torch.ones(cfg.motion_dim))
        self.scheduler = training_scheduler(cfg)

    # ------------------------------------------------------------ normalisation
    def set_normalisation(self, frames: np.ndarray) -> None:
        """Per-channel mean / std from training frames (T, D), with floors."""
        mean, std = frames.mean(0), frames.std(0)
        std[:52] = np.maximum(std[:52], MIN_STD_WEIGHT)
        std[52:] = np.maximum(std[52:], MIN_STD_HEAD)
        self.motion_mean.copy_(torch.from_numpy(mean))
        self.motion_std.copy_(torch.from_numpy(std))

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        # On x's device: training batches are built on the CPU for a model that may be on a GPU.
        return (x - self.motion_mean.to(x.device)) / self.motion_std.to(x.device)

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.motion_std + self.motion_mean

    # ------------------------------------------------------------ style
    def encode_reference(self, motion: np.ndarray) -> torch.Tensor:
        """Reference motion (T, D) of any length -> style mean (style_dim,).

        Encoded in chunks of 2N frames (bounded memory) averaged by length: the VAE pools over
        time anyway, so this is the same quantity for clips of any length.
        """
        chunk = 2 * self.cfg.window
        x = self.normalise(torch.from_numpy(motion).float())
        pieces = list(torch.split(x, chunk))
        length = math.ceil(max(len(p) for p in pieces) / DOWNSAMPLE) * DOWNSAMPLE
        batch = torch.zeros(len(pieces), length, x.shape[1])
        mask = torch.zeros(len(pieces), length, dtype=torch.bool)
        for i, p in enumerate(pieces):
            batch[i, :len(p)], mask[i, :len(p)] = p, True
        mu = self.motion_style(batch, mask).mu
        w = mask.sum(1, keepdim=True).float()
        return (mu * w).sum(0) / w.sum()

    def style_vector(self, text: torch.Tensor | None = None, reference: np.ndarray | None = None) -> torch.Tensor:
        """The style that conditions generation: text, reference, their mean, or the learned null."""
        parts = []
        if text is not None:
            parts.append(self.text_style(text.float().view(1, -1))[0])
        if reference is not None:
            parts.append(self.encode_reference(reference))
        return torch.stack(parts).mean(0) if parts and self.cfg.style_conditioned else self.null_style

    # ------------------------------------------------------------ training
    def draw(self, pairs: int, tcfg: TrainConfig) -> Draws:
        """The random numbers of one training step of `pairs` window pairs, from torch's global
        generator on the CPU (the same on every device and in every process)."""
        cfg, w = self.cfg, 2 * pairs
        cross = torch.rand(pairs)
        vae = self.training and not tcfg.freeze_style_encoder
        style_eps = torch.randn(w, cfg.style_dim) if vae else None
        mode = torch.randint(0, 3, (w, 1))
        drop_style, drop_audio = torch.rand(w, 1), torch.rand(w, 1, 1)
        if cfg.regression:
            return Draws(cross, style_eps, mode, drop_style, drop_audio, None, None)
        t = torch.randint(0, cfg.train_timesteps, (w,))
        return Draws(cross, style_eps, mode, drop_style, drop_audio, t, torch.randn(w, cfg.window, cfg.motion_dim))

    def losses(self, batch: Batch, tcfg: TrainConfig, draws: Draws | None = None,
               shard: Shard = Shard()) -> dict[str, torch.Tensor]:
        """All loss terms for a batch of window pairs; "total" is the weighted sum (paper eq. 5).

        `draws`: the step's random numbers for exactly these pairs (default: drawn here). `shard`:
        when `batch` is one process's share of a global batch, every term is that process's part
        of the global batch's mean, scaled for DDP (model/shard.py).
        """
        cfg = self.cfg
        n, p, b = cfg.window, cfg.context, batch.motion.shape[0]
        dev = batch.motion.device
        draws = (self.draw(b, tcfg) if draws is None else draws).to(dev)
        # Window a starts from the learned start features, window b continues a (ground truth).
        x0 = torch.cat([batch.motion[:, :n], batch.motion[:, n:]])
        mask = torch.cat([batch.mask[:, :n], batch.mask[:, n:]])
        prev = torch.cat([self.denoiser.start_motion.expand(b, -1, -1), batch.motion[:, n - p:n]])
        start_audio = self.denoiser.start_audio.expand(b, -1, -1)
        audio = torch.cat([torch.cat([start_audio, batch.audio[:, :n]], 1), batch.audio[:, n - p:]])

        # Style reference: alternate cross-window (the other window) and self-window conditioning.
        cross = draws.cross < tcfg.p_cross
        b_usable = batch.mask[:, n:].sum(1) >= n // 4
        ref_a = torch.where((cross & b_usable)[:, None, None], batch.motion[:, n:], batch.motion[:, :n])
        mask_a = torch.where((cross & b_usable)[:, None], batch.mask[:, n:], batch.mask[:, :n])
        ref_b = torch.where(cross[:, None, None], batch.motion[:, :n], batch.motion[:, n:])
        mask_b = torch.where(cross[:, None], batch.mask[:, :n], batch.mask[:, n:])
        refs, ref_masks = torch.cat([ref_a, ref_b]), torch.cat([mask_a, mask_b])
        if tcfg.freeze_style_encoder:   # DiffPoseTalk-style baseline: pre-trained, fixed, deterministic
            with torch.no_grad():
                style_out = self.motion_style.eval()(refs, ref_masks, shard=shard)
            self.motion_style.train(self.training)
        else:
            style_out = self.motion_style(refs, ref_masks, draws.style_eps, shard)
        text_s = self.text_style(batch.text).repeat(2, 1)

        # Condition by reference, text or both; then drop style and audio to learned nulls.
        mode = draws.mode
        style = torch.where(mode == 0, style_out.sample, torch.where(mode == 1, text_s, 0.5 * (style_out.sample + text_s)))
        drop_style = tcfg.cond_drop if cfg.style_conditioned else 1.0     # unconditioned: always null
        style = torch.where(draws.drop_style < drop_style, self.null_style, style)
        audio = torch.where(draws.drop_audio < tcfg.cond_drop, self.denoiser.null_audio, audio)

        if cfg.regression:              # deterministic baseline: one pass from a fixed input
            t, x_t = torch.full((2 * b,), cfg.train_timesteps - 1, device=dev), torch.zeros_like(x0)
        else:
            t = draws.t
            x_t = self.scheduler.add_noise(x0, draws.noise, t)
        x0_hat, _ = self.denoiser(x_t, t, prev, audio, style, self.basis(style))

        m = mask.unsqueeze(-1).float()
        frames = m.sum()
        simple = shard.mean((((x0_hat - x0) ** 2) * m).sum(), frames, cfg.motion_dim)
        m_vel = m[:, 1:] * m[:, :-1]
        vel = shard.mean((((x0_hat.diff(dim=1) - x0.diff(dim=1)) ** 2) * m_vel).sum(), frames, cfg.motion_dim)
        m_acc = m_vel[:, 1:] * m_vel[:, :-1]
        smooth = shard.mean(((x0_hat.diff(n=2, dim=1) ** 2) * m_acc).sum(), frames, cfg.motion_dim)
        lips = self.lip_loss(x0_hat, x0, mask, tcfg.lip_sealed_boost, shard)
        kl = style_out.kl(shard)
        # Every pair against every other of the whole batch (the same in every process).
        has_ref = shard.gather_pairs(torch.cat([mask_a, mask_b]).any(1))  # windows past a clip's end have no style
        contrast = shard.whole_batch_loss(soft_contrastive_loss(
            shard.gather_pairs(style_out.mu)[has_ref], shard.gather_pairs(text_s)[has_ref],
            shard.gather_pairs(batch.attrs.repeat(2, 1))[has_ref], tcfg.contrast_tau))
        total = (simple + tcfg.w_vel * vel + tcfg.w_smooth * smooth + tcfg.w_lips * lips + tcfg.w_kl * kl
                 + tcfg.w_vq * style_out.vq.loss + tcfg.w_contrast * contrast)
        return {"total": total, "simple": simple, "vel": vel, "smooth": smooth, "lips": lips, "kl": kl,
                "vq": style_out.vq.loss, "contrast": contrast}

    def lip_loss(self, x0_hat: torch.Tensor, x0: torch.Tensor, mask: torch.Tensor, sealed_boost: float,
                 shard: Shard = Shard()) -> torch.Tensor:
        """Squared error of the rig's inner-lip gap (mm), weighted up where the ground truth seals
        the lips.

        Why: p, b and m need jawOpen and mouthClose equal to within a few hundredths and no pull,
        pucker or smile parting the lips; the per-channel loss spreads its error over all of them,
        so a sample close on each channel can still leave the lips apart. The gap is what a viewer
        sees, so it gets its own term.
        """
        lip_gap = _lip_gap().to(x0_hat.device)
        # Clamped as the output is: a negative weight must not seal lips that the rig shows apart.
        gap_hat = lip_gap(self.denormalise(x0_hat)[..., :NUM_BLENDSHAPES].clamp(0, 1))
        gap = lip_gap(self.denormalise(x0)[..., :NUM_BLENDSHAPES].clamp(0, 1))
        weight = mask.float() * (1 + sealed_boost * (gap < SEALED_MM).float())
        err = ((gap_hat - gap) / LIP_SCALE_MM) ** 2
        return shard.mean((err * weight).sum(), mask.sum())

    # ------------------------------------------------------------ inference
    @torch.no_grad()
    def generate(self, audio: np.ndarray, style: torch.Tensor, *, sampler: str = "dpm", steps: int = 4,
                 cfg_audio: float = 1.0, cfg_style: float = 1.0, seed: int = 0,
                 progress: Iterable | None = None, frame_weights: np.ndarray | None = None,
                 neutral: torch.Tensor | None = None, boost: np.ndarray | None = None) -> np.ndarray:
        """Audio features (T, A) at cfg.fps + style (style_dim,) -> motion (T, D), denormalised.

        Windows are generated in order, each conditioned on the last Np frames (motion and audio)
        of the previous one; only one window is in memory at a time.

        Several styles (style_control.py): `style` (S, style_dim) and `frame_weights` (T, S), each
        frame's share of each style. Every style active in a window is generated there as its own
        chain (its own context, the same noise as the others) and each frame is the shares'
        weighted sum of the chains. A style coming in starts from a lead-in: the previous window
        generated in that style alone from the learned start features. Why not one sample: in
        training, context and style always agree and the model follows the context, so a new style
        given the old style's frames showed only at the next window, as a jump; and a mixed style
        vector, or x0 estimates mixed at every step, gave one style or the other, not a blend
        (both measured in docs/model.md). With one style this is the plain path, sample for sample.

        Exaggeration (style_control.py): `boost` (S,) > 0 adds boost x (x0(style) - x0(`neutral`))
        to a style's estimates at every step, `neutral` (S, style_dim) being its neutral delivery.
        """
        cfg = self.cfg
        n, p = cfg.window, cfg.context
        total = audio.shape[0]
        n_win = math.ceil(total / n)
        feats = torch.zeros(n_win * n, cfg.audio_dim)
        feats[:total] = torch.from_numpy(np.asarray(audio, np.float32))    # zero-padded as in training
        styles = style.view(-1, style.shape[-1])
        share = torch.ones(n_win * n, len(styles)) / len(styles)
        if frame_weights is not None:                  # style_control hook: per-frame style shares
            if frame_weights.shape != (total, len(styles)):
                raise ValueError(f"frame_weights must be ({total}, {len(styles)}), got {frame_weights.shape}")
            share[:total] = torch.from_numpy(np.asarray(frame_weights, np.float32))
            share[total:] = share[total - 1]
        share = share / share.sum(1, keepdim=True)
        boosts = [0.0] * len(styles) if boost is None else [float(b) for b in np.asarray(boost).reshape(-1)]
        if len(boosts) != len(styles) or (any(boosts) and (neutral is None or neutral.shape != styles.shape)):
            raise ValueError(f"boost needs one value per style ({len(styles)}) and neutral styles of shape "
                             f"{tuple(styles.shape)}")
        scheduler = sampling_scheduler(cfg, sampler)
        guidance = (scheduler, steps, cfg_audio, cfg_style)
        gen = torch.Generator().manual_seed(seed)
        start = (self.denoiser.start_motion, self.denoiser.start_audio)
        chains: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}     # style -> context after its last window
        out = []
        for w in (progress if progress is not None else range(n_win)):
            win_share = share[w * n:(w + 1) * n]
            noise_state = gen.get_state()
            x, generated = torch.zeros(n, cfg.motion_dim), {}
            for k in torch.nonzero(win_share.amax(0) > 0).flatten().tolist():
                context = start if w == 0 else chains.get(k)
                exaggerate = (neutral[k], boosts[k]) if boosts[k] > 0 else None
                if context is None:                    # lead-in: window w-1 in style k alone
                    lead = torch.Generator().manual_seed(seed * 1_000_003 + 7919 * w + k)
                    shadow = self._window(styles[k], start, feats[(w - 1) * n:w * n], guidance, lead, exaggerate)
                    context = (shadow[-p:], feats[w * n - p:w * n])
                gen.set_state(noise_state)             # every chain draws the same noise
                xk = self._window(styles[k], context, feats[w * n:(w + 1) * n], guidance, gen, exaggerate)
                x += win_share[:, k:k + 1] * xk
                generated[k] = (xk[-p:], feats[(w + 1) * n - p:(w + 1) * n])
            chains = generated
            out.append(x)
        return self.denormalise(torch.cat(out)[:total]).numpy()

    def _window(self, style: torch.Tensor, context: tuple[torch.Tensor, torch.Tensor], feats: torch.Tensor,
                guidance: tuple, gen: torch.Generator,
                exaggerate: tuple[torch.Tensor, float] | None = None) -> torch.Tensor:
        """One window (N, D), normalised, from a style (S,), its context (motion (Np, D), audio
        (Np, A)) and the window's audio features (N, A).

        Classifier-free guidance: one batch holding the full condition and, for each non-zero
        scale, the same with that condition dropped to its learned null; `exaggerate` (neutral
        style, boost) adds the same with the style's neutral delivery, and boost x the difference.
        """
        cfg = self.cfg
        scheduler, steps, cfg_audio, cfg_style = guidance
        drop_audio, drop_style = cfg_audio != 0, cfg_style != 0
        anchor = [exaggerate[0]] if exaggerate is not None else []
        styles = torch.stack([style] + [style] * drop_audio + [self.null_style] * drop_style + anchor)
        basis = self.basis(styles)
        win_audio = torch.cat([context[1], feats])
        audios = torch.stack([win_audio] + [self.denoiser.null_audio.expand_as(win_audio)] * drop_audio
                             + [win_audio] * (drop_style + len(anchor)))
        prevs = context[0][None].expand(len(audios), -1, -1)

        def x0_fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            k = len(audios)
            x0, _ = self.denoiser(x.expand(k, -1, -1), t.expand(k), prevs, audios, styles, basis)
            no_audio = x0[1:2] if drop_audio else x0[:1]
            no_style = x0[1 + drop_audio:2 + drop_audio] if drop_style else x0[:1]
            out = guided(x0[:1], no_audio, no_style, cfg_audio, cfg_style)
            return out + exaggerate[1] * (x0[:1] - x0[-1:]) if exaggerate is not None else out

        if cfg.regression:
            return x0_fn(torch.zeros(1, cfg.window, cfg.motion_dim), torch.tensor([cfg.train_timesteps - 1]))[0]
        return sample(x0_fn, (1, cfg.window, cfg.motion_dim), scheduler, steps, gen)[0]

    def num_windows(self, frames: int) -> int:
        return math.ceil(frames / self.cfg.window)

