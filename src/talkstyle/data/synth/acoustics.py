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
    """(T,) F0 in Hz and (T,) voiced flags, from the autocorrelation of 80 ms windows."""
    width = 2 * int(round(sample_rate / fps))
    fr = _frames(audio, sample_rate, num_frames, fps, width) * np.hanning(width)
    fr = fr - fr.mean(1, keepdims=True)
    lo, hi = int(sample_rate / F0_MAX), int(sample_rate / F0_MIN)
    n_fft = scipy.fft.next_fast_len(width + hi)   # long enough that lags up to `hi` do not wrap
    ac = scipy.fft.irfft(np.abs(scipy.fft.rfft(fr, n_fft)) ** 2)[:, :hi]
    lag = lo + np.argmax(ac[:, lo:hi], 1)
    strength = ac[np.arange(num_frames), lag] / (ac[:, 0] + 1e-9)
    return (sample_rate / lag).astype(np.float32), strength > VOICED_STRENGTH


def pitch_contour(audio: np.ndarray, sample_rate: int, num_frames: int, fps: float) -> np.ndarray:
    """(T,) how high the voice is relative to this clip, in standard deviations of log F0;
    0 where unvoiced (held at the last voiced value would fake motion in pauses)."""
    f0, voiced = frame_pitch(audio, sample_rate, num_frames, fps)
    if voiced.sum() < 3:
        return np.zeros(num_frames, np.float32)
    logf = np.log(f0)
    mu, sd = logf[voiced].mean(), logf[voiced].std() + 1e-3
    return np.where(voiced, np.clip((logf - mu) / sd, -3, 3), 0.0).astype(np.float32)
