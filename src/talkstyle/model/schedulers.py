"""Noise schedules and samplers for a model that predicts x0 (the seed paper's "sample" prediction).

In the manner of diffusers' schedulers: a scheduler is apart from the model, is built from the
model config's plain data (train_timesteps, beta_schedule), holds the forward process's noise
schedule, and moves a sample from one timestep to the next given the model's x0 estimate. talkstyle
used diffusers' own until importing diffusers cost 1.3-1.7 s of every `animate` start; these are the
few it used (tests/test_schedulers.py checks each against its diffusers counterpart):

- DDPMScheduler: the forward process for training (add_noise) and ancestral sampling on "leading"
  timesteps with the posterior variance (diffusers' DDPMScheduler, variance "fixed_small");
- DDIMScheduler: deterministic DDIM (eta 0) on "trailing" timesteps;
- DPMSolverScheduler: DPM-Solver++(2M) on "trailing" timesteps, first order at the first and the
  last step, ending at sigma 0 (diffusers' DPMSolverMultistepScheduler with solver_order=2,
  algorithm_type="dpmsolver++", lower_order_final, final_sigmas_type="zero").

All arithmetic is float32 in diffusers' order: the samples are the same bit for bit (measured for
every sampler, beta schedule and step count in the tests), not just the same in law.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
import torch


def betas(schedule: str, train_timesteps: int) -> torch.Tensor:
    """The forward process's betas (float32), for the schedules model configs allow
    (config.BETA_SCHEDULES), with diffusers' defaults beta_start 1e-4 and beta_end 0.02."""
    n = train_timesteps
    if schedule == "linear":
        return torch.linspace(1e-4, 0.02, n, dtype=torch.float32)
    if schedule == "scaled_linear":      # Stable Diffusion's: linear in sqrt(beta)
        return torch.linspace(1e-4 ** 0.5, 0.02 ** 0.5, n, dtype=torch.float32) ** 2
    if schedule == "squaredcos_cap_v2":  # Nichol & Dhariwal's cosine schedule, betas capped at 0.999

        def alpha_bar(t: float) -> float:
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

        return torch.tensor([min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n), 0.999) for i in range(n)],
                            dtype=torch.float32)
    raise ValueError(f"unknown beta schedule {schedule!r}")


def trailing_timesteps(train_timesteps: int, steps: int) -> torch.Tensor:
    """`steps` timesteps ending at the last one (T-1, ..., about T/steps - 1): "trailing" spacing
    (Lin et al. 2023, table 2), which starts few-step sampling from pure noise."""
    ts = np.round(np.arange(train_timesteps, 0, -train_timesteps / steps)).astype(np.int64) - 1
    return torch.from_numpy(ts)


class Scheduler(ABC):
    """The forward process of one noise schedule, and the interface of a sampler over it:
    set_timesteps(steps), then step() once for each of `timesteps` in order."""

    timesteps: torch.Tensor          # set by set_timesteps: the timesteps to sample at, first to last

    def __init__(self, train_timesteps: int, beta_schedule: str):
        self.train_timesteps = train_timesteps
        self.alphas_cumprod = torch.cumprod(1.0 - betas(beta_schedule, train_timesteps), dim=0)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, for x0 (B, ...) and timesteps t (B,)."""
        abar = self.alphas_cumprod.to(device=x0.device, dtype=x0.dtype)[t.to(x0.device)]
        abar = abar.reshape(-1, *[1] * (x0.ndim - 1))
        return abar ** 0.5 * x0 + (1 - abar) ** 0.5 * noise

    def _abar(self, t: torch.Tensor | int) -> torch.Tensor:
        """abar_t, and 1 before the first timestep (t < 0: the clean sample)."""
        return self.alphas_cumprod[t] if t >= 0 else torch.tensor(1.0)

    @abstractmethod
    def set_timesteps(self, steps: int) -> None:
        """Prepare to sample in `steps` steps."""

    @abstractmethod
    def step(self, x0: torch.Tensor, t: torch.Tensor, x_t: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """The sample at the timestep after t, from x_t and the model's x0 estimate at t."""


class DDPMScheduler(Scheduler):
    """Ancestral sampling (Ho et al. 2020, eq. 6-7) on "leading" timesteps k * (T // steps),
    k = steps-1 .. 0, with the posterior variance; 1000 steps is the seed paper's sampler."""

    def set_timesteps(self, steps: int) -> None:
        self._stride = self.train_timesteps // steps
        self.timesteps = torch.arange(steps - 1, -1, -1) * self._stride

    def step(self, x0: torch.Tensor, t: torch.Tensor, x_t: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        abar_t, abar_prev = self._abar(t), self._abar(t - self._stride)
        alpha_t = abar_t / abar_prev
        beta_t = 1 - alpha_t
        mean = (abar_prev ** 0.5 * beta_t) / (1 - abar_t) * x0 + alpha_t ** 0.5 * (1 - abar_prev) / (1 - abar_t) * x_t
        if t == 0:
            return mean
        noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        variance = torch.clamp((1 - abar_prev) / (1 - abar_t) * beta_t, min=1e-20)
        return mean + variance ** 0.5 * noise


class DDIMScheduler(Scheduler):
    """Deterministic DDIM (Song et al. 2021, eq. 12 with eta 0) on trailing timesteps."""

    def set_timesteps(self, steps: int) -> None:
        # diffusers steps back by T // steps whatever the spacing: when steps does not divide T the
        # next x_t is made for a timestep one off the next one evaluated (kept: same samples).
        self._stride = self.train_timesteps // steps
        self.timesteps = trailing_timesteps(self.train_timesteps, steps)

    def step(self, x0: torch.Tensor, t: torch.Tensor, x_t: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        abar_t, abar_prev = self._abar(t), self._abar(t - self._stride)
        eps = (x_t - abar_t ** 0.5 * x0) / (1 - abar_t) ** 0.5
        return abar_prev ** 0.5 * x0 + (1 - abar_prev) ** 0.5 * eps


class DPMSolverScheduler(Scheduler):
    """DPM-Solver++(2M) (Lu et al. 2022, algorithm 2) on trailing timesteps, in terms of
    sigma = sqrt((1 - abar) / abar) and lambda = log(alpha / sigma): first order (DDIM) at the first
    step, second order multistep after it, first order again at the last step, which lands on
    sigma 0, i.e. returns the last x0 estimate."""

    def set_timesteps(self, steps: int) -> None:
        self.timesteps = trailing_timesteps(self.train_timesteps, steps)
        sigmas = ((1 - self.alphas_cumprod) / self.alphas_cumprod) ** 0.5
        self._sigmas = torch.cat([sigmas[self.timesteps], torch.zeros(1)])
        self._index = 0
        self._prev_x0: torch.Tensor | None = None

    @staticmethod
    def _alpha_sigma_lambda(sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        alpha = 1 / ((sigma ** 2 + 1) ** 0.5)
        sigma = sigma * alpha
        return alpha, sigma, torch.log(alpha) - torch.log(sigma)

    def step(self, x0: torch.Tensor, t: torch.Tensor, x_t: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        i = self._index
        alpha_t, sigma_t, lambda_t = self._alpha_sigma_lambda(self._sigmas[i + 1])
        _, sigma_s0, lambda_s0 = self._alpha_sigma_lambda(self._sigmas[i])
        h = lambda_t - lambda_s0
        x = (sigma_t / sigma_s0) * x_t - (alpha_t * (torch.exp(-h) - 1.0)) * x0
        if i > 0 and i < len(self.timesteps) - 1:       # second order: a finite difference of x0
            assert self._prev_x0 is not None
            _, _, lambda_s1 = self._alpha_sigma_lambda(self._sigmas[i - 1])
            r0 = (lambda_s0 - lambda_s1) / h
            d1 = (1.0 / r0) * (x0 - self._prev_x0)
            x = x - 0.5 * (alpha_t * (torch.exp(-h) - 1.0)) * d1
        self._prev_x0 = x0
        self._index += 1
        return x
