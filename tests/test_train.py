"""Training: packing a real (tiny) dataset, the loop, EMA checkpoints, exact resume, errors."""
from __future__ import annotations

import dataclasses
import json
import numpy as np
import pytest
from safetensors.numpy import load_file

from talkstyle.errors import TalkstyleError
from talkstyle.model.config import get_config
from talkstyle.data.pack import Pack, groups_of
from talkstyle.train import fit, load_packs, lr_at

pytestmark = pytest.mark.slow           # trains models or builds datasets

TINY, TINY_TRAIN = get_config("tiny")


@pytest.fixture
def tiny_packs(tiny_dataset) -> tuple[Pack, Pack]:
    mc = dataclasses.replace(TINY, audio_encoder="mel", audio_dim=160)
    return load_packs(tiny_dataset, mc, augmented=1, seed=0)


def test_groups_of_packs_consecutive_clips():
    assert groups_of([300, 300, 200, 800, 100], 700) == [[0, 1], [2], [3], [4]]
    assert groups_of([50] * 5, 100) == [[0, 1], [2, 3], [4]]


def test_pack_holds_every_clip_with_aligned_audio(tiny_packs):
    train, val = tiny_packs
    # 6 train clips plus a speed-perturbed copy of some of them (0.8-1.3x: length / speed frames).
    assert 6 < len(train) <= 12 and len(val) == 2
    originals, copies = train.lengths[:6], train.lengths[6:]
    assert all(0.75 * originals.min() <= n <= 1.3 * originals.max() for n in copies)
    assert train.audio.shape == (2, len(train.motion), 160)          # clean + one augmented copy
    assert not np.array_equal(train.audio[0], train.audio[1])
    assert train.text.shape == (len(train), 384) and np.allclose(np.linalg.norm(train.text, axis=1), 1, atol=1e-3)
    assert train.lengths.sum() == len(train.motion) and train.starts[0] == 0


def test_sampled_batches_mask_padding(tiny_packs):
    train, _ = tiny_packs
    rng = np.random.default_rng(0)
    b = train.sample(16, 100, rng, lambda x: x + 1.0)     # 200-frame spans: longer than most clips
    assert b.motion.shape == (16, 200, 55) and b.audio.shape == (16, 200, 160)
    assert (~b.mask).any() and b.mask[:, 0].all()
    assert (b.motion[~b.mask] == 0).all() and (b.audio[~b.mask] == 0).all()


def test_lr_schedule_warms_up_then_decays():
    tc = dataclasses.replace(TINY_TRAIN, steps=100, warmup=10, lr=1.0)
    lrs = [lr_at(s, tc) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[99] < lrs[50] < lrs[10] and min(lrs) >= 0.1


def test_training_lowers_the_loss_on_a_fixed_set(tiny_workdir, tiny_packs):
    train, _ = tiny_packs
    mc = dataclasses.replace(TINY, audio_encoder="mel", audio_dim=160)
    tc = dataclasses.replace(TINY_TRAIN, steps=60, lr=3e-3, warmup=5, val_every=60, save_every=60, ema_decay=0.9)
    out = fit(train, train, tiny_workdir / "overfit", mc, tc, seed=0)
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    first, last = np.mean([r["simple"] for r in rows[:10]]), np.mean([r["simple"] for r in rows[-10:]])
    assert last < 0.8 * first


def test_resume_continues_exactly(tmp_path, tiny_packs):
    train, val = tiny_packs
    mc = dataclasses.replace(TINY, audio_encoder="mel", audio_dim=160)
    tc = dataclasses.replace(TINY_TRAIN, steps=4)
    fit(train, val, tmp_path / "straight", mc, tc, seed=1)
    fit(train, val, tmp_path / "resumed", mc, tc, seed=1, until=2)
    assert json.loads((tmp_path / "resumed" / "config.json").read_text())["step"] == 2
    with open(tmp_path / "resumed" / "log.jsonl", "a") as f:      # a step logged after the last checkpoint
        f.write(json.dumps({"step": 3, "time": 9.0}) + "\n")
    fit(train, val, tmp_path / "resumed", mc, tc, seed=1)
    steps = [json.loads(line)["step"] for line in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    a = load_file(str(tmp_path / "straight" / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "model.safetensors"))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    with pytest.raises(TalkstyleError, match="another model config"):
        fit(train, val, tmp_path / "resumed", dataclasses.replace(mc, d_model=48), tc)


def test_train_api_writes_a_loadable_checkpoint(tiny_checkpoint):
    run = tiny_checkpoint
    config = json.loads((run / "config.json").read_text())
    assert config["step"] == 4 and config["model"]["audio_encoder"] == "mel"
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and "val" in rows[-1]
    assert (run / "train_state.safetensors").is_file()


def test_cli_train_bad_data_is_one_line_exit_2(tmp_path, talkstyle, user_error):
    user_error(talkstyle("train", "--data", tmp_path / "nope", "-o", tmp_path / "run"), "not found")
    assert not (tmp_path / "run").exists()


def test_init_starts_from_a_checkpoint_and_refuses_another_config(tiny_checkpoint, tiny_workdir, tiny_packs):
    from talkstyle.model.checkpoint import load_generator

    train, val = tiny_packs
    mc = dataclasses.replace(TINY, audio_encoder="mel", audio_dim=160)
    tc = dataclasses.replace(TINY_TRAIN, steps=1, lr=1e-9, warmup=1)          # one step that barely moves
    source = load_generator(tiny_checkpoint).state_dict()
    tuned = fit(train, val, tiny_workdir / "init", mc, tc, seed=5, init=tiny_checkpoint)
    fresh = fit(train, val, tiny_workdir / "no_init", mc, tc, seed=5)
    key = "denoiser.start_motion"
    near = load_file(str(tuned / "model.safetensors"))
    far = load_file(str(fresh / "model.safetensors"))
    assert np.allclose(near[key], source[key].numpy(), atol=1e-4)
    assert not np.allclose(far[key], source[key].numpy(), atol=1e-4)
    other = dataclasses.replace(mc, d_model=48)
    with pytest.raises(TalkstyleError, match="another model config"):
        fit(train, val, tiny_workdir / "init_other", other, tc, seed=5, init=tiny_checkpoint)
