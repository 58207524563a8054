"""Lip contact (model/contact.py): targets from phone timings, training, files, and the pipeline's seal."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from talkstyle.errors import TalkstyleError
from talkstyle.eval.lipsync import CLOSED_MM
from talkstyle.face.arkit import INDEX, NUM_BLENDSHAPES
from talkstyle.face.lip_seal import seal_lips
from talkstyle.face.motion import FaceMotion
from talkstyle.face.rig import FaceRig
from talkstyle.model.contact import CONFIG_FILE, ContactConfig, LipContact


def open_mouth(frames: int) -> np.ndarray:
    w = np.zeros((frames, NUM_BLENDSHAPES), np.float32)
    w[:, INDEX["jawOpen"]] = 0.5
    for name in ("mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthFunnel"):
        w[:, INDEX[name]] = 0.3
    return w


def lip_gap(weights: np.ndarray) -> np.ndarray:
    return FaceRig.default().mouth_opening(FaceMotion(weights, np.zeros((len(weights), 3), np.float32)))


def test_seal_lips_closes_in_proportion():
    w = open_mouth(3)
    sealed = seal_lips(w, np.array([0.0, 0.5, 1.0], np.float32))
    gap = lip_gap(sealed)
    assert np.array_equal(sealed[0], w[0])                   # closure 0: untouched
    assert gap[0] > 8.0 and gap[2] < CLOSED_MM and gap[0] > gap[1] > gap[2]
    assert sealed[2, INDEX["jawOpen"]] == pytest.approx(0.5)  # the jaw may stay open: the lips meet


def test_contact_targets_follow_phones_and_speed_copies():
    from talkstyle.data.records import ClipRecord
    from talkstyle.train import contact_targets, with_speed_copies
    from talkstyle.vocab.attributes import Phone, Prompt, StyleAttributes

    audio = np.zeros(16000, np.float32)
    motion = FaceMotion(np.zeros((25, NUM_BLENDSHAPES), np.float32), np.zeros((25, 3), np.float32), 25.0,
                        audio=audio, sample_rate=16000)
    phones = [Phone("a", 0.0, 0.4), Phone("p", 0.4, 0.52), Phone("a", 0.52, 1.0)]
    prompt = Prompt("A person speaks.", StyleAttributes())
    records = [ClipRecord("c0", "p0", "train", prompt, "pa", motion, phones),
               ClipRecord("c1", "p0", "train", prompt, "pa", motion, [])]         # captured: no timings
    target, known = contact_targets(records, np.array([25, 25]))
    assert known.tolist() == [1.0] * 25 + [0.0] * 25
    shut = np.flatnonzero(target)
    assert shut.min() in (9, 10) and shut.max() in (12, 13)   # 0.36-0.52 s (40 ms lead) at 25 fps
    copies = with_speed_copies(records, seed=0, share=1.0)
    factor = float(copies[2].clip_id.split("@speed")[1])
    assert copies[2].phones[1].start == pytest.approx(0.4 / factor, abs=1e-6)


def toy_data(frames: int, rng: np.random.Generator, shift: int = 0):
    """Features whose first channel says where the closures are (`shift` frames late), under noise."""
    from talkstyle.train import ContactData

    target = (np.sin(np.arange(frames) / 3.0) > 0.6).astype(np.float32)
    feats = rng.normal(0, 1, (2, frames, 8)).astype(np.float32)
    feats[:, :, 0] += 3 * np.roll(target, shift)
    return ContactData(feats.astype(np.float16), target, np.ones(frames, np.float32))


@pytest.mark.parametrize("lookahead", [None, 2])
def test_fit_contact_learns_and_sets_its_ramp(lookahead):
    """Centred, and with a look-ahead that still hears the cue (it comes 2 frames late)."""
    from talkstyle.train import fit_contact

    rng = np.random.default_rng(0)
    config = ContactConfig(audio_encoder="mel", lookahead=lookahead)
    model = fit_contact(toy_data(2000, rng, 2), toy_data(400, rng, 2), config, steps=150, seed=0, threads=1)
    val = toy_data(400, np.random.default_rng(5), 2)
    p = model.probability(val.feats[0].astype(np.float32))
    truth = val.target > 0
    assert p[truth].mean() > 0.8 and p[~truth].mean() < 0.2
    assert 0.05 <= model.cfg.low < model.cfg.high <= 0.95 and model.cfg.lookahead == lookahead
    closure = model.closure(val.feats[0].astype(np.float32))
    assert closure[truth].mean() > 0.8 and closure[~truth].mean() < 0.1


def test_lookahead_component_hears_no_further_and_steps_like_a_whole_clip():
    torch.manual_seed(0)
    model = LipContact(ContactConfig(audio_dim=8, hidden=16, lookahead=3, pad_value=-0.5)).eval()
    feats = torch.randn(1, 40, 8)
    later = feats.clone()
    later[:, 25:] += 1.0
    changed = (model(feats) != model(later))[0].nonzero()[:, 0]
    assert changed.min().item() == 25 - 3                    # frame t hears up to t + 3
    # A stream: `context` frames of history (silence at the start), then chunks of new frames.
    ctx, past = model.cfg.context, model.cfg.context - 3
    window = torch.cat([torch.full((1, past, 8), -0.5), feats], 1)
    rows = [model.step(window[:, i - ctx:i + 1]) for i in range(ctx, window.shape[1])]
    assert torch.allclose(torch.cat(rows, 1), model(feats)[:, :40 - 3], atol=1e-6)


def test_fit_contact_needs_phone_timings():
    from talkstyle.train import fit_contact

    data = toy_data(200, np.random.default_rng(0))
    data.known[:] = 0
    with pytest.raises(TalkstyleError, match="phone timings"):
        fit_contact(data, data, ContactConfig(audio_encoder="mel"), steps=1)


def test_files_round_trip_and_damage(tmp_path):
    torch.manual_seed(0)
    model = LipContact(ContactConfig(audio_encoder="mel", audio_dim=8, hidden=16, low=0.3, high=0.6)).eval()
    model.save(tmp_path)
    loaded = LipContact.load(tmp_path)
    feats = np.random.default_rng(0).normal(0, 1, (50, 8)).astype(np.float32)
    assert loaded.cfg == model.cfg
    assert np.allclose(loaded.probability(feats), model.probability(feats), atol=2e-3)    # fp16 weights
    assert LipContact.load(tmp_path / "none") is None
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    (tmp_path / CONFIG_FILE).write_text(json.dumps({**config, "low": 0.9}))
    with pytest.raises(TalkstyleError, match="low < high"):
        LipContact.load(tmp_path)
    (tmp_path / CONFIG_FILE).write_text(json.dumps({**config, "hidden": 32}))
    with pytest.raises(TalkstyleError, match="do not match"):
        LipContact.load(tmp_path)
    (tmp_path / CONFIG_FILE).write_text("{")
    with pytest.raises(TalkstyleError, match="cannot read"):
        LipContact.load(tmp_path)
    with pytest.raises(TalkstyleError, match="features"):
        model.probability(np.zeros((5, 7), np.float32))


def test_pipeline_seals_where_contact_is_heard(tiny_checkpoint):
    from talkstyle.pipeline import TalkstylePipeline

    pipe = TalkstylePipeline.from_pretrained(tiny_checkpoint)
    assert pipe.lip_contact is not None                      # `talkstyle train` adds the component
    with torch.no_grad():                                    # a component sure of a closure everywhere
        pipe.lip_contact.net[-1].bias.fill_(50.0)
    wav = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    sealed = pipe(wav, "A woman speaks with a strong surprised expression.")
    free = pipe(wav, "A woman speaks with a strong surprised expression.",
                settings=dataclasses.replace(pipe.settings, lip_contact=False))
    assert (lip_gap(sealed.weights) < CLOSED_MM).all()
    assert not np.array_equal(sealed.weights, free.weights)
    other = LipContact(dataclasses.replace(pipe.lip_contact.cfg, audio_encoder="whisper"))
    with pytest.raises(TalkstyleError, match="reads 'whisper' features"):
        TalkstylePipeline(pipe.generator, pipe.audio_encoder, pipe.text_encoder, lip_contact=other)
