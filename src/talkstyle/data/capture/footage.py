"""Test footage of a real face made offline: a photo moved, scaled and tilted over time.

No real face video ships in any registry package; skimage's astronaut photo (Eileen Collins,
NASA, public domain) does. Moving it gives capture a real human face with real texture, tracked
across frames, with a known rigid motion (the expression never changes).
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ...errors import TalkstyleError

# Crop of skimage.data.astronaut() holding the face with margin (rows, cols).
ASTRONAUT_FACE = (slice(0, 320), slice(70, 390))


def astronaut_face() -> np.ndarray:
    from skimage import data

    return data.astronaut()[ASTRONAUT_FACE]


def photo_frames(photo: np.ndarray, num_frames: int, size: int, fps: float = 25.0,
                 second_face: bool = False) -> list[np.ndarray]:
    """Frames of `photo` drifting (+-6% of the frame), zooming (+-8%) and rolling (+-6 deg).
    With `second_face`, a half-size copy sits in the top-left corner of every frame."""
    import cv2

    base = cv2.resize(photo, (size, size), interpolation=cv2.INTER_AREA)
    small = cv2.resize(photo, (size // 2, size // 2), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(num_frames):
        t = i / fps
        angle = 6.0 * np.sin(2 * np.pi * 0.4 * t)
        zoom = 1.0 + 0.08 * np.sin(2 * np.pi * 0.3 * t)
        M = cv2.getRotationMatrix2D((size / 2, size / 2), angle, zoom)
        M[:, 2] += 0.06 * size * np.array([np.sin(2 * np.pi * 0.25 * t), np.cos(2 * np.pi * 0.2 * t)])
        frame = cv2.warpAffine(base, M, (size, size), borderMode=cv2.BORDER_REPLICATE)
        if second_face:
            frame[: small.shape[0], : small.shape[1]] = small
        frames.append(frame)
    return frames


def write_photo_video(path: str | Path, seconds: float = 2.0, size: int = 256, fps: float = 25.0,
                      audio: np.ndarray | None = None, sample_rate: int = 16000,
                      second_face: bool = False, photo: np.ndarray | None = None) -> Path:
    """An mp4 of the moving photo (the astronaut's face by default), with `audio` if given."""
    from ...render.video import write_video

    photo = astronaut_face() if photo is None else photo
    frames = photo_frames(photo, int(round(seconds * fps)), size, fps, second_face)
    return write_video(path, frames, fps, audio=audio, sample_rate=sample_rate if audio is not None else None)


@functools.lru_cache(maxsize=1)
def astronaut_texture(size: int = 512) -> np.ndarray:
    """The face of skimage's astronaut photo (Eileen Collins, public domain) as a UV texture."""
    from skimage import data

    from ...face.texture import warp_to_uv
    from .landmarks import FaceTracker

    photo = data.astronaut()
    with FaceTracker(max_faces=1) as tracker:
        landmarks, _ = tracker.track(photo)
    if landmarks is None:
        raise TalkstyleError("no face found in the astronaut photo")
    return warp_to_uv(photo, landmarks, size)
