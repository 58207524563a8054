"""Generation for the evaluation, through the one generation path (TalkstylePipeline)."""
from __future__ import annotations

import math

import numpy as np
import torch

from ..face.motion import FaceMotion
from ..model.generator import StyleGenerator, motion_to_array
from ..pipeline import Settings, TalkstylePipeline


def style_for(pipe: TalkstylePipeline, mode: str, text: torch.Tensor | None, reference: FaceMotion | None) -> torch.Tensor:
    """The style vector of one protocol mode: from the prompt, the reference, or both."""
    return pipe.style_vector(text if mode in ("text", "both") else None,
                             reference if mode in ("reference", "both") else None)


def generate(pipe: TalkstylePipeline, feats: np.ndarray, style: torch.Tensor, settings: Settings) -> FaceMotion:
    # As `animate` finishes it, less the prompt's head words (no attributes given: random nods
    # would only add noise to the head error against the ground truth).
    return pipe.generate(feats, style, settings)


@torch.no_grad()
def alpha_trajectory(model: StyleGenerator, motion: FaceMotion, feats: np.ndarray, style: torch.Tensor) -> np.ndarray:
    """(T, K) style-basis weights alpha over time (paper figure 7).

    `generate` keeps only x0; alpha is read back by one denoiser pass at t = 0 on the generated
    windows (the same window layout and context as generation), which is the alpha of the
    final clean estimate.
    """
    cfg = model.cfg
    n, p, total = cfg.window, cfg.context, motion.num_frames
    n_win = math.ceil(total / n)
    x = torch.zeros(n_win * n, cfg.motion_dim)
    x[:total] = model.normalise(torch.from_numpy(motion_to_array(motion)))
    a = torch.zeros(n_win * n, cfg.audio_dim)
    a[:total] = torch.from_numpy(feats)
    basis = model.basis(style[None])
    prev_m, prev_a = model.denoiser.start_motion, model.denoiser.start_audio
    alphas = []
    for w in range(n_win):
        win, win_a = x[w * n:(w + 1) * n], torch.cat([prev_a, a[w * n:(w + 1) * n]])
        _, alpha = model.denoiser(win[None], torch.zeros(1, dtype=torch.long), prev_m[None], win_a[None],
                                  style[None], basis)
        alphas.append(alpha[0])
        prev_m, prev_a = win[-p:], win_a[-p:]
    return torch.cat(alphas)[:total].numpy()
