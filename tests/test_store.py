"""The dataset store and stage V augmentation."""
from __future__ import annotations

import json

import numpy as np
import pytest

from talkstyle.data.augment import add_nod, add_shake, augment_clip
from talkstyle.data.prompts import sample_prompts
from talkstyle.text.parse import parse_prompt
from talkstyle.data.records import SynthClip
from talkstyle.vocab.attributes import Phone
from talkstyle.data.store import Dataset, split_for_person
from talkstyle.errors import TalkstyleError
from talkstyle.face.motion import FaceMotion


def make_clip(seconds: float = 6.0, person: str = "p1", seed: int = 0) -> SynthClip:
    rng = np.random.default_rng(seed)
    n = int(seconds * 25)
    weights = rng.uniform(0, 1, (n, 52))
    head = np.stack([0.05 * np.sin(np.arange(n) / 10), 0.03 * np.cos(np.arange(n) / 7), np.zeros(n)], 1)
    audio = (0.1 * rng.standard_normal(int(seconds * 16000))).astype(np.float32)
    prompt = sample_prompts(1, seed=seed)[0]
    return SynthClip(FaceMotion(weights, head, 25.0, audio=audio, sample_rate=16000), prompt,
                     "Bob packed a big map.", person, phones=[Phone("b", 0.1, 0.2), Phone("ɑ", 0.2, 0.4)])


def test_add_and_load_round_trip(tmp_path):
    ds = Dataset(tmp_path / "ds", create=True)
    clip = make_clip()
    cid = ds.add(clip, "c1", backend="test")
    rec = Dataset(tmp_path / "ds").record(cid)
    assert rec.prompt == clip.prompt and rec.line == clip.line and rec.person == "p1"
    assert rec.phones == clip.phones and rec.split == split_for_person("p1")
    np.testing.assert_allclose(rec.motion.weights, clip.motion.weights, atol=1e-6)
    np.testing.assert_allclose(rec.motion.audio, clip.motion.audio)
    assert (tmp_path / "ds" / "clips" / "c1.wav").stat().st_size > 6 * 16000 * 2
    row = ds.compact().iloc[0]
    assert row["duration"] == 6.0 and row["family"] == clip.prompt.attributes.family and row["augmented"] == ""
    assert ds.verify() == []


def test_add_without_id_is_stable_and_other_rates_are_resampled(tmp_path):
    ds = Dataset(tmp_path, create=True)
    clip = make_clip(2.0)
    clip.motion = clip.motion.resample(30.0)
    a, b = ds.add(clip), ds.add(clip)
    assert a == b and len(ds) == 1 and ds.record(a).motion.fps == 25.0


def test_verify_finds_tampered_and_missing_files(tmp_path):
    ds = Dataset(tmp_path, create=True)
    ds.add(make_clip(2.0), "c1")
    ds.add(make_clip(2.0, seed=1), "c2")
    ds.compact()
    (tmp_path / "clips" / "c1.npz").write_bytes(b"garbage")
    (tmp_path / "clips" / "c2.npz").unlink()
    problems = ds.verify()
    assert any("c1: size mismatch" in p for p in problems) and any("c2: missing" in p for p in problems)
    (tmp_path / "clips" / "c2.npz").write_bytes(b"x" * json.loads((tmp_path / "rows" / "c2.json").read_text())["size"])
    assert any("c2: checksum" in p for p in ds.verify())       # same size, other bytes


def test_manifest_follows_the_row_log_and_partial_files_are_cleaned(tmp_path):
    ds = Dataset(tmp_path, create=True)
    ds.add(make_clip(2.0), "c1")
    ds.compact()
    ds.add(make_clip(2.0, seed=1), "c2")  # a crash before compaction: the row log is the truth
    assert list(Dataset(tmp_path).manifest["clip_id"]) == ["c1", "c2"]
    ds.compact()
    changed = make_clip(3.0, seed=2)
    ds.add(changed, "c1")  # a row rewritten after compaction: same count, newer content
    assert Dataset(tmp_path).manifest.set_index("clip_id").loc["c1", "duration"] == 3.0
    (tmp_path / "clips" / ".c3.npz.abc.npz").write_bytes(b"half")
    (tmp_path / "clips" / "c3.npz").write_bytes(b"no row yet")  # files written, row not: not done
    assert not ds.has("c3") and ds.clean_partial() == 1
    assert not (tmp_path / "clips" / ".c3.npz.abc.npz").exists()


def test_windows_cover_clips_with_context(tmp_path):
    ds = Dataset(tmp_path, create=True)
    ds.add(make_clip(10.0), "long", split="train")   # 250 frames
    ds.add(make_clip(2.0, seed=1), "short", split="train")  # 50 frames
    ds.add(make_clip(4.0, seed=2), "other", split="test")
    wins = list(ds.windows("train", length=100, context=10))
    by = {(w.clip_id, w.start): w for w in wins}
    assert sorted(by) == [("long", 0), ("long", 100), ("long", 200), ("short", 0)]
    assert by[("long", 0)].context is None and by[("long", 100)].context.num_frames == 10
    np.testing.assert_array_equal(by[("long", 100)].context.weights, ds.record("long").motion.weights[90:100])
    assert by[("long", 100)].motion.num_frames == 100 and len(by[("long", 100)].motion.audio) == 64000
    assert by[("long", 200)].motion.num_frames == 50 and by[("short", 0)].motion.num_frames == 50
    with pytest.raises(TalkstyleError):
        list(ds.windows("training"))


def test_bad_input(tmp_path):
    with pytest.raises(TalkstyleError, match="not a talkstyle dataset"):
        Dataset(tmp_path / "nothing")
    ds = Dataset(tmp_path, create=True)
    with pytest.raises(TalkstyleError, match="clip id"):
        ds.add(make_clip(1.0), "../escape")
    with pytest.raises(TalkstyleError, match="no clip"):
        ds.record("nope")


@pytest.mark.parametrize("gesture, axis, head, word", [(add_nod, 0, "nod", "nodding"),
                                                       (add_shake, 1, "shake", "shaking")])
def test_augmentation_changes_head_only_and_updates_the_prompt(gesture, axis, head, word):
    clip = make_clip(6.0)
    motion, prompt = gesture(clip.motion, clip.prompt, np.random.default_rng(0))
    np.testing.assert_array_equal(motion.weights, clip.motion.weights)
    np.testing.assert_array_equal(motion.audio, clip.motion.audio)
    delta = np.degrees(motion.head - clip.motion.head)
    assert 3 < np.abs(delta[:, axis]).max() <= 15.01
    assert np.abs(np.delete(delta, axis, 1)).max() == 0
    assert word in prompt.text and prompt.attributes.head_motion == head
    assert parse_prompt(prompt.text, use_encoder=False).head_motion == head
    # smooth: no frame-to-frame jump beyond what 15 degrees at 3 Hz allows (2*pi*3*15/25 ~ 11 deg)
    assert np.abs(np.diff(delta[:, axis])).max() < 12


def test_augment_clip_keeps_person_line_and_phones():
    clip = make_clip(4.0)
    aug = augment_clip(clip, "shake", np.random.default_rng(1))
    assert (aug.person, aug.line, aug.phones) == (clip.person, clip.line, clip.phones)
    assert aug.prompt.attributes.head_motion == "shake" and aug.motion.metadata["augmented"] == "shake"
