"""Previews: one motion, or several side by side with captions, as an mp4 with audio."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import TalkstyleError
from ..face.motion import FaceMotion
from ..face.rig import FaceRig
from .renderer import Renderer
from .video import write_video


def caption(frame: np.ndarray, text: str) -> np.ndarray:
    """Draw `text` in the top-left corner of an RGB frame (OpenCV's Hershey font)."""
    import cv2

    out = np.ascontiguousarray(frame)
    scale = max(0.35, frame.shape[1] / 900)
    for colour, width in (((0, 0, 0), 3), ((255, 235, 120), 1)):
        cv2.putText(out, text, (8, int(24 * scale + 6)), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, width, cv2.LINE_AA)
    return out


POSE_CHUNK = 25     # frames of head parts posed at once: fastest per frame, and bounded memory


def _posed_parts(renderer: Renderer, motion: FaceMotion, t: int, cache: dict) -> np.ndarray | None:
    """The head parts of `motion` at frame t, posed POSE_CHUNK frames at a time."""
    if renderer.parts is None:
        return None
    start = t - t % POSE_CHUNK
    if cache.get("start") != start:
        cache["start"] = start
        cache["parts"] = renderer.parts.pose(motion.weights[start:start + POSE_CHUNK], motion.head[start:start + POSE_CHUNK])
    return cache["parts"][t - start]


def _frames(motions: Sequence[FaceMotion], captions: Sequence[str] | None, renderer: Renderer, columns: int):
    rig = renderer.rig
    n = max(len(m) for m in motions)
    verts = [rig.decode(m) for m in motions]
    caches: list[dict] = [{} for _ in motions]
    rows = -(-len(motions) // columns)
    s = renderer.size
    for t in range(n):
        canvas = np.zeros((rows * s, columns * s, 3), np.uint8)
        for i, v in enumerate(verts):
            f = min(t, len(v) - 1)
            img = renderer.render_frame(v[f], _posed_parts(renderer, motions[i], f, caches[i]))
            if captions:
                img = caption(img, captions[i])
            r, c = divmod(i, columns)
            canvas[r * s:(r + 1) * s, c * s:(c + 1) * s] = img
        yield canvas


def render_grid(motions: Sequence[FaceMotion], path: str | Path, captions: Sequence[str] | None = None,
                audio: np.ndarray | None = None, sample_rate: int | None = None, size: int = 256,
                columns: int | None = None, progress: bool = True) -> Path:
    """Several motions side by side (same fps), each captioned; audio from the first by default."""
    if not motions:
        raise TalkstyleError("no motions to render")
    if len({m.fps for m in motions}) != 1:
        raise TalkstyleError("motions in one grid must share a frame rate")
    if captions is not None and len(captions) != len(motions):
        raise TalkstyleError("one caption per motion, please")
    if audio is None and motions[0].audio is not None:
        audio, sample_rate = motions[0].audio, motions[0].sample_rate
    columns = columns or min(len(motions), 4)
    with Renderer(size=size, rig=FaceRig.default(), head=True) as renderer:   # the whole head: eyes, teeth, hair
        # previews are looked at, not processed further: the fastest x264 preset (a minute is ~7 MB)
        return write_video(path, _frames(motions, captions, renderer, columns), motions[0].fps, audio, sample_rate,
                           total=max(len(m) for m in motions), progress=progress, preset="ultrafast")


def render_motion(motion: FaceMotion, path: str | Path, audio: np.ndarray | None = None,
                  sample_rate: int | None = None, size: int = 512, progress: bool = True) -> Path:
    """One motion as a preview mp4 (the motion's own audio unless `audio` is given)."""
    return render_grid([motion], path, None, audio, sample_rate, size=size, columns=1, progress=progress)
