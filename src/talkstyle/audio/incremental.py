"""Log-mel features computed incrementally, for the streaming animator: samples in, 25 fps frames out.

The offline encoders see a whole clip at once (Whisper's 30 s window, the mel encoder's per-clip
floor at max - 8); a stream has no "whole clip". So this front end is causal and stateless apart
from a few hundred buffered samples:
- mel frame k is the Hann-windowed 400-sample FFT of samples [160k - 200, 160k + 200) (Whisper's
  STFT, centred, with zeros before the stream's start), 80 mel bands, log10 of the power;
- the level floor is fixed (FLOOR), not relative to the clip's loudest frame, and
- frame i at 25 fps is the 4 mel frames 4i .. 4i+3 side by side (320 numbers, 40 ms of audio);
  it needs the samples up to 640 i + 680, 40 samples past the frame's own end.

`log_mel_frames` (a whole clip, for training) and `IncrementalMel` (any chunking) give the same
numbers: the stream computes a mel frame as soon as its 400 samples are there, with the same code.
"""
from __future__ import annotations

import numpy as np

from .features import HOP, N_FFT, N_MELS, SAMPLES_PER_FRAME, _mel_filters

MELS_PER_FRAME = SAMPLES_PER_FRAME // HOP          # 4 mel frames per 25 fps frame
DIM = MELS_PER_FRAME * N_MELS                      # 320 numbers per frame
FLOOR = -7.0                                       # log10 power floor: about 70 dB below a loud vowel
LEAD = N_FFT // 2                                  # zeros before the stream (a centred first window)


def _window() -> np.ndarray:
    return np.hanning(N_FFT + 1)[:-1].astype(np.float32)   # periodic Hann, as librosa / Whisper


_HANN = _window()


def raw_log_mel(padded: np.ndarray) -> np.ndarray:
    """(M, 80) log10 mel power of every complete 400-sample window of `padded` at hop 160
    (padded: the stream with LEAD zeros before it). No floor: the caller applies `normalise`,
    after a gain in the log domain when training."""
    count = (len(padded) - N_FFT) // HOP + 1
    if count <= 0:
        return np.zeros((0, N_MELS), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:count]
    power = np.abs(np.fft.rfft(frames * _HANN, axis=1)) ** 2
    return np.log10(np.maximum(power.astype(np.float32) @ _mel_filters().T, 1e-10)).astype(np.float32)


def normalise(raw: np.ndarray) -> np.ndarray:
    """Raw log10 mel -> the model's input: floored at FLOOR, scaled as Whisper's ((x + 4) / 4)."""
    return ((np.maximum(raw, FLOOR) + 4.0) / 4.0).astype(np.float32)


def stack(mels: np.ndarray) -> np.ndarray:
    """(4F, 80) mel frames -> (F, 320) frames at 25 fps."""
    frames = len(mels) // MELS_PER_FRAME
    return mels[:frames * MELS_PER_FRAME].reshape(frames, DIM)


def log_mel_frames(audio: np.ndarray, num_frames: int) -> np.ndarray:
    """(num_frames, 320) raw (unfloored) features of a whole clip, zero-padded past its end:
    what IncrementalMel gives for the same samples followed by silence."""
    need = (num_frames * MELS_PER_FRAME - 1) * HOP + N_FFT
    padded = np.zeros(max(need, LEAD + len(audio)), np.float32)
    padded[LEAD:LEAD + len(audio)] = audio
    return stack(raw_log_mel(padded[:need]))


class IncrementalMel:
    """Feed samples of any length, get the 25 fps frames (F, 320) that became complete."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._buffer = np.zeros(LEAD, np.float32)     # samples from the next mel frame's start
        self._mels = np.zeros((0, N_MELS), np.float32)  # mel frames not yet stacked into a frame

    def push(self, samples: np.ndarray) -> np.ndarray:
        self._buffer = np.concatenate([self._buffer, np.asarray(samples, np.float32)])
        mels = raw_log_mel(self._buffer)
        if len(mels):
            self._buffer = self._buffer[len(mels) * HOP:]
            self._mels = np.concatenate([self._mels, normalise(mels)])
        out = stack(self._mels)
        self._mels = self._mels[len(out) * MELS_PER_FRAME:]
        return out
