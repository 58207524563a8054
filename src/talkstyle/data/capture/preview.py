"""Preview of a capture: the source video (left) beside the FaceRig driven by the captured motion."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from ...face.motion import FaceMotion


def _source_at(video: Path, fps: float, times: np.ndarray) -> Iterator[np.ndarray]:
    """The source frame shown at each time (seconds): the last frame that started before it."""
    from .video import read_frames

    frames = read_frames(video)
    current, index = next(frames), 0
    for t in times:
        while (index + 1) / fps <= t + 1e-6:
            nxt = next(frames, None)
            if nxt is None:
                break
            current, index = nxt, index + 1
        yield current


def write_preview(video: str | Path, motion: FaceMotion, path: str | Path, size: int = 384) -> Path:
    import cv2

    from ...face.rig import FaceRig
    from ...render.renderer import Renderer
    from ...render.video import write_video
    from .video import probe_video

    video = Path(video)
    info = probe_video(video)
    times = np.arange(motion.num_frames) / motion.fps

    def frames(renderer: Renderer) -> Iterator[np.ndarray]:
        rig_frames = renderer.render(FaceRig.default().decode(motion))
        for src, face in zip(_source_at(video, info.fps, times), rig_frames):
            w = int(round(src.shape[1] * size / src.shape[0]))
            yield np.concatenate([cv2.resize(src, (w - w % 2, size), interpolation=cv2.INTER_AREA), face], 1)

    with Renderer(size) as renderer:
        return write_video(path, frames(renderer), motion.fps, audio=motion.audio, sample_rate=motion.sample_rate,
                           total=motion.num_frames, progress=True)
