"""The capture pipeline, stage IV: video -> FaceMotion (ARKit-52 weights + head rotation) on the FaceRig.

    landmarks (MediaPipe, tracking mode) -> head pose (weak perspective, rigid vertices)
    -> frontalised landmarks -> pose-dependent neutral, per-video identity offset and the clip's
    average weights (MAP from the average frame) -> per-frame bounded MAP on the rig targets
    -> gaps filled, temporal smoothing -> FaceMotion at 25 fps with confidence and the audio.

The MAP fit (pose to per-frame weights) is track_fit.py; the learned correction after it, refine.py.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ...errors import TalkstyleError
from ...face.motion import DEFAULT_FPS, FaceMotion
from .landmarks import LandmarkTrack
from .track_fit import fit_track

# Fit residual (mm, RMS over the rigid vertices) at which confidence falls to exp(-1).
RESIDUAL_SCALE_MM = 4.0


@dataclasses.dataclass
class Capture:
    motion: FaceMotion          # 25 fps, confidence per frame (0 = tracking lost), audio if any
    track: LandmarkTrack        # the raw landmarks at the video's own frame rate
    notes: list[str]            # what the user should know (several faces, frames lost, no audio)


def _fill_gaps(x: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Linear interpolation over frames without a face (held at the ends)."""
    t = np.arange(len(found))
    flat = x.reshape(len(x), -1)
    out = np.stack([np.interp(t, t[found], flat[found, j]) for j in range(flat.shape[1])], 1)
    return out.reshape(x.shape)


def smooth(x: np.ndarray, fps: float, seconds: float = 0.2) -> np.ndarray:
    """Savitzky-Golay (quadratic) over about `seconds`: removes landmark jitter, keeps lip closures."""
    from scipy.signal import savgol_filter

    window = int(round(seconds * fps)) | 1
    if window < 5 or len(x) <= window:
        return x
    return savgol_filter(x, window, 2, axis=0, mode="interp")


def motion_from_landmarks(track: LandmarkTrack, rig=None, refine: bool = True) -> tuple[FaceMotion, np.ndarray]:
    """FaceMotion at the video's frame rate and the per-video neutral (468, 3) from landmarks.
    `refine`: correct the MAP weights with the learned refiner (refine.py)."""
    from .landmark_model import pose_correction
    from .refine import default_refiner

    found = track.found
    tf = fit_track(track, rig)
    weights_found = default_refiner()(tf.fit, tf.angles, track.fps) if refine else tf.fit.weights

    T = track.num_frames
    weights = np.zeros((T, weights_found.shape[1]))
    head = np.zeros((T, 3))
    gain, offset = pose_correction()
    weights[found] = weights_found
    head[found] = gain * tf.angles + offset
    weights, head = _fill_gaps(weights, found), _fill_gaps(head, found)
    confidence = np.zeros(T)
    confidence[found] = np.exp(-(tf.residual / RESIDUAL_SCALE_MM) ** 2)
    weights = np.clip(smooth(weights, track.fps), 0.0, 1.0)
    head = smooth(head, track.fps)
    motion = FaceMotion(weights, head, track.fps, confidence=confidence)
    return motion, tf.fit.neutral


def capture_video(path: str | Path, rig=None) -> Capture:
    """Capture one video file. Raises TalkstyleError on unusable input (no face, not a video)."""
    from ...audio.io import load_audio
    from .landmarks import track_video
    from .video import probe_video

    path = Path(path)
    info = probe_video(path)
    track = track_video(path)
    notes = []
    if (track.num_faces > 1).any():
        notes.append(f"several faces in {int((track.num_faces > 1).sum())} frames: kept the largest")
    lost = 1.0 - track.found.mean()
    if lost > 0:
        notes.append(f"face lost in {100 * lost:.1f}% of frames")
    motion, _ = motion_from_landmarks(track, rig)
    motion = motion.resample(DEFAULT_FPS)
    audio, rate = None, None
    try:
        audio, rate = load_audio(path), 16000
    except TalkstyleError as e:      # no track, or one that does not decode: keep the motion
        notes.append("no audio track" if not info.has_audio else f"audio unusable: {e}")
    motion = dataclasses.replace(motion, audio=audio, sample_rate=rate, metadata={
        "backend": "capture", "source": path.name, "source_fps": info.fps,
        "size": [info.width, info.height], "notes": notes})
    return Capture(motion, track, notes)
