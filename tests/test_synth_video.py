"""Stage II text-to-video backends on tiny random-weight LTX-2 / Wan pipelines, on CPU.

The pipelines are built from configs (tests/tiny_pipelines.py), saved with save_pretrained and
loaded back from the folder exactly like downloaded weights.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from talkstyle.data.records import Prompt, StyleAttributes
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
