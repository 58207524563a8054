"""audio/io: decode anything ffmpeg reads to 16 kHz mono float32; write wav atomically."""
from __future__ import annotations

import av
import numpy as np
import pytest
import soundfile as sf

from talkstyle.audio.io import SAMPLE_RATE, load_audio, save_wav
from talkstyle.errors import TalkstyleError


def tone(freq: float, seconds: float, rate: int) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def dominant_freq(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spec.argmax()])


def encode_mp3(path, audio: np.ndarray, rate: int) -> None:
    """A real lossy file through PyAV's bundled libmp3lame (mono)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(audio[None, :], format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def test_load_wav_at_native_rate(tmp_path):
    x = tone(440, 1.0, SAMPLE_RATE)
    sf.write(tmp_path / "a.wav", x, SAMPLE_RATE, subtype="PCM_16")
    y = load_audio(tmp_path / "a.wav")
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - len(x)) <= 1
    np.testing.assert_allclose(y[:len(x)], x[:len(y)], atol=2e-4)   # 16-bit quantisation only


def test_stereo_48k_is_downmixed_and_resampled(tmp_path):
    left, right = tone(300, 1.0, 48000), tone(300, 1.0, 48000)
    right[:] = 0.0
    sf.write(tmp_path / "s.wav", np.stack([left, right], 1), 48000, subtype="PCM_16")
    y = load_audio(tmp_path / "s.wav")
    assert abs(len(y) - SAMPLE_RATE) <= 32                       # 1 s at 16 kHz
    assert dominant_freq(y, SAMPLE_RATE) == pytest.approx(300, abs=2)
    # ffmpeg's downmix sums the channels at -3 dB each: a 0.5 tone on one side peaks at 0.5/sqrt(2).
    assert np.abs(y[1000:-1000]).max() == pytest.approx(0.5 / np.sqrt(2), abs=0.02)


def test_load_mp3(tmp_path):
    encode_mp3(tmp_path / "a.mp3", tone(500, 1.0, 44100), 44100)
    y = load_audio(tmp_path / "a.mp3")
    assert abs(len(y) - SAMPLE_RATE) < 0.1 * SAMPLE_RATE        # encoder padding only
    assert dominant_freq(y, SAMPLE_RATE) == pytest.approx(500, abs=2)


def test_non_audio_file_is_a_talkstyle_error(tmp_path):
    (tmp_path / "notes.wav").write_text("this is text, not audio\n" * 50)
    with pytest.raises(TalkstyleError, match="cannot decode audio|no audio track|empty"):
        load_audio(tmp_path / "notes.wav")
    np.save(tmp_path / "array.npy", np.zeros(100))
    with pytest.raises(TalkstyleError):
        load_audio(tmp_path / "array.npy")
    with pytest.raises(TalkstyleError, match="not found"):
        load_audio(tmp_path / "missing.wav")


def test_save_wav_round_trip_and_atomic(tmp_path):
    x = tone(200, 0.5, SAMPLE_RATE)
    save_wav(tmp_path / "o.wav", x)
    y, rate = sf.read(tmp_path / "o.wav", dtype="float32")
    assert rate == SAMPLE_RATE
    np.testing.assert_allclose(y, x, atol=1e-4)
    assert [p.name for p in tmp_path.iterdir()] == ["o.wav"]
    with pytest.raises(TalkstyleError, match="does not exist"):
        save_wav(tmp_path / "no" / "o.wav", x)
