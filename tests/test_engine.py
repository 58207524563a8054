"""`data build`: planning, person splits, resume after a crash, idempotent reruns, workers.

The engine runs here with a small placeholder backend (a real SynthBackend with simple,
deterministic motion), so these tests do not depend on the speed of the procedural actor.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from talkstyle.data import engine
from talkstyle.data.records import SynthClip
from talkstyle.data.store import Dataset
from talkstyle.data.synth.base import SynthJob, SynthResult
from talkstyle.errors import TalkstyleError
from talkstyle.face.motion import FaceMotion

pytestmark = pytest.mark.slow           # trains models or builds datasets

BACKEND = "test_engine:PlaceholderBackend"


class PlaceholderBackend:
    """Speaks each word as a 0.3 s tone burst and opens the jaw with it; the head sways."""
    name = "placeholder"

    def synthesize(self, job: SynthJob, workdir: Path) -> SynthResult:
        if not job.line.strip():
            raise TalkstyleError("the line to speak is empty")
        rng = np.random.default_rng(job.seed)
        words = len(job.line.split())
        n = words * 8 + 10
        t = np.arange(n) / 25
        weights = np.zeros((n, 52))
        weights[:, 17] = 0.5 * job.prompt.attributes.level * (1 + np.sin(2 * np.pi * 1.7 * t)) / 2  # jawOpen
        head = 0.05 * np.stack([np.sin(t + rng.uniform(0, 6)), np.sin(0.7 * t), np.zeros(n)], 1)
        sr = 16000
        ts = np.arange(int(n / 25 * sr)) / sr
        audio = (0.2 * np.sin(2 * np.pi * 180 * ts) * (np.sin(2 * np.pi * 1.7 * ts) > 0)).astype(np.float32)
        motion = FaceMotion(weights, head, 25.0, audio=audio, sample_rate=sr)
        return SynthResult(clip=SynthClip(motion, job.prompt, job.line, job.person))


def manifest_without_checksums(root: Path):
    # The .npz zip entries carry a write time, so checksums differ between builds; contents do not.
    return Dataset(root).manifest.drop(columns=["sha256"]).reset_index(drop=True)


def test_person_pool_splits_every_group():
    pool = engine.person_pool(seed=0, per_group=8)
    assert len(pool) == 64 and len({p.id for p in pool}) == 64
    for g in ("female", "male"):
        for a in engine.AGE_GROUPS:
            splits = sorted(p.split for p in pool if (p.gender, p.age_group) == (g, a))
            assert splits.count("val") == 1 and splits.count("test") == 1 and splits.count("train") == 6
    with pytest.raises(TalkstyleError):
        engine.person_pool(0, per_group=2)


def test_plan_matches_persons_to_subjects_and_extends():
    pool = engine.person_pool(1)
    kinds = {p.id: (p.gender, p.age_group) for p in pool}
    items = engine.plan(0.3, seed=1, persons=pool)
    assert sum(it.estimated_s for it in items) >= 0.3 * 3600
    for it in items:
        a = it.job.prompt.attributes
        assert kinds[it.job.person] == (a.gender, a.age_group)
        assert not it.augment or a.head_motion in ("still", "natural")
    assert engine.plan(0.6, seed=1, persons=pool)[:len(items)] == items
    assert 0.05 < np.mean([bool(it.augment) for it in items]) < 0.2
    with pytest.raises(TalkstyleError):
        engine.plan(0, 1, pool)


def test_build_is_idempotent_and_splits_hold_out_persons(tmp_path):
    s = engine.build(tmp_path, 0.02, seed=2, backend=BACKEND, augment_frac=0.5, progress=False)
    assert s.done == s.planned and not s.failed
    df = Dataset(tmp_path).manifest
    assert len(df) > s.planned and (df["augmented"] != "").any()  # augmented copies are extra rows
    aug = df[df["augmented"] != ""].iloc[0]
    src = df[df["clip_id"] == aug["source_clip"]].iloc[0]
    assert (aug["person"], aug["split"], aug["line"]) == (src["person"], src["split"], src["line"])
    assert aug["head_motion"] == aug["augmented"] and aug["prompt"] != src["prompt"]
    persons = {sp: set(df[df["split"] == sp]["person"]) for sp in ("train", "val", "test")}
    assert not (persons["train"] & persons["val"]) and not (persons["train"] & persons["test"])
    assert not (persons["val"] & persons["test"])
    before = manifest_without_checksums(tmp_path)
    again = engine.build(tmp_path, 0.02, seed=2, backend=BACKEND, augment_frac=0.5, progress=False)
    assert again.done == 0 and again.skipped == s.planned
    assert manifest_without_checksums(tmp_path).equals(before)
    with pytest.raises(TalkstyleError, match="seed"):
        engine.build(tmp_path, 0.02, seed=3, backend=BACKEND, augment_frac=0.5, progress=False)


def test_resume_after_a_crash_gives_the_same_manifest(tmp_path, monkeypatch):
    engine.build(tmp_path / "whole", 0.02, seed=4, backend=BACKEND, progress=False)

    calls = {"n": 0}
    real_add = Dataset.add

    def crashing_add(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the build
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(Dataset, "add", crashing_add)
    with pytest.raises(KeyboardInterrupt):
        engine.build(tmp_path / "resumed", 0.02, seed=4, backend=BACKEND, progress=False)
    monkeypatch.setattr(Dataset, "add", real_add)
    partial = Dataset(tmp_path / "resumed")
    assert 0 < len(partial) < len(Dataset(tmp_path / "whole"))
    # kill -9 leftovers: a half-written temp file and clip files without a row
    clips = tmp_path / "resumed" / "clips"
    (clips / ".c000009.npz.x1y2.npz").write_bytes(b"partial")
    (clips / "c000009.npz").write_bytes(b"written before the row")
    s = engine.build(tmp_path / "resumed", 0.02, seed=4, backend=BACKEND, progress=False)
    assert s.skipped == len(partial.manifest[partial.manifest["augmented"] == ""]) and not s.failed
    assert manifest_without_checksums(tmp_path / "resumed").equals(manifest_without_checksums(tmp_path / "whole"))
    assert Dataset(tmp_path / "resumed").verify() == [] and not list(clips.glob(".*"))


def test_failing_jobs_leave_no_rows(tmp_path, monkeypatch):
    real = PlaceholderBackend.synthesize

    def flaky(self, job, workdir):
        if job.clip_id.endswith("3"):
            raise RuntimeError("backend bug")
        return real(self, job, workdir)

    monkeypatch.setattr(PlaceholderBackend, "synthesize", flaky)
    s = engine.build(tmp_path, 0.02, seed=5, backend=BACKEND, progress=False)
    assert s.failed and all("backend bug" in f for f in s.failed)
    assert not any(c.endswith("3") for c in Dataset(tmp_path).manifest["clip_id"])


def test_two_workers_build_the_same_dataset(tmp_path):
    engine.build(tmp_path / "one", 0.01, seed=6, backend=BACKEND, progress=False)
    s = engine.build(tmp_path / "two", 0.01, seed=6, workers=2, backend=BACKEND, progress=False)
    assert not s.failed
    assert manifest_without_checksums(tmp_path / "two").equals(manifest_without_checksums(tmp_path / "one"))


def test_cli_build_errors(tmp_path, talkstyle, user_error):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file.txt").write_text("x")
    build = ("data", "build", "--hours", "0.01")
    user_error(talkstyle(*build, "--out", tmp_path / "junk"), "not a talkstyle dataset")
    user_error(talkstyle(*build, "--out", tmp_path / "new", "--backend", "nowhere:Nothing"), "unknown synthesis backend")
    user_error(talkstyle(*build[:-2], "--hours", "-1", "--out", tmp_path / "neg"), "--hours must be positive")
    assert not (tmp_path / "neg").exists()


def test_build_with_the_procedural_actor(tmp_path):
    s = engine.build(tmp_path, 0.004, seed=8, progress=False)  # the default backend, two or three clips
    assert s.done >= 2 and not s.failed
    ds = Dataset(tmp_path)
    rec = ds.records()[0]
    assert rec.phones and rec.motion.audio is not None and rec.motion.sample_rate == 16000
    assert abs(rec.motion.duration - len(rec.motion.audio) / 16000) < 0.05
    assert ds.manifest["backend"].eq("procedural").all() and ds.verify() == []
    assert list(s.voices) == ds.config()["voices"] and "espeak" in s.voices   # the build says its voices


def test_a_build_keeps_its_voices_and_refuses_unknown_ones(tmp_path):
    s = engine.build(tmp_path, 0.004, seed=8, voices="espeak", progress=False)
    assert s.voices == ("espeak",)
    again = engine.build(tmp_path, 0.006, seed=8, voices="all", progress=False)   # extends: same voices
    assert again.voices == ("espeak",) and Dataset(tmp_path).config()["voices"] == ["espeak"]
    with pytest.raises(TalkstyleError, match="unknown voice"):
        engine.build(tmp_path / "x", 0.004, seed=8, voices="espeak,robot", progress=False)


def test_render_writes_a_preview_with_audio(tmp_path):
    import av

    s = engine.build(tmp_path, 0.0005, seed=9, backend=BACKEND, augment_frac=0, render=True, progress=False)
    assert s.done == 1 and not s.failed
    row = Dataset(tmp_path).manifest.iloc[0]
    with av.open(str(tmp_path / row["video_path"])) as c:
        assert {st.type for st in c.streams} == {"video", "audio"}
        assert abs(c.duration / 1e6 - row["duration"]) < 0.2
