"""MediaPipe face-mesh landmarks per video frame, in tracking mode.

mediapipe==0.10.21 is the last PyPI wheel that ships the face-mesh model files, so the legacy
`mp.solutions.face_mesh` runs fully offline (see DEPENDENCIES.md). 468 landmarks; landmark i is
vertex i of the canonical mesh the FaceRig is built on. Two faces are tracked so that a second
person is noticed; the largest face is kept.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path
from typing import Iterable

import numpy as np

NUM_LANDMARKS = 468


@dataclasses.dataclass
class LandmarkTrack:
    """Landmarks of one video. Pixel units: x right, y down, z toward the camera negative
    (MediaPipe's relative depth, scaled like x)."""
    points: np.ndarray          # (T, 468, 3) float32; NaN where no face was found
    found: np.ndarray           # (T,) bool
    num_faces: np.ndarray       # (T,) int, faces MediaPipe saw in the frame
    fps: float
    width: int
    height: int

    @property
    def num_frames(self) -> int:
        return int(self.found.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The track as named arrays, for np.savez (from_arrays reads them back)."""
        return {f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_arrays(cls, z) -> "LandmarkTrack":
        return cls(z["points"], z["found"], z["num_faces"], float(z["fps"]), int(z["width"]), int(z["height"]))


class FaceTracker:
    """One MediaPipe FaceMesh graph in tracking mode (detects only when the track is lost)."""

    def __init__(self, max_faces: int = 2) -> None:
        from ...native_log import quiet_native_stderr

        os.environ.setdefault("GLOG_minloglevel", "2")  # quiet MediaPipe's C++ logging
        # TFLite's and absl's lines ignore the variable, and the graph's threads log when they
        # like: native stderr is filtered for the tracker's whole life (until close()).
        self._quiet = contextlib.ExitStack()
        self._quiet.enter_context(quiet_native_stderr())
        try:
            from mediapipe.python.solutions import face_mesh

            self._mesh = face_mesh.FaceMesh(static_image_mode=False, max_num_faces=max_faces,
                                            refine_landmarks=False, min_detection_confidence=0.5,
                                            min_tracking_confidence=0.5)
        except BaseException:
            self._quiet.close()
            raise

    def __enter__(self) -> "FaceTracker":
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._mesh.close()
        finally:
            self._quiet.close()

    def track(self, frame: np.ndarray) -> tuple[np.ndarray | None, int]:
        """Landmarks (468, 3) in pixels of the largest face in an RGB frame, and the face count."""
        h, w = frame.shape[:2]
        result = self._mesh.process(frame)
        faces = result.multi_face_landmarks or []
        if not faces:
            return None, 0
        arrays = [np.array([(p.x, p.y, p.z) for p in f.landmark], np.float32) for f in faces]
        areas = [np.ptp(a[:, 0]) * np.ptp(a[:, 1]) for a in arrays]
        best = arrays[int(np.argmax(areas))]
        return best * np.array([w, h, w], np.float32), len(faces)


def track_frames(frames: Iterable[np.ndarray], fps: float) -> LandmarkTrack:
    """Run the tracker over RGB frames (an iterator: frames are not kept in memory)."""
    points, found, counts = [], [], []
    width = height = 0
    with FaceTracker() as tracker:
        for frame in frames:
            height, width = frame.shape[:2]
            lm, n = tracker.track(frame)
            found.append(lm is not None)
            counts.append(n)
            points.append(lm if lm is not None else np.full((NUM_LANDMARKS, 3), np.nan, np.float32))
    return LandmarkTrack(np.stack(points) if points else np.zeros((0, NUM_LANDMARKS, 3), np.float32),
                         np.array(found, bool), np.array(counts, int), fps, width, height)


def track_video(path: str | Path) -> LandmarkTrack:
    from .video import probe_video, read_frames

    info = probe_video(path)
    return track_frames(read_frames(path), info.fps)
