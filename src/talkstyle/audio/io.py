"""Read any audio (or the audio track of a video) that ffmpeg reads; write wav atomically."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import TalkstyleError

SAMPLE_RATE = 16000


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE, progress: bool = False) -> np.ndarray:
    """Decode, downmix to mono and resample to `sample_rate`. Returns float32 (S,) in [-1, 1].

    NaN or infinite samples (a damaged float file) are an error naming how many, not silently
    zeroed. `progress` shows a bar of decoded seconds (long files take a while).
    """
    import av
    from tqdm import tqdm

    from ..validate import input_file

    path = input_file(path, "audio file")
    chunks: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise TalkstyleError(f"no audio track in {path}")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            seconds = container.duration / 1e6 if container.duration else None
            bar = tqdm(total=round(seconds, 1) if seconds else None, desc="decoding audio", unit="s",
                       disable=not progress or (seconds or 0) < 60, leave=False)   # long files only
            decoded = 0
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    decoded += chunks[-1].size
                    if decoded >= sample_rate * 10:          # every 10 s of audio
                        bar.update(round(decoded / sample_rate, 1))
                        decoded = 0
            bar.close()
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except TalkstyleError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise TalkstyleError(f"cannot decode audio from {path}: {e}") from None
    if not chunks:
        raise TalkstyleError(f"audio in {path} is empty")
    audio = np.concatenate(chunks).astype(np.float32)
    if audio.size == 0:
        raise TalkstyleError(f"audio in {path} is empty")
    bad = ~np.isfinite(audio)
    if bad.any():
        raise TalkstyleError(f"audio in {path} has {int(bad.sum())} NaN or infinite samples "
                             f"({100 * bad.mean():.1f}%): the file is damaged")
    return np.clip(audio, -1.0, 1.0)


def save_wav(path: str | Path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write 16-bit PCM wav atomically."""
    import soundfile as sf

    path = Path(path)
    with atomic_path(path, suffix=".wav") as tmp:
        sf.write(str(tmp), np.clip(audio, -1, 1), sample_rate, subtype="PCM_16", format="WAV")
    return path
