"""FaceMotion: validation, npz round trip, resampling, slicing."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from talkstyle.errors import TalkstyleError
from talkstyle.face.arkit import ARKIT_NAMES, INDEX
from talkstyle.face.motion import FORMAT_VERSION, FaceMotion


def smooth_motion(frames: int = 50, fps: float = 25.0, seed: int = 0) -> FaceMotion:
    """Slow sinusoids in every channel: linear resampling should preserve them closely."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] / fps
    freq, phase = rng.uniform(0.2, 1.0, (1, 52)), rng.uniform(0, 2 * np.pi, (1, 52))
    weights = 0.5 + 0.45 * np.sin(2 * np.pi * freq * t + phase)
    head = 0.2 * np.sin(2 * np.pi * np.array([[0.5, 0.3, 0.7]]) * t)
    return FaceMotion(weights, head, fps)


def with_audio(motion: FaceMotion, sample_rate: int = 16000) -> FaceMotion:
    n = int(round(motion.duration * sample_rate))
    audio = 0.5 * np.sin(2 * np.pi * 220 * np.arange(n) / sample_rate)
    motion.audio, motion.sample_rate = audio.astype(np.float32), sample_rate
    return motion


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("weights, head, message", [
    (np.zeros((10, 51)), np.zeros((10, 3)), "weights must have shape"),
    (np.zeros(52), np.zeros((1, 3)), "weights must have shape"),
    (np.zeros((10, 52)), np.zeros((9, 3)), "head must have shape"),
    (np.zeros((10, 52)), np.zeros((10, 2)), "head must have shape"),
    (np.zeros((0, 52)), np.zeros((0, 3)), "no frames"),
    (np.full((10, 52), 1.5), np.zeros((10, 3)), r"must lie in \[0, 1\]"),
    (np.full((10, 52), -0.2), np.zeros((10, 3)), r"must lie in \[0, 1\]"),
    (np.zeros((10, 52)), np.full((10, 3), 20.0), "radians"),   # degrees passed by mistake
])
def test_validation_rejects(weights, head, message):
    with pytest.raises(TalkstyleError, match=message):
        FaceMotion(weights, head)


@pytest.mark.parametrize("where", ["weights", "head"])
def test_validation_rejects_nan_and_inf(where):
    w, h = np.zeros((5, 52)), np.zeros((5, 3))
    {"weights": w, "head": h}[where][2, 1] = np.nan
    with pytest.raises(TalkstyleError, match="NaN"):
        FaceMotion(w, h)
    {"weights": w, "head": h}[where][2, 1] = np.inf
    with pytest.raises(TalkstyleError, match="NaN or infinite"):
        FaceMotion(w, h)


def test_validation_rejects_bad_fps_audio_confidence():
    w, h = np.zeros((5, 52)), np.zeros((5, 3))
    with pytest.raises(TalkstyleError, match="fps"):
        FaceMotion(w, h, fps=0)
    with pytest.raises(TalkstyleError, match="mono"):
        FaceMotion(w, h, audio=np.zeros((100, 2)), sample_rate=16000)
    with pytest.raises(TalkstyleError, match="sample_rate"):
        FaceMotion(w, h, audio=np.zeros(100))
    with pytest.raises(TalkstyleError, match="audio contains NaN"):
        FaceMotion(w, h, audio=np.full(100, np.nan), sample_rate=16000)
    with pytest.raises(TalkstyleError, match="confidence"):
        FaceMotion(w, h, confidence=np.ones(4))


def test_tiny_float_noise_is_clipped_not_rejected():
    w = np.zeros((3, 52))
    w[0, 0], w[1, 1] = -1e-6, 1 + 1e-6
    m = FaceMotion(w, np.zeros((3, 3)))
    assert m.weights.min() == 0.0 and m.weights.max() == 1.0
    assert m.weights.dtype == np.float32 and m.head.dtype == np.float32


def test_channel_by_name():
    m = smooth_motion()
    np.testing.assert_array_equal(m.channel("jawOpen"), m.weights[:, INDEX["jawOpen"]])


# ---------------------------------------------------------------- files
def test_save_load_round_trip_with_everything(tmp_path):
    m = with_audio(smooth_motion(40))
    m.confidence = np.linspace(0, 1, 40, dtype=np.float32)
    m.metadata = {"prompt": "A man speaks with a low happy expression.", "attributes": {"emotion": "happy"},
                  "seed": 7}
    path = m.save(tmp_path / "clip.npz")
    back = FaceMotion.load(path)
    np.testing.assert_array_equal(back.weights, m.weights)
    np.testing.assert_array_equal(back.head, m.head)
    np.testing.assert_array_equal(back.audio, m.audio)
    np.testing.assert_array_equal(back.confidence, m.confidence)
    assert back.fps == m.fps and back.sample_rate == 16000
    assert back.metadata == m.metadata
    assert [p.name for p in tmp_path.iterdir()] == ["clip.npz"]   # no temp file left behind


def test_saved_npz_layout(tmp_path):
    path = smooth_motion(10).save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as z:
        assert int(z["format_version"]) == FORMAT_VERSION
        assert tuple(z["blendshape_names"]) == ARKIT_NAMES
        assert z["weights"].dtype == np.float32 and z["weights"].shape == (10, 52)
        assert z["head"].dtype == np.float32 and z["head"].shape == (10, 3)
        assert json.loads(str(z["metadata"])) == {}
        assert "audio" not in z.files and "confidence" not in z.files


def test_load_without_optional_parts(tmp_path):
    back = FaceMotion.load(smooth_motion(10).save(tmp_path / "m.npz"))
    assert back.audio is None and back.sample_rate is None and back.confidence is None


def test_load_rejects_bad_files(tmp_path):
    with pytest.raises(TalkstyleError, match="not found"):
        FaceMotion.load(tmp_path / "missing.npz")
    (tmp_path / "garbage.npz").write_bytes(b"this is not a zip archive")
    with pytest.raises(TalkstyleError, match="not a readable FaceMotion"):
        FaceMotion.load(tmp_path / "garbage.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(TalkstyleError, match="missing 'format_version'"):
        FaceMotion.load(tmp_path / "other.npz")
    good = smooth_motion(10).save(tmp_path / "good.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(TalkstyleError):
        FaceMotion.load(truncated)


def test_load_rejects_pickled_object_arrays(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, format_version=np.array(1), weights=np.array([{"evil": 1}], dtype=object),
             head=np.zeros((1, 3)), fps=np.array(25.0))
    with pytest.raises(TalkstyleError):
        FaceMotion.load(path)


def test_load_rejects_newer_version_and_other_names(tmp_path):
    m = smooth_motion(5)
    base = dict(weights=m.weights, head=m.head, fps=np.array(25.0), metadata=np.array("{}"))
    np.savez(tmp_path / "v99.npz", format_version=np.array(99), **base)
    with pytest.raises(TalkstyleError, match="format version 99"):
        FaceMotion.load(tmp_path / "v99.npz")
    names = np.array(list(ARKIT_NAMES[::-1]))
    np.savez(tmp_path / "names.npz", format_version=np.array(1), blendshape_names=names, **base)
    with pytest.raises(TalkstyleError, match="ARKit order"):
        FaceMotion.load(tmp_path / "names.npz")


def test_load_validates_contents(tmp_path):
    w = np.zeros((5, 52), np.float32)
    w[1, 3] = np.nan
    np.savez(tmp_path / "nan.npz", format_version=np.array(1), weights=w, head=np.zeros((5, 3)),
             fps=np.array(25.0))
    with pytest.raises(TalkstyleError, match="NaN"):
        FaceMotion.load(tmp_path / "nan.npz")


def test_npz_is_a_zip_of_npy(tmp_path):
    # The format is plain numpy: any language with a zip + npy reader can use it.
    path = smooth_motion(5).save(tmp_path / "m.npz")
    with zipfile.ZipFile(path) as z:
        assert {"weights.npy", "head.npy", "fps.npy", "format_version.npy"} <= set(z.namelist())


# ---------------------------------------------------------------- transforms
def test_resample_25_30_25_round_trip():
    m = smooth_motion(100, 25.0)
    up = m.resample(30.0)
    assert up.fps == 30.0 and up.num_frames == 120
    assert up.duration == pytest.approx(m.duration)
    back = up.resample(25.0)
    assert back.num_frames == m.num_frames
    # The last 30 fps frame lies past the last source frame and is held (clamped): skip it.
    assert np.abs(back.weights - m.weights)[:-1].max() < 0.01
    assert np.abs(back.head - m.head)[:-1].max() < 0.005
    assert np.abs(back.weights - m.weights)[-1].max() < 0.03
    # 30 fps frame 6 is 0.2 s, exactly 25 fps frame 5: no interpolation error there.
    np.testing.assert_allclose(up.weights[6], m.weights[5], atol=1e-6)


def test_resample_keeps_confidence_audio_and_metadata():
    m = with_audio(smooth_motion(50))
    m.confidence = np.ones(50, np.float32)
    m.metadata = {"id": "x"}
    r = m.resample(50.0)
    assert r.confidence.shape == (100,) and np.allclose(r.confidence, 1.0)
    assert r.audio is m.audio and r.metadata == {"id": "x"}


def test_resample_same_fps_is_a_copy():
    m = smooth_motion(10)
    r = m.resample(25.0)
    assert r is not m
    np.testing.assert_array_equal(r.weights, m.weights)


def test_slice_with_audio():
    m = with_audio(smooth_motion(50))
    m.confidence = np.arange(50, dtype=np.float32) / 50
    s = m.slice(10, 35)
    assert s.num_frames == 25
    np.testing.assert_array_equal(s.weights, m.weights[10:35])
    np.testing.assert_array_equal(s.head, m.head[10:35])
    np.testing.assert_array_equal(s.confidence, m.confidence[10:35])
    # 25 frames at 25 fps = 1 s = 16000 samples, starting at 0.4 s.
    assert s.audio.shape == (16000,)
    np.testing.assert_array_equal(s.audio, m.audio[6400:22400])


def test_slice_outside_range_is_an_error():
    with pytest.raises(TalkstyleError, match="no frames"):
        smooth_motion(10).slice(20, 30)


def test_neutral():
    n = FaceMotion.neutral(7, fps=30)
    assert n.num_frames == 7 and n.fps == 30 and not n.weights.any() and not n.head.any()
    assert len(n) == 7 and n.duration == pytest.approx(7 / 30)
