"""Training-time audio augmentation, so a model trained on TTS voices holds on human speech.

Each transform takes 16 kHz mono float32 audio and returns audio of the same length, except
`change_speed`, which changes the duration by 1 / factor: `speed_perturb(motion, factor)` changes
a take's audio and time-warps its motion together. `augment()` draws a random near-field chain from
a numpy RNG; `recording_conditions()` draws either that or a far-field one (degrade.py), the
recording conditions real speech comes in, which cost lip sync the most.
"""
from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np

from ..face.motion import FaceMotion
from .io import SAMPLE_RATE


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)) + 1e-20))


def _limit(audio: np.ndarray) -> np.ndarray:
    """Scale down (never clip) when the peak would leave [-1, 1]."""
    peak = float(np.abs(audio).max(initial=0.0))
    return (audio / peak if peak > 1.0 else audio).astype(np.float32)


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator, color: float = 0.0) -> np.ndarray:
    """Additive noise at `snr_db` relative to the signal's RMS; `color` 0 white, 1 pink, 2 brown."""
    n = len(audio)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n)
    spectrum[1:] /= freqs[1:] ** (color / 2)           # 1/f^color power
    noise = np.fft.irfft(spectrum, n)
    noise *= rms(audio) / rms(noise) / 10 ** (snr_db / 20)
    return audio + noise.astype(np.float32)


def apply_gain(audio: np.ndarray, gain_db: float) -> np.ndarray:
    return (audio * 10 ** (gain_db / 20)).astype(np.float32)


def _speed_ratio(factor: float) -> Fraction:
    """Resampling ratio up/down = 1 / factor, with small integers so resample_poly stays cheap."""
    return Fraction(1 / factor).limit_denominator(100)


def exact_speed(factor: float) -> float:
    """The factor `change_speed` really applies (1 / a fraction with denominator <= 100)."""
    return float(1 / _speed_ratio(factor))


def change_speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """Play `exact_speed(factor)` times faster (pitch moves with it, as in Kaldi speed perturbation)."""
    from scipy.signal import resample_poly

    ratio = _speed_ratio(factor)
    return resample_poly(audio, ratio.numerator, ratio.denominator).astype(np.float32)


def shift_pitch(audio: np.ndarray, semitones: float) -> np.ndarray:
    """Pitch shift with the duration kept (librosa: phase-vocoder stretch, then resample)."""
    import librosa

    out = librosa.effects.pitch_shift(audio, sr=SAMPLE_RATE, n_steps=semitones)
    return out[:len(audio)].astype(np.float32)


def reverb(audio: np.ndarray, rt60: float, wet: float, rng: np.random.Generator) -> np.ndarray:
    """Convolve with a synthetic room: exponentially decaying noise (-60 dB at `rt60` s) after a direct path."""
    from scipy.signal import fftconvolve

    n = max(1, int(rt60 * SAMPLE_RATE))
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * 10 ** (-3 * t / rt60)
    tail[: int(0.002 * SAMPLE_RATE)] = 0.0            # the first reflections arrive after ~2 ms
    tail *= wet / (np.sqrt(np.sum(tail ** 2)) + 1e-12)
    ir = np.concatenate([[1.0 - wet], tail[1:]])
    out = fftconvolve(audio, ir)[:len(audio)]
    return (out * rms(audio) / rms(out)).astype(np.float32)   # keep the loudness


def telephone(audio: np.ndarray) -> np.ndarray:
    """Band-limit to a phone line: through 8 kHz sampling and a 300-3400 Hz band-pass."""
    from scipy.signal import butter, resample_poly, sosfiltfilt

    narrow = resample_poly(audio, 1, 2)
    sos = butter(4, [300, 3400], btype="bandpass", fs=SAMPLE_RATE // 2, output="sos")
    wide = resample_poly(sosfiltfilt(sos, narrow), 2, 1)[:len(audio)]
    return np.pad(wide, (0, len(audio) - len(wide))).astype(np.float32)


@dataclasses.dataclass
class AugmentConfig:
    """Probability of each transform and the range its parameter is drawn from (uniformly)."""
    p_noise: float = 0.5
    snr_db: tuple[float, float] = (5.0, 30.0)
    p_gain: float = 0.5
    gain_db: tuple[float, float] = (-12.0, 6.0)
    p_speed: float = 0.3
    speed: tuple[float, float] = (0.9, 1.1)
    p_pitch: float = 0.3
    semitones: tuple[float, float] = (-2.0, 2.0)   # the phase vocoder smears beyond this
    p_reverb: float = 0.3
    rt60: tuple[float, float] = (0.15, 0.8)
    wet: tuple[float, float] = (0.1, 0.5)
    p_telephone: float = 0.1


@dataclasses.dataclass
class Augmented:
    audio: np.ndarray
    speed: float = 1.0                 # duration was divided by this: stretch the motion to match
    applied: list[str] = dataclasses.field(default_factory=list)


def augment(audio: np.ndarray, rng: np.random.Generator, config: AugmentConfig | None = None) -> Augmented:
    """A random chain: speed, pitch, reverb, telephone, noise, gain (the order a recording would see)."""
    cfg = config or AugmentConfig()
    out = Augmented(np.asarray(audio, np.float32))

    def draw(p: float, name: str) -> bool:
        hit = rng.random() < p
        if hit:
            out.applied.append(name)
        return hit

    if draw(cfg.p_speed, "speed"):
        out.speed = exact_speed(rng.uniform(*cfg.speed))
        out.audio = change_speed(out.audio, out.speed)
    if draw(cfg.p_pitch, "pitch"):
        out.audio = shift_pitch(out.audio, rng.uniform(*cfg.semitones))
    if draw(cfg.p_reverb, "reverb"):
        out.audio = reverb(out.audio, rng.uniform(*cfg.rt60), rng.uniform(*cfg.wet), rng)
    if draw(cfg.p_telephone, "telephone"):
        out.audio = telephone(out.audio)
    if draw(cfg.p_noise, "noise"):
        out.audio = add_noise(out.audio, rng.uniform(*cfg.snr_db), rng, color=rng.choice([0.0, 1.0, 2.0]))
    if draw(cfg.p_gain, "gain"):
        out.audio = apply_gain(out.audio, rng.uniform(*cfg.gain_db))
    out.audio = _limit(out.audio)
    return out


def stretch_motion(motion: FaceMotion, factor: float) -> FaceMotion:
    """The motion for audio played `factor` times faster: same frames, shorter time, back at its fps."""
    sped = dataclasses.replace(motion, fps=motion.fps * factor, audio=None, sample_rate=None)
    return sped.resample(motion.fps)


def speed_perturb(motion: FaceMotion, factor: float) -> FaceMotion:
    """A take played `exact_speed(factor)` times faster: its audio resampled and its motion
    time-warped to match, so faster speech is paired with the mouth that goes with it."""
    if motion.audio is None or motion.sample_rate != SAMPLE_RATE:
        raise ValueError(f"speed perturbation needs the motion's {SAMPLE_RATE} Hz audio")
    factor = exact_speed(factor)
    return dataclasses.replace(stretch_motion(motion, factor), audio=change_speed(motion.audio, factor),
                               sample_rate=SAMPLE_RATE)


def recording_conditions(audio: np.ndarray, rng: np.random.Generator, far_share: float = 0.5,
                         config: AugmentConfig | None = None) -> np.ndarray:
    """One training copy's recording: `far_share` of them a far-field chain (simulated room at
    1.5-3.5 m, babble of other talkers, street noise, a distant microphone's level and band, mp3 /
    opus; degrade.py), the rest the near-field chain of `augment` (noise, gain, pitch, reverb,
    telephone). The babble's talkers are the same audio at random offsets: other sentences, other
    persons when the audio holds several clips. Length and timing are kept."""
    if rng.random() >= far_share:
        return augment(audio, rng, dataclasses.replace(config or AugmentConfig(), p_speed=0.0)).audio
    from .degrade import far_field

    n = len(audio)
    others = [np.roll(audio, int(rng.integers(n // 5, n - n // 5))) for _ in range(4)] if n > 5 * SAMPLE_RATE else []
    out, _ = far_field(audio, int(rng.integers(2**31)), others)
    return _limit(out)
