"""Per-frame loudness and pitch of the actor's own speech, to drive head and brows.

Both are cheap (a few ms a clip): the actor must stay far faster than real time, and the speech
is clean synthetic audio, so a plain autocorrelation pitch tracker is enough (within ~1 % of
librosa's pYIN on espeak-ng voices).
"""
from __future__ import annotations

import numpy as np
import scipy.fft

F0_MIN, F0_MAX = 60.0, 500.0
VOICED_STRENGTH = 0.5        # normalised autocorrelation peak above which a frame counts as voiced


def _frames(audio: np.ndarray, sample_rate: int, num_frames: int, fps: float, width: int) -> np.ndarray:
    """(T, width) windows centred on the frame times."""
    hop = int(round(sample_rate / fps))
    x = np.zeros(num_frames * hop + width, np.float32)
    n = min(len(audio), len(x) - width // 2)
    x[width // 2:width // 2 + n] = audio[:n]
    return np.lib.stride_tricks.sliding_window_view(x, width)[::hop][:num_frames]


def frame_energy(audio: np.ndarray, sample_rate: int, num_frames: int, fps: float) -> np.ndarray:
    """(T,) RMS loudness per frame, scaled so the loud end of the clip is 1."""
    hop = int(round(sample_rate / fps))
    rms = np.sqrt((_frames(audio, sample_rate, num_frames, fps, hop) ** 2).mean(1))
    return np.clip(rms / (np.percentile(rms, 95) + 1e-6), 0, 1.5)


def frame_pitch(audio: np.ndarray, sample_rate: int, num_frames: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(T,) F0 in Hz and (T,) voiced flags, from the autocorrelation of 80 ms windows.
    Runs at half the sample rate (the pitch lives far below 4 kHz): half the work."""
    x = audio[:len(audio) // 2 * 2].reshape(-1, 2).mean(1)
    sr = sample_rate / 2
    width = 2 * int(round(sr / fps))
    fr = _frames(x, int(sr), num_frames, fps, width) * np.hanning(width).astype(np.float32)
    fr = fr - fr.mean(1, keepdims=True)
    lo, hi = int(sr / F0_MAX), int(sr / F0_MIN)
    n_fft = scipy.fft.next_fast_len(width + hi)   # long enough that lags up to `hi` do not wrap
    ac = scipy.fft.irfft(np.abs(scipy.fft.rfft(fr, n_fft)) ** 2, n_fft)[:, :hi]
    # Parabolic interpolation of the peak: half-rate lags would otherwise be 1-2 % coarse.
    k = np.clip(lo + np.argmax(ac[:, lo:hi], 1), 1, hi - 2)
    rows = np.arange(num_frames)
    a, b, c = ac[rows, k - 1], ac[rows, k], ac[rows, k + 1]
    den = a - 2 * b + c
    lag = k + np.clip(0.5 * (a - c) / np.where(np.abs(den) > 1e-12, den, 1e-12), -0.5, 0.5)
    strength = b / (ac[:, 0] + 1e-9)
    return (sr / lag).astype(np.float32), strength > VOICED_STRENGTH


def pitch_contour(audio: np.ndarray, sample_rate: int, num_frames: int, fps: float) -> np.ndarray:
    """(T,) how high the voice is relative to this clip, in standard deviations of log F0;
    0 where unvoiced (held at the last voiced value would fake motion in pauses)."""
    f0, voiced = frame_pitch(audio, sample_rate, num_frames, fps)
    if voiced.sum() < 3:
        return np.zeros(num_frames, np.float32)
    logf = np.log(f0)
    mu, sd = logf[voiced].mean(), logf[voiced].std() + 1e-3
    return np.where(voiced, np.clip((logf - mu) / sd, -3, 3), 0.0).astype(np.float32)
