"""The model's diffusion schedulers, and the sampling loop with classifier-free guidance.

The model predicts x0 ("sample" prediction, seed paper eq. 1). DDPM trains it; DDPM (the paper's
1000 steps), DDIM and DPM-Solver++ sample from it (schedulers.py).
"""
from __future__ import annotations

from typing import Callable

import torch

from ..errors import TalkstyleError
from .config import SAMPLERS, ModelConfig
from .schedulers import DDIMScheduler, DDPMScheduler, DPMSolverScheduler, Scheduler

SCHEDULERS: dict[str, type[Scheduler]] = {"ddim": DDIMScheduler, "dpm": DPMSolverScheduler, "ddpm": DDPMScheduler}


def training_scheduler(cfg: ModelConfig) -> DDPMScheduler:
    return DDPMScheduler(cfg.train_timesteps, cfg.beta_schedule)


def sampling_scheduler(cfg: ModelConfig, sampler: str) -> Scheduler:
    if sampler in SCHEDULERS:
        return SCHEDULERS[sampler](cfg.train_timesteps, cfg.beta_schedule)
    raise TalkstyleError(f"unknown sampler '{sampler}': choose one of {', '.join(SAMPLERS)}")


def guided(x0_cond: torch.Tensor, x0_no_audio: torch.Tensor, x0_no_style: torch.Tensor,
           cfg_audio: float, cfg_style: float) -> torch.Tensor:
    """Seed paper eq. 6: (1 + sum l_c) M(C) - sum_c l_c M(C with c null)."""
    return (1 + cfg_audio + cfg_style) * x0_cond - cfg_audio * x0_no_audio - cfg_style * x0_no_style


@torch.no_grad()
def sample(x0_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], shape: tuple[int, ...],
           scheduler: Scheduler, steps: int, generator: torch.Generator) -> torch.Tensor:
    """Run the reverse process from Gaussian noise; x0_fn(x_t, t) returns the (guided) x0."""
    if steps < 1 or steps > scheduler.train_timesteps:
        raise TalkstyleError(f"--steps must be in [1, {scheduler.train_timesteps}], got {steps}")
    scheduler.set_timesteps(steps)
    x = torch.randn(shape, generator=generator)
    for t in scheduler.timesteps:
        x0 = x0_fn(x, t.expand(shape[0]))
        x = scheduler.step(x0, t, x, generator)
    return x
