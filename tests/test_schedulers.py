"""talkstyle's own schedulers and timestep embedding against diffusers', which they replace on the
inference and training path (diffusers stays installed for the data engine's video models)."""
from __future__ import annotations

import subprocess
import sys

import diffusers
import numpy as np
import pytest
import torch
from diffusers.models.embeddings import TimestepEmbedding, Timesteps, get_timestep_embedding

from talkstyle.model.config import BETA_SCHEDULES, SAMPLERS
from talkstyle.model.diffusion import SCHEDULERS, sample
from talkstyle.model.schedulers import DDPMScheduler
from talkstyle.model.timestep import sinusoidal

T = 1000
SHAPE = (2, 12, 5)


class DiffusersScheduler:
    """diffusers' scheduler as talkstyle used it before (model/diffusion.py until issue 18), behind
    talkstyle's scheduler interface, so that the same sampling loop runs either."""

    def __init__(self, sampler: str, beta_schedule: str, train_timesteps: int = T):
        base = diffusers.DDPMScheduler(num_train_timesteps=train_timesteps, beta_schedule=beta_schedule,
                                       prediction_type="sample", clip_sample=False)
        self.train_timesteps = train_timesteps
        self.inner = {
            "ddpm": lambda: base,
            "ddim": lambda: diffusers.DDIMScheduler.from_config(base.config, timestep_spacing="trailing"),
            "dpm": lambda: diffusers.DPMSolverMultistepScheduler.from_config(
                base.config, algorithm_type="dpmsolver++", timestep_spacing="trailing", final_sigmas_type="zero"),
        }[sampler]()
        self.alphas_cumprod = self.inner.alphas_cumprod

    @property
    def timesteps(self) -> torch.Tensor:
        return self.inner.timesteps

    def set_timesteps(self, steps: int) -> None:
        self.inner.set_timesteps(steps)

    def step(self, x0, t, x_t, generator=None):
        return self.inner.step(x0, t, x_t, generator=generator).prev_sample


def x0_fn(seed: int = 0):
    """A fixed random linear map of x_t (a contraction, as a denoiser is), plus a term in t (so that
    a wrong t would show)."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(SHAPE[-1], SHAPE[-1], generator=g)
    w = 0.8 * w / torch.linalg.matrix_norm(w, ord=2)
    bias = torch.randn(SHAPE[1:], generator=g)
    return lambda x, t: x @ w + bias * (1 + t[:, None, None].float() / T)


def sampled(scheduler, steps: int, seed: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """The sample, and the generator's state after it (so that both must draw the same noise)."""
    gen = torch.Generator().manual_seed(seed)
    return sample(x0_fn(), SHAPE, scheduler, steps, gen), gen.get_state()


def test_samplers_are_the_configs():
    assert set(SCHEDULERS) == set(SAMPLERS)


@pytest.mark.parametrize("schedule", BETA_SCHEDULES)
def test_noise_schedule_and_add_noise_match_diffusers(schedule):
    ours, theirs = DDPMScheduler(T, schedule), DiffusersScheduler("ddpm", schedule).inner
    assert torch.equal(ours.alphas_cumprod, theirs.alphas_cumprod)
    g = torch.Generator().manual_seed(1)
    x0, noise = torch.randn(6, 40, 55, generator=g), torch.randn(6, 40, 55, generator=g)
    t = torch.tensor([0, 1, 250, 500, 998, 999])
    expected = theirs.add_noise(x0, noise, t)
    assert (ours.add_noise(x0, noise, t) - expected).abs().max() < 1e-6
    assert (ours.add_noise(x0.double(), noise.double(), t) - expected.double()).abs().max() < 1e-6


@pytest.mark.parametrize("schedule", BETA_SCHEDULES)
@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("steps", [1, 2, 3, 4, 10, 25])
def test_sampler_matches_diffusers(sampler, steps, schedule):
    ours, state = sampled(SCHEDULERS[sampler](T, schedule), steps)
    theirs, their_state = sampled(DiffusersScheduler(sampler, schedule), steps)
    assert (ours - theirs).abs().max() < 1e-5
    assert torch.equal(state, their_state)         # DDPM's ancestral noise: the same draws from the generator
    assert ours.isfinite().all() and ours.abs().max() < 10     # a sample, not an overflow that matches one


def test_ddpm_1000_steps_matches_diffusers():
    """The seed paper's sampler: 999 noise draws, all from the caller's generator in order."""
    ours, state = sampled(DDPMScheduler(T, "squaredcos_cap_v2"), 1000)
    theirs, their_state = sampled(DiffusersScheduler("ddpm", "squaredcos_cap_v2"), 1000)
    assert (ours - theirs).abs().max() < 1e-5
    assert torch.equal(state, their_state)


def test_samplers_differ_from_each_other():
    """The parity above would hold for a sampler that ignored its name; these must not agree."""
    samples = [sampled(SCHEDULERS[s](T, "squaredcos_cap_v2"), 4)[0] for s in SAMPLERS]
    for i in range(len(samples)):
        for j in range(i):
            assert (samples[i] - samples[j]).abs().max() > 1e-3


@pytest.mark.parametrize("dim", [128, 7])
def test_sinusoidal_features_match_diffusers(dim):
    t = torch.arange(T)
    expected = get_timestep_embedding(t, dim, flip_sin_to_cos=True, downscale_freq_shift=0)
    assert torch.equal(sinusoidal(t, dim), expected)


def test_timestep_embedding_matches_diffusers_with_the_shipped_weights():
    from talkstyle.model.checkpoint import load_generator

    denoiser = load_generator().denoiser          # strict load: the parameter names are diffusers'
    d = denoiser.cfg.d_model
    theirs = TimestepEmbedding(d, d)
    theirs.load_state_dict(denoiser.time_embed.state_dict())
    t = torch.arange(T)
    with torch.no_grad():
        expected = theirs(Timesteps(d, flip_sin_to_cos=True, downscale_freq_shift=0)(t))
        ours = denoiser.time_embed(sinusoidal(t, d))
    assert (ours - expected).abs().max() < 1e-6
    assert expected.std() > 0.1


def test_shipped_pipeline_motion_unchanged(monkeypatch):
    """The demo speech at the shipped default settings: the same motion as with diffusers' scheduler."""
    import talkstyle.model.generator as generator
    from talkstyle import assets
    from talkstyle.audio.io import load_audio
    from talkstyle.pipeline import TalkstylePipeline

    torch.set_num_threads(1)
    pipe = TalkstylePipeline.from_pretrained()
    wav = load_audio(assets.path("demo_speech.wav"))
    style = "A woman speaks with a clear happy expression."
    ours = pipe(wav, style)
    with monkeypatch.context() as m:
        m.setattr(generator, "sampling_scheduler", lambda cfg, sampler: DiffusersScheduler(sampler, cfg.beta_schedule))
        theirs = pipe(wav, style)
    assert np.abs(ours.weights - theirs.weights).max() < 1e-4
    assert np.abs(ours.head - theirs.head).max() < 1e-4
    assert ours.weights.std(0).max() > 0.05       # the face moves: a real comparison


@pytest.mark.slow
def test_animate_path_imports_neither_diffusers_nor_librosa():
    """Importing diffusers (torch._dynamo) or librosa (scipy.signal, numba) costs 1.3-1.7 s each
    at every start: `animate`'s path, from the command's module to a generated motion, imports neither."""
    code = ("import sys, numpy as np; import talkstyle.cli; from talkstyle.pipeline import TalkstylePipeline; "
            "pipe = TalkstylePipeline.from_pretrained(); pipe(np.zeros(8000, np.float32) + 0.01, 'A man speaks.'); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'diffusers', 'librosa'}))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
