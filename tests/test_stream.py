"""The streaming animator (talkstyle.stream) with the shipped streaming model: incremental
features, chunking, silence, clipping, reset, independent animators, style changes, bad input."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from talkstyle import assets
from talkstyle.audio import load_audio
from talkstyle.audio.incremental import IncrementalMel, log_mel_frames, normalise
from talkstyle.errors import TalkstyleError
from talkstyle.stream import Frame, StreamAnimator, animate_stream, frames_to_motion, stream

SR = 16000


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return load_audio(assets.path("demo_speech.wav"))[:3 * SR]


def run(animator: StreamAnimator, audio: np.ndarray, chunk: int) -> list[Frame]:
    frames = []
    for i in range(0, len(audio), chunk):
        frames += animator.push(audio[i:i + chunk])
    return frames + animator.flush()


def as_array(frames: list[Frame]) -> np.ndarray:
    return np.stack([np.concatenate([f.weights, f.head]) for f in frames])


def test_incremental_mel_equals_whole_clip() -> None:
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(SR)).astype(np.float32)
    whole = normalise(log_mel_frames(audio, 25))
    mel, parts, i = IncrementalMel(), [], 0
    while i < len(audio):
        n = int(rng.integers(1, 900))
        parts.append(mel.push(audio[i:i + n]))
        i += n
    parts.append(mel.push(np.zeros(1000, np.float32)))
    assert np.abs(np.concatenate(parts)[:25] - whole).max() < 1e-5


def test_frames_do_not_depend_on_chunking(speech: np.ndarray) -> None:
    clip = speech[:SR // 2]
    a = StreamAnimator(None)
    one_sample = run(a, clip, 1)
    whole = run(StreamAnimator(None), clip, SR)
    forty_ms = run(StreamAnimator(None), clip, 640)
    assert [f.index for f in one_sample] == list(range(round(len(clip) / 640)))
    assert np.abs(as_array(one_sample) - as_array(whole)).max() < 1e-4
    assert np.abs(as_array(forty_ms) - as_array(whole)).max() < 1e-4


def test_frames_leave_after_the_look_ahead(speech: np.ndarray) -> None:
    a = StreamAnimator(None)
    assert 0.1 <= a.latency <= 0.2
    frames = a.push(speech[:SR])            # 1 s: 25 frames, minus those still waiting for look-ahead
    assert [f.index for f in frames] == list(range(25 - a.lookahead - 1))
    assert [f.time for f in frames[:3]] == [0.0, 0.04, 0.08]
    rest = a.flush()
    assert [f.index for f in rest] == list(range(len(frames), 25))


def test_silence_clipping_and_values_in_range(speech: np.ndarray) -> None:
    silence = run(StreamAnimator(None), np.zeros(SR, np.float32), 640)
    clipped = run(StreamAnimator(None), np.clip(speech * 40, -1, 1), 640)
    loud = run(StreamAnimator(None), speech * 40, 640)       # out of [-1, 1]: clipped as a sound card would
    for frames in (silence, clipped, loud):
        x = as_array(frames)
        assert np.isfinite(x).all() and (x[:, :52] >= 0).all() and (x[:, :52] <= 1).all()
        assert (np.abs(x[:, 52:]) < np.pi / 2).all()
    assert np.abs(as_array(clipped) - as_array(loud)).max() < 1e-6
    assert np.ptp(as_array(silence)[:, 24]) < 0.1            # jawOpen barely moves in silence


def test_the_shipped_model_opens_and_closes_the_mouth_with_speech(speech: np.ndarray) -> None:
    from talkstyle.face.rig import FaceRig

    motion = animate_stream(speech, None)
    gap = FaceRig.default().mouth_opening(motion)
    quiet = FaceRig.default().mouth_opening(animate_stream(np.zeros(SR, np.float32), None))
    assert np.percentile(gap, 90) > 4.0 > np.percentile(quiet, 90)       # open on vowels, not in silence
    assert np.percentile(gap, 10) < 1.5                                  # and closed between


def test_reset_and_two_animators_share_no_state(speech: np.ndarray) -> None:
    a, b = StreamAnimator(None), StreamAnimator(None)
    alone = run(StreamAnimator(None), speech, 640)
    a.push(speech[::-1][:SR])               # other audio first, then reset
    a.reset()
    fa, fb = [], []
    for i in range(0, len(speech), 640):    # interleaved: a gets the speech, b gets silence
        fa += a.push(speech[i:i + 640])
        fb += b.push(np.zeros(640, np.float32))
    fa += a.flush()
    assert np.abs(as_array(fa) - as_array(alone)).max() < 1e-5
    assert len(fb) == len(fa) - a.lookahead - 1


def test_style_change_mid_stream_fades_in(speech: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calm = StreamAnimator("A man speaks with a calm neutral expression")
        changed = StreamAnimator("A man speaks with a calm neutral expression")
    half = 1 * SR
    base = run(calm, speech, 640)
    first = changed.push(speech[:half])
    changed.set_style("A woman speaks with an intensely happy expression, smiling")
    after = changed.push(speech[half:]) + changed.flush()
    x, y = as_array(base), as_array(first + after)
    k = len(first)
    assert np.abs(x[:k] - y[:k]).max() < 1e-5
    assert np.abs(x[-10:] - y[-10:]).mean() > np.abs(x[k:k + 1] - y[k:k + 1]).mean()   # the change grows


def test_stream_iterator_and_json(speech: np.ndarray) -> None:
    chunks = (speech[i:i + 320] for i in range(0, SR, 320))
    frames = list(stream(chunks, style=None))
    assert len(frames) == 25
    j = frames[3].to_json()
    assert set(j) == {"i", "t", "w", "head"} and j["i"] == 3 and len(j["w"]) == 52 and len(j["head"]) == 3
    json.dumps(j)
    motion = animate_stream(speech[:SR], None, chunk_seconds=0.02)
    assert np.allclose(motion.weights, frames_to_motion(frames, 25.0).weights)


def test_bad_input_is_a_clear_error() -> None:
    a = StreamAnimator(None)
    with pytest.raises(TalkstyleError, match="NaN"):
        a.push(np.array([0.0, np.nan], np.float32))
    with pytest.raises(TalkstyleError, match="float samples"):
        a.push(np.zeros(10, np.int16))
    with pytest.raises(TalkstyleError, match="mono"):
        a.push(np.zeros((2, 10), np.float32))
    with pytest.raises(TalkstyleError, match="threads"):
        StreamAnimator(None, threads=0)
    with pytest.raises(TalkstyleError, match="style"):
        StreamAnimator(3)                    # type: ignore[arg-type]
    with pytest.raises(TalkstyleError, match="streaming model"):
        StreamAnimator(None, checkpoint=assets.path("model"))
    assert a.push(np.zeros(0, np.float32)) == [] and a.flush() == []


def test_onnx_export_gives_the_same_frames(speech: np.ndarray, tmp_path) -> None:
    from talkstyle.stream_onnx import OnnxAnimator, export_onnx

    prompt = "A woman speaks with a strong happy expression"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_onnx(tmp_path, styles=[prompt])
        torch_frames, onnx_frames = [], []
        a, o = StreamAnimator(prompt, lip_contact="log-mel"), OnnxAnimator(tmp_path, prompt)
    rng = np.random.default_rng(1)
    i = 0
    while i < 2 * SR:                       # uneven chunks: the buffering must match too
        n = int(rng.integers(1, 2000))
        torch_frames += a.push(speech[i:i + n])
        onnx_frames += o.push(speech[i:i + n])
        i += n
    assert [f.index for f in onnx_frames] == [f.index for f in torch_frames]
    assert np.abs(as_array(onnx_frames) - as_array(torch_frames)).max() < 1e-4     # the stated tolerance
    with pytest.raises(TalkstyleError, match="not exported"):
        OnnxAnimator(tmp_path, "A sad man")


@pytest.mark.parametrize("features", ["log-mel", "whisper"])
def test_stream_lip_contact_is_the_whole_clip_seal_and_can_be_turned_off(speech: np.ndarray, features: str) -> None:
    from talkstyle.audio.whisper_window import window_features
    from talkstyle.face.arkit import NUM_BLENDSHAPES
    from talkstyle.face.lip_seal import seal_lips

    animator = StreamAnimator(None, lip_contact=features)
    contact = animator.contact
    # Neither adds latency: the log-mel one hears the net's look-ahead, the Whisper one its window's.
    assert contact is not None and contact.cfg.lookahead == (animator.lookahead if features == "log-mel" else 0)
    sealed = as_array(run(animator, speech, 640))[:, :NUM_BLENDSHAPES]
    free = as_array(run(StreamAnimator(None, lip_contact=False), speech, 640))[:, :NUM_BLENDSHAPES]
    n = len(sealed)
    heard = (normalise(log_mel_frames(speech, n)) if features == "log-mel"
             else window_features(speech, n, animator.lookahead))
    closure = contact.closure(heard)
    assert closure.max() == 1.0 and (closure == 0).mean() > 0.5       # the demo's p/b/m, and open speech
    # Frame by frame, the stream seals as the component would with the whole clip at hand
    # (the last frames differ: the stream hears real silence past the end, the clip its padding).
    expected = seal_lips(free, closure)
    assert np.abs(sealed - expected)[:-3].max() < 1e-4
    assert not np.allclose(sealed, free)


@pytest.mark.slow
def test_train_stream_distils_resumes_and_loads(tiny_dataset, tiny_checkpoint, tmp_path, speech: np.ndarray) -> None:
    from talkstyle.train_stream import export_stream, train_stream

    run_dir = tmp_path / "run"
    train_stream(tiny_dataset, run_dir, steps=2, clips=3, teacher=tiny_checkpoint, hidden=16)
    log = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log] == [1, 2] and "val" in log[-1]
    train_stream(tiny_dataset, run_dir, steps=3, clips=3, teacher=tiny_checkpoint, hidden=16)    # resumes
    assert [json.loads(line)["step"] for line in (run_dir / "log.jsonl").read_text().splitlines()] == [1, 2, 3]
    with pytest.raises(TalkstyleError, match="another subsample"):
        train_stream(tiny_dataset, run_dir, steps=3, clips=2, teacher=tiny_checkpoint, hidden=16)
    shipped = export_stream(run_dir, tmp_path / "model")
    frames = run(StreamAnimator(None, checkpoint=shipped), speech[:SR], 640)
    assert len(frames) == 25 and np.isfinite(as_array(frames)).all()
    assert StreamAnimator(None, checkpoint=shipped).contact is None


@pytest.mark.slow
def test_train_contact_adds_a_stream_component(talkstyle, user_error, tiny_dataset, tiny_checkpoint, tmp_path,
                                               speech: np.ndarray) -> None:
    import shutil

    folder = tmp_path / "stream_model"
    shutil.copytree(assets.path("stream_model"), folder)
    for name in ("lip_contact.json", "lip_contact.safetensors"):
        (folder / name).unlink()
    shutil.rmtree(folder / "whisper_contact", ignore_errors=True)
    user_error(talkstyle("train-contact", "--data", tiny_dataset, "--checkpoint", folder, "--augmented", "2"),
               "--augmented applies to diffusion checkpoints")
    result = talkstyle("train-contact", "--data", tiny_dataset, "--checkpoint", folder, "--steps", "3", "--threads", "1")
    assert result.returncode == 0, result.stderr
    animator = StreamAnimator(None, checkpoint=folder)
    config = json.loads((folder / "lip_contact.json").read_text())
    assert config["lookahead"] == animator.lookahead and config["audio_encoder"] == "incremental-log-mel"
    frames = run(animator, speech[:SR], 640)
    assert len(frames) == 25 and np.isfinite(as_array(frames)).all()

    user_error(talkstyle("train-contact", "--data", tiny_dataset, "--checkpoint", folder, "--features", "mfcc"),
               "--features must be log-mel or whisper")
    user_error(talkstyle("train-contact", "--data", tiny_dataset, "--checkpoint", tiny_checkpoint, "--features", "whisper"),
               "--features applies to streaming models")
    result = talkstyle("train-contact", "--data", tiny_dataset, "--checkpoint", folder, "--features", "whisper",
                       "--steps", "3", "--threads", "1")
    assert result.returncode == 0, result.stderr
    config = json.loads((folder / "whisper_contact" / "lip_contact.json").read_text())
    assert config["audio_encoder"] == "whisper-window" and config["lookahead"] == 0
    cached = sorted((tiny_dataset / "cache").glob("whisper_window_*.npz"))      # train and val features
    stamps = [p.stat().st_mtime_ns for p in cached]
    assert len(cached) == 2
    result = talkstyle("train-contact", "--data", tiny_dataset, "--checkpoint", folder, "--features", "whisper",
                       "--steps", "2", "--threads", "1")                         # a rerun reuses them
    assert result.returncode == 0, result.stderr
    assert [p.stat().st_mtime_ns for p in sorted((tiny_dataset / "cache").glob("whisper_window_*.npz"))] == stamps
    assert StreamAnimator(None, checkpoint=folder).contact.cfg.audio_encoder == "whisper-window"   # preferred
    assert StreamAnimator(None, checkpoint=folder, lip_contact="log-mel").contact.cfg.lookahead == animator.lookahead
    frames = run(StreamAnimator(None, checkpoint=folder), speech[:SR], 640)
    assert len(frames) == 25 and np.isfinite(as_array(frames)).all()
    with pytest.raises(TalkstyleError, match="lip_contact must be"):
        StreamAnimator(None, checkpoint=folder, lip_contact="mfcc")


@pytest.mark.slow
def test_stream_commands_reject_bad_input(talkstyle, user_error, tmp_path) -> None:
    user_error(talkstyle("train-stream", "--data", tmp_path / "missing"), "dataset folder not found")
    user_error(talkstyle("train-stream", "--data", tmp_path, "--warp", "0.7"), "--warp must be below 0.5")
    user_error(talkstyle("export-stream", tmp_path / "missing", "-o", tmp_path / "m"), "run folder not found")
    (tmp_path / "file").write_text("x")
    user_error(talkstyle("export-onnx", "-o", tmp_path / "file"), "must be a folder")
