"""Stage II text-to-video backends on tiny random-weight LTX-2 / Wan pipelines, on CPU.

The pipelines are built from configs (tests/tiny_pipelines.py), saved with save_pretrained and
loaded back from the folder exactly like downloaded weights.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from talkstyle.vocab.attributes import Prompt, StyleAttributes
from talkstyle.data.synth.base import SynthJob
from talkstyle.data.synth.video_models import DiffusersVideoBackend, VideoModelOptions, speech_prompt
from talkstyle.errors import TalkstyleError
from tiny_pipelines import build_tiny_ltx2, build_tiny_wan

TINY = dict(dtype="float32", height=32, width=32, num_frames=9, steps=2)
TINY_ARGS = ["--dtype", "float32", "--height", "32", "--width", "32", "--num-frames", "9", "--steps", "2"]
JOB = SynthJob("clip-0", Prompt("A young lady speaks with a strong delighted expression.", StyleAttributes()),
               "Bring me a big map of the harbour.", "person-0", seed=7)


@pytest.fixture(scope="module", autouse=True)
def _threads():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def ltx2_dir(tmp_path_factory) -> Path:
    return build_tiny_ltx2(tmp_path_factory.mktemp("ltx2"))


@pytest.fixture(scope="module")
def wan_dir(tmp_path_factory) -> Path:
    return build_tiny_wan(tmp_path_factory.mktemp("wan"))


def streams(path: Path) -> dict[str, int]:
    """Stream type -> number of decoded frames."""
    counts: dict[str, int] = {}
    with av.open(str(path)) as c:
        for frame in c.decode(*c.streams):
            kind = "video" if isinstance(frame, av.VideoFrame) else "audio"
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def test_speech_line_is_folded_into_the_prompt_for_ltx2_only():
    with_line = speech_prompt(JOB, with_line=True)
    assert with_line.startswith('A young lady speaks with a strong delighted expression, saying: "Bring me a big')
    assert "saying" not in speech_prompt(JOB, with_line=False)


def test_ltx2_clip_has_video_and_speech_audio_and_is_seeded(ltx2_dir, tmp_path):
    backend = DiffusersVideoBackend(VideoModelOptions("ltx2", ltx2_dir, **TINY))
    assert backend.has_speech_audio
    video = backend.synthesize(JOB, tmp_path).video
    assert video == tmp_path / "clip-0.mp4"
    found = streams(video)
    assert found["video"] == 9 and found["audio"] > 0
    frames, audio = backend.sample(JOB)
    again, _ = backend.sample(JOB)
    other, _ = backend.sample(SynthJob(**{**JOB.__dict__, "seed": 8}))
    assert frames.shape == (9, 32, 32, 3) and audio.ndim == 2
    np.testing.assert_array_equal(frames, again)
    assert np.abs(frames - other).max() > 1e-3


def test_wan_clip_is_video_only(wan_dir, tmp_path):
    backend = DiffusersVideoBackend(VideoModelOptions("wan", wan_dir, **TINY))
    assert not backend.has_speech_audio
    found = streams(backend.synthesize(JOB, tmp_path).video)
    assert found == {"video": 9}


def _broken(src: Path, dst: Path, how: str) -> Path:
    if how == "no_index":
        dst.mkdir()
        return dst
    shutil.copytree(src, dst)
    if how == "missing_component":
        shutil.rmtree(dst / "vocoder")
    elif how == "missing_weights":
        for f in (dst / "transformer").glob("*.safetensors"):
            f.unlink()
    elif how == "other_pipeline":
        index = json.loads((dst / "model_index.json").read_text())
        (dst / "model_index.json").write_text(json.dumps({**index, "_class_name": "WanPipeline"}))
    return dst


@pytest.mark.parametrize("how, message", [
    ("no_index", "no model_index.json"),
    ("missing_component", "missing component(s) vocoder"),
    ("missing_weights", "cannot load LTX2Pipeline"),
    ("other_pipeline", "holds a WanPipeline, not a LTX2Pipeline; use --backend wan"),
])
def test_bad_model_folders_raise_a_clear_error(ltx2_dir, tmp_path, how, message):
    folder = _broken(ltx2_dir, tmp_path / "model", how)
    with pytest.raises(TalkstyleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DiffusersVideoBackend(VideoModelOptions("ltx2", folder, **TINY))


def test_cpu_offload_without_gpu_is_a_clear_error(wan_dir):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(TalkstyleError, match="--cpu-offload needs a CUDA GPU"):
        DiffusersVideoBackend(VideoModelOptions("wan", wan_dir, cpu_offload=True, **TINY))


# ------------------------------------------------------------------------------ the command
def synth_cli(*args: str):
    """`talkstyle data synth ...` in this process (imports are paid once for the whole file)."""
    from typer.testing import CliRunner

    from talkstyle.cli import app

    result = CliRunner().invoke(app, ["data", "synth", *TINY_ARGS, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return re.search(r"\d+ videos made.*", result.output).group(0)  # the summary (progress bars precede it)


def video_rows(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "videos").glob("*.json"))]


def test_command_ltx2_rows_with_video_and_audio_and_resume(ltx2_dir, tmp_path):
    out = tmp_path / "ds"
    summary = synth_cli("--backend", "ltx2", "--model-dir", str(ltx2_dir), "--n", "2", "--out", str(out),
                        "--no-capture")
    assert summary.startswith("2 videos made")
    rows = video_rows(out)
    assert [r["clip_id"] for r in rows] == ["ltx2-s0-000000", "ltx2-s0-000001"]
    for r in rows:
        assert r["status"] == "pending_capture" and r["has_speech_audio"] and r["line"]
        assert r["prompt"]["text"] and r["prompt"]["family"]
        found = streams(out / r["video_path"])
        assert found["video"] == 9 and found["audio"] > 0

    # Interrupted after the second video was written but before its row: rerun with more clips.
    (out / "videos" / "ltx2-s0-000001.json").unlink()
    (out / "videos" / ".ltx2-s0-000002.mp4.tmp.mp4").write_bytes(b"partial")
    summary = synth_cli("--backend", "ltx2", "--model-dir", str(ltx2_dir), "--n", "3", "--out", str(out),
                        "--no-capture")
    assert summary.startswith("2 videos made") and "1 already done" in summary
    assert len(video_rows(out)) == 3 and not list((out / "videos").glob(".*"))
    # Nothing left to do: nothing is loaded or made again.
    summary = synth_cli("--backend", "ltx2", "--model-dir", str(ltx2_dir), "--n", "3", "--out", str(out),
                        "--no-capture")
    assert summary.startswith("0 videos made") and "3 already done" in summary
    # With capture, the pending videos are captured without sampling them again. Random weights
    # make noise, not faces: capture rejects them and the log says why.
    summary = synth_cli("--backend", "ltx2", "--model-dir", str(ltx2_dir), "--n", "3", "--out", str(out))
    assert summary.startswith("0 videos made, 3 captured from earlier") and "3 rejected" in summary
    assert {(r["status"], r["reason"]) for r in video_rows(out)} == {("rejected", "no face found in the video")}


def test_command_wan_rows_have_no_speech(wan_dir, tmp_path):
    out = tmp_path / "ds"
    synth_cli("--backend", "wan", "--model-dir", str(wan_dir), "--n", "1", "--out", str(out), "--no-capture")
    (row,) = video_rows(out)
    assert row["clip_id"] == "wan-s0-000000" and not row["has_speech_audio"] and row["line"] == ""
    assert streams(out / row["video_path"]) == {"video": 9}


@pytest.mark.slow   # 21.6 s: starts a Ray cluster (--durations)
def test_command_on_ray_matches_the_local_run(ltx2_dir, tmp_path):
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    synth_cli("--backend", "ltx2", "--model-dir", str(ltx2_dir), "--n", "2", "--out", str(local), "--no-capture")
    summary = synth_cli("--backend", "ltx2", "--model-dir", str(ltx2_dir), "--n", "2", "--out", str(on_ray),
                        "--ray", "--workers", "1")
    assert summary.startswith("2 videos made") and "2 rejected" in summary  # captured on Ray CPU tasks
    # Same ids, prompts and seeds: the actor's videos are byte for byte the local loop's.
    assert [(r["clip_id"], r["prompt"], r["sha256"]) for r in video_rows(on_ray)] == \
        [(r["clip_id"], r["prompt"], r["sha256"]) for r in video_rows(local)]


def test_bad_model_folder_exits_2_with_one_line(tmp_path, talkstyle):
    folder = tmp_path / "model"
    folder.mkdir()
    proc = talkstyle("data", "synth", "--backend", "ltx2", "--model-dir", folder, "--out", tmp_path / "ds", "--n", "1",
                     timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {folder} is not a diffusers model folder (no model_index.json); " \
                                  "download the LTX2Pipeline weights in diffusers format"
    assert not (tmp_path / "ds").exists()


@pytest.mark.parametrize("backend, change, message", [
    ("ltx2", {"height": 48}, "multiples of 32"),
    ("ltx2", {"num_frames": 10}, "8k[+]1"),
    ("wan", {"width": 40}, "multiples of 16"),
    ("wan", {"dtype": "float64"}, "--dtype must be one of"),
])
def test_sampling_settings_are_checked_before_loading(backend, change, message, tmp_path):
    with pytest.raises(TalkstyleError, match=message):
        VideoModelOptions(backend, tmp_path, **{**TINY, **change}).resolved()


def test_captured_clips_join_the_manifest_and_rejected_ones_keep_their_reason(ltx2_dir, tmp_path):
    from talkstyle.data.records import SynthClip
    from talkstyle.data.scale import SynthDone, plan_jobs
    from talkstyle.data.store import Dataset
    from talkstyle.data.synth.video_rows import VideoLog, store_done
    from talkstyle.face.motion import FaceMotion

    dataset, log = Dataset(tmp_path / "ds", create=True), VideoLog(tmp_path / "ds")
    backend = DiffusersVideoBackend(VideoModelOptions("ltx2", ltx2_dir, **TINY))
    kept, rejected = plan_jobs("ltx2", 2, seed=0)
    for job in (kept, rejected):
        backend.synthesize(job, log.dir)
    motion = FaceMotion.neutral(9)
    motion.audio, motion.sample_rate = np.zeros(5760, np.float32), 16000
    store_done(SynthDone(kept, log.video_path(kept.clip_id), True,
                         SynthClip(motion, kept.prompt, kept.line, kept.person)), dataset, log, "ltx2")
    store_done(SynthDone(rejected, log.video_path(rejected.clip_id), True, capture_error="no face found"),
               dataset, log, "ltx2")

    (row,) = dataset.compact().to_dict("records")
    assert row["clip_id"] == kept.clip_id and row["backend"] == "ltx2" and row["prompt"] == kept.prompt.text
    assert row["video_path"] == f"clips/{kept.clip_id}.mp4" and row["audio_path"]
    assert streams(dataset.root / row["video_path"])["audio"] > 0
    assert not log.video_path(kept.clip_id).exists()          # moved beside the motion, not copied
    assert log.get(kept.clip_id).status == "captured"
    assert log.get(kept.clip_id).video_path == row["video_path"]
    assert (log.get(rejected.clip_id).status, log.get(rejected.clip_id).reason) == ("rejected", "no face found")


def test_capture_of_a_real_face_video_keeps_video_only_clips_and_needs_speech_for_ltx2(tmp_path):
    from talkstyle.data.capture.footage import write_photo_video
    from talkstyle.data.scale import capture_generated, plan_jobs

    video = write_photo_video(tmp_path / "face.mp4", seconds=2.0, size=192)   # a real face, no audio track
    job = plan_jobs("wan", 1, seed=0)[0]
    clip = capture_generated(video, job, has_speech_audio=False)
    assert clip.motion.num_frames == 50 and clip.motion.audio is None and not clip.has_speech_audio
    assert clip.line == "" and clip.person == job.person and clip.motion.metadata["filter"]["tracked"] == 1.0
    with pytest.raises(TalkstyleError, match="no audio"):
        capture_generated(video, job, has_speech_audio=True)
