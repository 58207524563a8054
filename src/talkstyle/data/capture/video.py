"""Decode the frames of a video file (any container ffmpeg reads) with PyAV.

Every way a file can fail to be a usable video ends in one TalkstyleError sentence: missing,
unreadable, no video stream, no frames, or a still image.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator

import numpy as np

from ...errors import TalkstyleError

# Containers that hold a single picture (a photo renamed .mp4 still decodes as one frame).
MIN_FRAMES = 2


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    path: Path
    fps: float
    width: int
    height: int
    has_audio: bool


def _open(path: Path):
    import av

    if not path.is_file():
        raise TalkstyleError(f"video file not found: {path}")
    if path.stat().st_size == 0:
        raise TalkstyleError(f"video file is empty (0 bytes): {path}")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise TalkstyleError(f"not a readable video: {path} ({e.__class__.__name__})") from None
    if not container.streams.video:
        container.close()
        raise TalkstyleError(f"no video stream in {path}")
    return container


def probe_video(path: str | Path) -> VideoInfo:
    """Frame rate, size and whether there is an audio track, without decoding."""
    path = Path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        if not (0 < fps <= 1000):
            raise TalkstyleError(f"{path} has no usable frame rate (a still image?)")
        return VideoInfo(path, fps, int(stream.codec_context.width), int(stream.codec_context.height),
                         bool(container.streams.audio))


def read_frames(path: str | Path) -> Iterator[np.ndarray]:
    """Yield RGB uint8 (H, W, 3) frames in display order.

    Raises TalkstyleError when nothing decodes, when the file holds a single picture, or when the
    stream is corrupt before MIN_FRAMES frames; corruption later truncates the clip (the frames
    decoded so far are kept, as a player would show them).
    """
    import av

    path = Path(path)
    count = 0
    with _open(path) as container:
        stream = container.streams.video[0]
        try:
            for frame in container.decode(stream):
                count += 1
                yield frame.to_ndarray(format="rgb24")
        except (av.error.FFmpegError, ValueError) as e:
            if count < MIN_FRAMES:
                raise TalkstyleError(f"corrupt video: {path} ({e.__class__.__name__})") from None
    if count == 0:
        raise TalkstyleError(f"video has no frames: {path}")
    if count < MIN_FRAMES:
        raise TalkstyleError(f"{path} is a still image, not a video")
