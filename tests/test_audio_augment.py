"""Audio augmentation: each transform does what it says, measured on the output."""
from __future__ import annotations

import numpy as np
import pytest

from talkstyle.audio.augment import (
    AugmentConfig, add_noise, apply_gain, augment, change_speed, reverb, rms, shift_pitch,
    stretch_motion, telephone,
)
from talkstyle.face.motion import FaceMotion

SR = 16000


def tone(freq: float, seconds: float = 1.0, amp: float = 0.3) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * SR)) / SR)).astype(np.float32)


def peak_freq(audio: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.fft.rfftfreq(len(audio), 1 / SR)[spec.argmax()])


def band_energy(audio: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(audio)) ** 2
    f = np.fft.rfftfreq(len(audio), 1 / SR)
    return float(spec[(f >= lo) & (f < hi)].sum())


@pytest.mark.parametrize("color", [0.0, 1.0, 2.0])
@pytest.mark.parametrize("snr", [0.0, 10.0, 25.0])
def test_noise_hits_the_snr(snr, color):
    clean = tone(300)
    noisy = add_noise(clean, snr, np.random.default_rng(0), color=color)
    measured = 20 * np.log10(rms(clean) / rms(noisy - clean))
    assert abs(measured - snr) < 0.01 and noisy.dtype == np.float32


def test_gain():
    audio = tone(300)
    assert rms(apply_gain(audio, -6.0)) / rms(audio) == pytest.approx(10 ** (-6 / 20), rel=1e-5)


@pytest.mark.parametrize("factor", [0.9, 1.1, 1.25])
def test_speed_changes_duration_and_pitch(factor):
    out = change_speed(tone(400, 2.0), factor)
    assert abs(len(out) - 2 * SR / factor) <= 1
    assert peak_freq(out) == pytest.approx(400 * factor, abs=2)


def test_pitch_shift_keeps_duration():
    out = shift_pitch(tone(300), 12.0)
    assert len(out) == SR
    assert peak_freq(out) == pytest.approx(600, abs=5)


def test_reverb_adds_a_decaying_tail():
    click = np.zeros(SR, np.float32)
    click[1000:1100] = 0.5
    wet = reverb(click, rt60=0.5, wet=0.5, rng=np.random.default_rng(0))
    assert len(wet) == SR and rms(wet) == pytest.approx(rms(click), rel=1e-4)
    # Energy after the click: nothing dry, plenty wet; and it decays.
    tail1, tail2 = (float(np.sum(wet[a:a + 1600] ** 2)) for a in (1200, 1200 + 3200))
    assert np.sum(click[1200:] ** 2) == 0 and tail1 > 0.05 * np.sum(wet ** 2) and tail2 < tail1


def test_telephone_band_limits():
    audio = tone(1000) + tone(6000) + tone(100)
    out = telephone(audio)
    assert len(out) == SR
    keep = band_energy(out, 900, 1100) / band_energy(audio, 900, 1100)
    assert keep > 0.8
    assert band_energy(out, 5900, 6100) / band_energy(audio, 5900, 6100) < 1e-4
    assert band_energy(out, 90, 110) / band_energy(audio, 90, 110) < 0.05


def test_augment_is_seeded_and_reports_speed():
    audio = tone(220, 2.0) + tone(900, 2.0, 0.1)
    everything = AugmentConfig(p_noise=1, p_gain=1, p_speed=1, p_pitch=1, p_reverb=1, p_telephone=1)
    a = augment(audio, np.random.default_rng(5), everything)
    b = augment(audio, np.random.default_rng(5), everything)
    np.testing.assert_array_equal(a.audio, b.audio)
    assert a.applied == ["speed", "pitch", "reverb", "telephone", "noise", "gain"]
    assert 0.9 <= a.speed <= 1.1 and abs(len(a.audio) - len(audio) / a.speed) <= 1
    assert np.abs(a.audio).max() <= 1.0 and a.audio.dtype == np.float32
    none = augment(audio, np.random.default_rng(5), AugmentConfig(0, p_gain=0, p_speed=0, p_pitch=0,
                                                                   p_reverb=0, p_telephone=0))
    np.testing.assert_array_equal(none.audio, audio)
    assert none.speed == 1.0 and none.applied == []


def test_stretch_motion_matches_sped_audio():
    t = np.arange(100) / 25
    weights = np.zeros((100, 52))
    weights[:, 17] = 0.5 + 0.5 * np.sin(2 * np.pi * t / 2)      # jawOpen, period 2 s
    motion = FaceMotion(weights, np.zeros((100, 3)))
    fast = stretch_motion(motion, 1.25)
    assert fast.fps == 25 and fast.num_frames == 80              # 4 s -> 3.2 s
    # The same event happens 1.25 times sooner: the first peak at 0.5 s moves to 0.4 s.
    assert int(np.argmax(fast.weights[:25, 17])) == 10


def test_speed_perturb_warps_motion_with_audio():
    from talkstyle.audio.augment import speed_perturb
    from talkstyle.face.motion import FaceMotion

    n, sr = 100, 16000
    t = np.arange(n) / 25
    weights = np.zeros((n, 52), np.float32)
    weights[:, 17] = (np.sin(2 * np.pi * 1.0 * t) > 0)            # jaw opens with a 1 Hz beat
    ts = np.arange(n * sr // 25) / sr
    audio = (0.3 * np.sin(2 * np.pi * 200 * ts) * (np.sin(2 * np.pi * 1.0 * ts) > 0)).astype(np.float32)
    fast = speed_perturb(FaceMotion(weights, np.zeros((n, 3)), 25.0, audio=audio, sample_rate=sr), 1.25)
    assert fast.fps == 25.0 and abs(fast.duration - 4.0 / 1.25) < 0.05
    assert abs(len(fast.audio) / sr - fast.duration) < 0.05
    # The beat is now 1.25 Hz in both: the jaw still opens exactly where the sound is.
    env = np.abs(fast.audio).reshape(-1, sr // 25)[:fast.num_frames].max(1) > 0.1
    jaw = fast.weights[: len(env), 17] > 0.5
    assert (env == jaw).mean() > 0.9


def test_recording_conditions_keep_length_and_timing():
    from talkstyle.audio.augment import recording_conditions
    from talkstyle.audio.tts import speak

    def envelope(x: np.ndarray) -> np.ndarray:   # 100 Hz loudness
        return np.sqrt((x[: len(x) // 160 * 160].reshape(-1, 160) ** 2).mean(1))

    audio = speak("Bob paid for a pump and a big blue bag, and maybe the baby will bring back my map.").audio
    audio = np.concatenate([audio, audio[::-1]])               # > 5 s, so the far chain adds babble
    clean = envelope(audio) - envelope(audio).mean()
    for seed in range(6):
        out = recording_conditions(audio, np.random.default_rng(seed), far_share=0.5)
        assert out.shape == audio.shape and np.abs(out).max() <= 1.0
        # The speech envelope lines up with the clean one (10 ms steps, +-100 ms searched).
        e = envelope(out) - envelope(out).mean()
        lags = range(-10, 11)
        xc = [np.dot(clean[max(k, 0):len(clean) + min(k, 0)], e[max(-k, 0):len(e) - max(k, 0)]) for k in lags]
        assert abs(lags[int(np.argmax(xc))]) <= 2
