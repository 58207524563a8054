"""Log-mel features computed incrementally, for the streaming animator: samples in, 25 fps frames out.

The offline encoders see a whole clip at once (Whisper's 30 s window, the mel encoder's per-clip
floor at max - 8); a stream has no "whole clip". So this front end is causal and stateless apart
from a few hundred buffered samples:
- mel frame k is the Hann-windowed 400-sample DFT of samples [160k - 200, 160k + 200) (Whisper's
  STFT, centred, with zeros before the stream's start), 80 mel bands, log10 of the power;
- the level floor is fixed (FLOOR), not relative to the clip's loudest frame, and
- frame i at 25 fps is the 4 mel frames 4i .. 4i+3 side by side (320 numbers, 40 ms of audio);
  it needs the samples up to 640 i + 680, 40 samples past the frame's own end.

mel filters as a matrix): training computes whole clips with it (`log_mel_frames`), the stream
computes a frame as soon as its samples are there (`IncrementalMel`), and the ONNX export puts the
same module in the graph, so that an engine feeds raw samples.
"""
from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from .features import HOP, N_FFT, N_MELS, SAMPLES_PER_FRAME, _mel_filters

MELS_PER_FRAME = SAMPLES_PER_FRAME // HOP          # 4 mel frames per 25 fps frame
DIM = MELS_PER_FRAME * N_MELS                      # 320 numbers per frame
FLOOR = -7.0                                       # log10 power floor: about 70 dB below a loud vowel
LEAD = N_FFT // 2                                  # zeros before the stream (a centred first window)
CONTEXT = N_FFT - HOP                              # samples a step needs before its first new frame: 240
SILENCE = -10.0                                    # raw log10 mel of digital silence


class LogMel(nn.Module):
    """(B, 240 + 640 F) samples -> (B, F, 320) raw log10 mel (no floor), F frames at 25 fps."""

    def __init__(self) -> None:
        super().__init__()
        n = np.arange(N_FFT)
        hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)                # periodic Hann, as Whisper
        k = np.arange(N_FFT // 2 + 1)[:, None]
        dft = np.concatenate([np.cos(2 * np.pi * k * n / N_FFT), -np.sin(2 * np.pi * k * n / N_FFT)]) * hann
        # Windows are read as 3 hops (480 samples); the DFT rows past 400 are zero.
        dft = np.concatenate([dft, np.zeros((len(dft), 3 * HOP - N_FFT))], 1)
        self.register_buffer("dft", torch.from_numpy(dft.T.astype(np.float32)), persistent=False)
        self.register_buffer("mel", torch.from_numpy(_mel_filters().T.copy()), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        # Framing by reshape and shifted slices (hop 160, window 400 within 3 hops): plain ops that
        # every runtime has, and far faster on a CPU than a strided conv with 400-tap kernels.
        b = audio.shape[0]
        hops = torch.cat([audio, audio.new_zeros(b, 2 * HOP - CONTEXT)], 1).reshape(b, -1, HOP)
        m = hops.shape[1] - 2                                            # = 4 F windows
        frames = torch.cat([hops[:, :m], hops[:, 1:m + 1], hops[:, 2:m + 2]], 2)   # (B, M, 480)
        re, im = torch.matmul(frames, self.dft).chunk(2, dim=2)          # (B, M, 201) each
        mel = torch.matmul(re * re + im * im, self.mel)                  # (B, M, 80)
        return torch.log10(torch.clamp(mel, min=1e-10)).reshape(b, -1, DIM)


@functools.cache
def log_mel() -> LogMel:
    return LogMel().eval()


def raw_frames(padded: np.ndarray) -> np.ndarray:
    """(F, 320) raw features of `padded` (240 + 640 F samples or more; the rest is ignored)."""
    frames = (len(padded) - CONTEXT) // SAMPLES_PER_FRAME
    if frames <= 0:
        return np.zeros((0, DIM), np.float32)
    x = torch.from_numpy(np.ascontiguousarray(padded[:CONTEXT + frames * SAMPLES_PER_FRAME], np.float32))
    with torch.no_grad():
        return log_mel()(x[None])[0].numpy()


def normalise(raw: np.ndarray | torch.Tensor):
    """Raw log10 mel -> the model's input: floored at FLOOR, scaled as Whisper's ((x + 4) / 4)."""
    if isinstance(raw, torch.Tensor):
        return (torch.clamp(raw, min=FLOOR) + 4.0) / 4.0
    return ((np.maximum(raw, FLOOR) + 4.0) / 4.0).astype(np.float32)


def log_mel_frames(audio: np.ndarray, num_frames: int) -> np.ndarray:
    """(num_frames, 320) raw (unfloored) features of a whole clip, zero-padded past its end:
    what IncrementalMel gives for the same samples followed by silence."""
    padded = np.zeros(CONTEXT + num_frames * SAMPLES_PER_FRAME, np.float32)
    n = min(len(audio), len(padded) - LEAD)
    padded[LEAD:LEAD + n] = audio[:n]
    return raw_frames(padded)


class IncrementalMel:
    """Feed samples of any length, get the normalised 25 fps frames (F, 320) that became complete."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._buffer = np.zeros(LEAD, np.float32)   # from 200 samples before the next frame's start

    def push(self, samples: np.ndarray) -> np.ndarray:
        self._buffer = np.concatenate([self._buffer, np.asarray(samples, np.float32)])
        out = raw_frames(self._buffer)
        self._buffer = self._buffer[len(out) * SAMPLES_PER_FRAME:]
        return normalise(out)
