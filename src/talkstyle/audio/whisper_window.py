"""Whisper on a short sliding window: the features a stream's lip contact can afford.

The offline encoder runs Whisper tiny.en once over a clip padded to 30 s: 0.5 s of CPU a pass,
far too slow to repeat for every 40 ms of a stream. Unpadded, the same encoder takes the last
2 s in about 5 ms on one core (int8). So a stream encodes, for each frame t, the window of audio that
ends `lookahead` frames after t (the stream's own look-ahead: no added latency) and starts
`window` frames before that end, and keeps row t. The features differ from the offline ones (a
frame sits at the end of a short window, not at its position in 30 s), so the component that reads
them is trained on them (`window_features`, the same computation for a whole clip).

Why Whisper at all: trained on 680 000 hours of people, it hears a p, b or m in voices and rooms
the data engine's text-to-speech voices never had; a classifier on log-mel learned from those
voices alone ranks p/b/m above open vowels in real recordings far less well (docs/streaming.md).
"""
from __future__ import annotations

import functools

import numpy as np

from .features import SAMPLES_PER_FRAME, log_mel, pairwise_mean, whisper_model_dir

WINDOW = 50           # frames of audio (2 s) a pass encodes
DIM = 384             # Whisper tiny.en's width


@functools.cache
def compute_type() -> str:
    """int8 where CTranslate2 has int8 kernels for this CPU (5 ms a 2 s pass against 13 ms in
    float32, and the same lip-contact ranking on real speech: AUC 0.997 either way), else float32."""
    import ctranslate2

    return "int8" if "int8" in ctranslate2.get_supported_compute_types("cpu") else "float32"


@functools.cache
def _encoder():
    """Whisper tiny.en on one thread."""
    import ctranslate2

    return ctranslate2.models.Whisper(str(whisper_model_dir()), device="cpu", intra_threads=1, inter_threads=1,
                                      compute_type=compute_type())


@functools.cache
def _blas():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def encode_window(audio: np.ndarray) -> np.ndarray:
    """(frames, 384) Whisper features at 25 fps of a short stretch of audio, unpadded."""
    import ctranslate2

    # One BLAS thread for the mel product: numpy's OpenBLAS would share it out over every core,
    # and its idle threads spin between a stream's passes (a whole core busy for 0.3 of one's work).
    with _blas().limit(limits=1, user_api="blas"):
        mel = np.ascontiguousarray(log_mel(audio)[None])
    return pairwise_mean(np.asarray(_encoder().encode(ctranslate2.StorageView.from_array(mel)))[0])


def window_features(audio: np.ndarray, num_frames: int, lookahead: int, window: int = WINDOW,
                    hop: int = 1) -> np.ndarray:
    """(num_frames, 384) float32: frame t from the window ending `lookahead` frames after it (what
    `WhisperWindow` gives a stream). hop > 1 encodes once per `hop` frames, keeping the last `hop`
    rows (a look-ahead of `lookahead` .. lookahead + hop - 1 frames): for training data, hop times
    cheaper."""
    padded = np.zeros((num_frames + lookahead + hop) * SAMPLES_PER_FRAME, np.float32)
    n = min(len(audio), len(padded))
    padded[:n] = audio[:n]
    out = np.zeros((num_frames, DIM), np.float32)
    for first in range(0, num_frames, hop):
        last = min(first + hop, num_frames) - 1
        end = last + lookahead + 1
        start = max(0, end - window)
        feats = encode_window(padded[start * SAMPLES_PER_FRAME:end * SAMPLES_PER_FRAME])
        out[first:last + 1] = feats[first - start:last + 1 - start]
    return out


class WhisperWindow:
    """A stream's audio, kept for the last `window` frames: push samples, then ask for frame t's
    features once the audio `lookahead` frames past its end has arrived."""

    def __init__(self, lookahead: int, window: int = WINDOW):
        self.lookahead, self.window = lookahead, window
        self.reset()

    def reset(self) -> None:
        self._audio = np.zeros(0, np.float32)
        self._start = 0               # frame index of self._audio[0]

    def push(self, samples: np.ndarray) -> None:
        self._audio = np.concatenate([self._audio, np.asarray(samples, np.float32)])

    def ready(self) -> int:
        """Frames whose features can be computed now."""
        heard = self._start + len(self._audio) // SAMPLES_PER_FRAME
        return max(0, heard - self.lookahead)

    def features(self, frame: int) -> np.ndarray:
        """(384,) for `frame` (< ready(), and not before a frame asked for earlier); the audio
        no later frame needs is dropped."""
        end = frame + self.lookahead + 1
        start = max(0, end - self.window)
        if frame >= self.ready() or start < self._start:
            raise ValueError(f"frame {frame} is not in the window (frames {self._start} .. {self.ready() - 1})")
        a = (start - self._start) * SAMPLES_PER_FRAME
        row = encode_window(self._audio[a:a + (end - start) * SAMPLES_PER_FRAME])[frame - start]
        drop = max(0, end + 1 - self.window - self._start)      # frames the next frame's window starts after
        self._audio, self._start = self._audio[drop * SAMPLES_PER_FRAME:], self._start + drop
        return row
