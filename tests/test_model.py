"""The style generator's parts: style encoders, alignment, basis, denoiser, sampling, checkpoints."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from talkstyle.vocab.attributes import StyleAttributes
from talkstyle.errors import TalkstyleError
from talkstyle.model.basis import combine, smooth_weights
from talkstyle.model.checkpoint import load_generator, save_checkpoint
from talkstyle.model.config import ModelConfig, get_config
from talkstyle.model.diffusion import guided
from talkstyle.model.generator import Batch, StyleGenerator, array_to_motion, motion_to_array
from talkstyle.model.style import (attribute_similarity, encode_attributes, soft_contrastive_loss)

CFG = dataclasses.replace(get_config("tiny")[0], audio_dim=8)


def make_model(seed: int = 0, cfg: ModelConfig = CFG) -> StyleGenerator:
    torch.manual_seed(seed)
    return StyleGenerator(cfg).eval()


def attrs(family: str, level: float = 0.5, head: str = "natural") -> list[float]:
    return encode_attributes(StyleAttributes(family=family, level=level, head_motion=head))


def test_attribute_similarity_two_angry_clips_are_not_negatives():
    a = torch.tensor([attrs("angry", 0.8), attrs("angry", 0.7), attrs("happy", 0.8)])
    sim = attribute_similarity(a)
    assert torch.allclose(sim.diagonal(), torch.ones(3))
    assert sim[0, 1] > 0.8 > 0.5 > sim[0, 2]
    assert torch.allclose(sim, sim.T)


def test_soft_contrastive_loss_prefers_aligned_styles():
    torch.manual_seed(0)
    a = torch.tensor([attrs(f) for f in ("angry", "happy", "sad", "calm")])
    text = torch.randn(4, 16)
    aligned = soft_contrastive_loss(text + 0.01 * torch.randn(4, 16), text, a)
    shuffled = soft_contrastive_loss(text[[1, 2, 3, 0]], text, a)
    assert aligned < shuffled


def test_vq_tokenizer_codes_and_straight_through_gradient():
    model = make_model()
    x = torch.randn(2, 20, CFG.motion_dim)
    mask = torch.ones(2, 20, dtype=torch.bool)
    out = model.motion_style.tokenizer(x, mask)
    assert out.codes.shape == (2, 5) and out.codes.max() < CFG.codebook_size
    assert out.recon.shape == x.shape
    out.quantized.sum().backward()                   # gradient reaches the encoder through the codes
    assert model.motion_style.tokenizer.encoder[0].weight.grad.abs().sum() > 0


def test_style_encoder_ignores_padding_and_handles_any_length():
    model = make_model()
    x = torch.randn(1, 40, CFG.motion_dim)
    mask = torch.ones(1, 40, dtype=torch.bool)
    padded = torch.cat([x, torch.randn(1, 20, CFG.motion_dim)], 1)
    pmask = torch.cat([mask, torch.zeros(1, 20, dtype=torch.bool)], 1)
    with torch.no_grad():
        mu = model.motion_style(x, mask).mu
        mu_padded = model.motion_style(padded, pmask).mu
    assert torch.allclose(mu, mu_padded, atol=1e-5)
    for n in (3, 57, 301):                           # chunked, pooled: any length works
        assert model.encode_reference(np.random.rand(n, CFG.motion_dim).astype(np.float32)).shape == (CFG.style_dim,)


def test_style_basis_combination():
    primary = torch.zeros(1, 3, 2)
    alpha = torch.tensor([[[1.0, 0.0], [0.5, 0.5], [0.0, 2.0]]])
    basis = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    assert torch.equal(combine(primary, alpha, basis)[0], torch.tensor([[1.0, 0.0], [0.5, 0.5], [0.0, 2.0]]))


def test_basis_weight_smoothing():
    torch.manual_seed(0)
    flat = torch.full((2, 40, 3), 0.7)
    assert torch.allclose(smooth_weights(flat, 5.0), flat)            # edges held, not pulled to 0
    noisy = torch.randn(2, 40, 3)
    smooth = smooth_weights(noisy, 5.0)
    assert smooth.shape == noisy.shape
    assert smooth.diff(dim=1).abs().mean() < 0.2 * noisy.diff(dim=1).abs().mean()
    assert torch.equal(smooth_weights(noisy, 0.0), noisy)              # 0: per frame, as the paper
    cfg = dataclasses.replace(CFG, basis_smoothing=0.2)                # through the denoiser
    model = StyleGenerator(cfg).eval()
    b, n = 2, cfg.window
    inputs = (torch.randn(b, n, cfg.motion_dim), torch.tensor([500, 20]), torch.randn(b, cfg.context, cfg.motion_dim),
              torch.randn(b, cfg.context + n, cfg.audio_dim), torch.randn(b, cfg.style_dim),
              torch.randn(b, cfg.basis, cfg.motion_dim))
    with torch.no_grad():
        x0, alpha = model.denoiser(*inputs)
        model.denoiser.cfg = dataclasses.replace(cfg, basis_smoothing=0.0)
        x0_free, raw = model.denoiser(*inputs)
    assert torch.allclose(alpha, smooth_weights(raw, 0.2 * cfg.fps), atol=1e-6)
    assert torch.allclose(x0 - x0_free, (alpha - raw) @ inputs[-1], atol=1e-5)


def test_audio_cross_attention_band():
    mask = make_model().denoiser.memory_mask
    n = CFG.context + CFG.window
    assert mask.shape == (CFG.style_tokens + n, n)
    assert not mask[:CFG.style_tokens].any()         # style tokens see all the audio
    frame = CFG.style_tokens + 10
    allowed = (~mask[frame]).nonzero().flatten()
    assert allowed.min() == 10 - CFG.audio_band and allowed.max() == 10 + CFG.audio_band


def test_guidance_formula():
    c, a, s = torch.tensor(1.0), torch.tensor(0.5), torch.tensor(0.25)
    assert guided(c, a, s, 0.0, 0.0) == c
    assert guided(c, a, s, 1.0, 1.0) == 3 * c - a - s


def batch(n: int = 2) -> Batch:
    t = 2 * CFG.window
    mask = torch.ones(n, t, dtype=torch.bool)
    mask[0, 30:] = False                            # a short clip, zero-padded
    return Batch(torch.randn(n, t, CFG.motion_dim) * mask[..., None], torch.randn(n, t, CFG.audio_dim), mask,
                 torch.randn(n, CFG.text_dim), torch.tensor([attrs("angry"), attrs("happy")]))


def test_losses_are_finite_and_reach_every_part():
    model = make_model().train()
    losses = model.losses(batch(), get_config("tiny")[1])
    assert set(losses) == {"total", "simple", "vel", "smooth", "lips", "kl", "vq", "contrast"}
    assert all(torch.isfinite(v) for v in losses.values())
    losses["total"].backward()
    for name in ("text_style", "motion_style", "basis", "denoiser"):
        grads = [p.grad for p in getattr(model, name).parameters() if p.grad is not None]
        assert grads and sum(g.abs().sum() for g in grads) > 0, name


@pytest.mark.parametrize("frames", [1, 19, 20, 21, 67])
def test_generate_any_length(frames):
    model = make_model()
    out = model.generate(np.random.randn(frames, CFG.audio_dim).astype(np.float32), model.style_vector(), steps=3)
    assert out.shape == (frames, CFG.motion_dim) and np.isfinite(out).all()


@pytest.mark.parametrize("sampler", ["ddim", "dpm", "ddpm"])
def test_samplers_are_seeded(sampler):
    model = make_model()
    audio = np.random.default_rng(0).standard_normal((30, CFG.audio_dim)).astype(np.float32)
    style = model.style_vector(text=torch.randn(CFG.text_dim))
    a, b, c = (model.generate(audio, style, sampler=sampler, steps=4, seed=s) for s in (1, 1, 2))
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_motion_array_round_trip_clips_to_valid_ranges():
    x = np.random.default_rng(0).normal(0.5, 1.0, (10, 55)).astype(np.float32)
    m = array_to_motion(x)
    assert m.weights.min() >= 0 and m.weights.max() <= 1 and np.abs(m.head).max() < np.pi / 2
    assert np.array_equal(motion_to_array(m)[:, :52], np.clip(x[:, :52], 0, 1))


def test_checkpoint_round_trip_fp16_and_wrong_config(tmp_path):
    model = make_model(seed=1)
    save_checkpoint(tmp_path / "fp32", model.state_dict(), CFG)
    save_checkpoint(tmp_path / "fp16", model.state_dict(), CFG, dtype=torch.float16)
    audio = np.random.default_rng(0).standard_normal((25, CFG.audio_dim)).astype(np.float32)
    ref = model.generate(audio, model.style_vector(), steps=3)
    assert np.array_equal(load_generator(tmp_path / "fp32").generate(audio, model.style_vector(), steps=3), ref)
    half = load_generator(tmp_path / "fp16")
    assert np.abs(half.generate(audio, half.style_vector(), steps=3) - ref).max() < 0.05
    other = dataclasses.replace(CFG, d_model=48)
    save_checkpoint(tmp_path / "other", make_model(cfg=other).state_dict(), CFG)   # weights of another config
    with pytest.raises(TalkstyleError, match="another config"):
        load_generator(tmp_path / "other")
    with pytest.raises(TalkstyleError, match="not a talkstyle checkpoint"):
        load_generator(tmp_path)


def test_style_of_an_empty_window_is_finite_in_eval_mode():
    model = make_model()
    mask = torch.zeros(2, 20, dtype=torch.bool)
    mask[0] = True
    with torch.no_grad():
        out = model.motion_style(torch.randn(2, 20, CFG.motion_dim), mask)
    assert torch.isfinite(out.mu).all()


def test_guidance_branches_only_for_nonzero_scales():
    model = make_model()
    audio = np.random.default_rng(0).standard_normal((30, CFG.audio_dim)).astype(np.float32)
    style = model.style_vector(text=torch.randn(CFG.text_dim))
    calls = []
    hook = model.denoiser.register_forward_hook(lambda m, args, out: calls.append(len(args[0])))
    outs = {scales: model.generate(audio, style, steps=2, cfg_audio=scales[0], cfg_style=scales[1])
            for scales in [(0.0, 0.0), (1.0, 0.0), (0.0, 2.0), (1.0, 2.0)]}
    hook.remove()
    assert calls == [1] * 4 + [2] * 4 + [2] * 4 + [3] * 4          # 2 windows x 2 steps each
    assert not np.allclose(outs[(0.0, 0.0)], outs[(1.0, 2.0)])


def test_lip_gap_matches_the_rig_and_has_gradients():
    """The torch lip gap of the training loss is the FaceRig's own mouth opening, differentiably."""
    from talkstyle.face.motion import FaceMotion
    from talkstyle.face.rig import FaceRig
    from talkstyle.model.lips import LipGap

    rng = np.random.default_rng(0)
    w = (rng.random((64, 52)) ** 3).astype(np.float32)
    expected = FaceRig.default().mouth_opening(FaceMotion(w, np.zeros((64, 3), np.float32), 25.0))
    np.testing.assert_allclose(LipGap()(torch.from_numpy(w)).numpy(), expected, atol=1e-3)
    x = torch.zeros(52)
    x[17] = 0.4                                                       # jawOpen alone: lips apart
    x.requires_grad_()
    LipGap()(x).backward()
    assert x.grad[17] > 0 > x.grad[18]                                # the jaw parts them, mouthClose seals them


def test_lip_loss_is_zero_for_a_perfect_prediction_and_grows_on_open_lips():
    model = make_model()                         # identity normalisation: x is the weights
    x0 = torch.zeros(2, CFG.window, CFG.motion_dim)
    x0[:, ::2, 17] = 0.5                         # every other frame the jaw is open; between, lips sealed
    mask = torch.ones(2, CFG.window, dtype=torch.bool)
    assert model.lip_loss(x0, x0, mask, 4.0).item() == pytest.approx(0.0, abs=1e-6)
    opened = x0.clone()
    opened[:, 1::2, 17] = 0.3                    # the prediction parts the sealed frames
    assert model.lip_loss(opened, x0, mask, 4.0) > 2 * model.lip_loss(opened, x0, mask, 0.0) > 0
