"""Stage III: keep a clip only if its face and mouth are usable; say why when not.

Checks, on a FaceMotion (captured, or from any backend):
  tracked   the face was found in at least `min_tracked` of the frames (confidence > 0)
  pose      |yaw| and |pitch| stay within `max_angle_deg`
  jumps     the head never turns more than `max_jump_deg` from one frame to the next (25 fps)
  duration  within [min_seconds, max_seconds]
  sync      the mouth moves (5-95 percentile range of the lip gap at least `min_mouth_range_mm`)
            and its opening follows the speech: sync_score() >= `min_sync`

The sync score is made to hold on real footage (see scripts/calibrate_sync.py): the mouth
opening is the inner-lip gap of the whole rig (jaw, lips, mouthClose), not jawOpen alone; it is
scored only where there is speech (pauses hold smiles, breaths and a mouth left parted, which
say nothing about sync), against the loudness in dB, with its slow drift removed; and the
audio-video lag is searched over +-`max_lag_s` (containers and cameras are often off by a few
frames). Calibrated on real recordings with mouths known to be in sync and on the same clips
shifted by half a second.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..face.motion import DEFAULT_FPS, FaceMotion


@dataclasses.dataclass(frozen=True)
class FilterConfig:
    min_tracked: float = 0.95
    max_angle_deg: float = 45.0
    max_jump_deg: float = 10.0
    min_seconds: float = 1.0
    max_seconds: float = 60.0
    min_sync: float = 0.22             # calibrated: scripts/calibrate_sync.py (docs/data.md)
    min_mouth_range_mm: float = 3.0
    max_lag_s: float = 0.24            # audio-video offsets searched (6 frames at 25 fps)


@dataclasses.dataclass
class FilterResult:
    passed: bool
    reasons: list[str]                 # empty when passed
    measures: dict[str, float]         # the measured value of every check

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "ok"


def audio_envelope(audio: np.ndarray, sample_rate: int, num_frames: int, fps: float) -> np.ndarray:
    """RMS loudness per motion frame (T,)."""
    hop = sample_rate / fps
    edges = np.round(np.arange(num_frames + 1) * hop).astype(int)
    sq = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    edges = np.clip(edges, 0, len(audio))
    n = np.maximum(np.diff(edges), 1)
    return np.sqrt((sq[edges[1:]] - sq[edges[:-1]]) / n)


def best_lag_correlation(a: np.ndarray, b: np.ndarray, max_lag: int) -> tuple[float, int]:
    """Highest Pearson correlation of a[t] with b[t + lag] over |lag| <= max_lag, and that lag."""
    best, best_lag = -1.0, 0
    n = min(len(a), len(b))
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(0, -lag): n - max(0, lag)]
        y = b[max(0, lag): n - max(0, -lag) if lag < 0 else n][: len(x)]
        if len(x) < 3 or x.std() < 1e-9 or y.std() < 1e-9:
            continue
        r = float(np.corrcoef(x, y)[0, 1])
        if r > best:
            best, best_lag = r, lag
    return best, best_lag


def _running(x: np.ndarray, size: int, fn) -> np.ndarray:
    from scipy.ndimage import median_filter, uniform_filter1d

    size = max(1, min(size, len(x)))
    return median_filter(x, size=size, mode="nearest") if fn == "median" else \
        uniform_filter1d(x, size=size, mode="nearest")


def speech_frames(env_db: np.ndarray) -> np.ndarray:
    """(T,) bool: frames loud enough to be speech, from the loudness's own floor and peaks."""
    floor, peak = np.percentile(env_db, [10, 95])
    from scipy.ndimage import binary_dilation

    if peak - floor < 6.0:                       # no contrast at all: no speech to score on
        return np.zeros(len(env_db), bool)
    # 2 frames either side: the mouth opens into a word and closes after it
    return binary_dilation(env_db > floor + 0.3 * (peak - floor), iterations=2)


def sync_score(mouth: np.ndarray, audio: np.ndarray, sample_rate: int, fps: float,
               max_lag_s: float = FilterConfig.max_lag_s) -> tuple[float, int]:
    """(correlation, lag in frames): how well the mouth opening (T,) follows the speech.

    Loudness in dB per frame against the opening with its slow drift (1 s running median)
    removed, Pearson over speech frames only, at the best audio-video lag within +-max_lag_s.
    -1 when there is too little speech to tell.
    """
    T = len(mouth)
    env_db = 20 * np.log10(audio_envelope(audio, sample_rate, T, fps) + 1e-5)
    env_db = _running(env_db, 3, "mean")
    speech = speech_frames(env_db)
    opening = mouth - _running(mouth, int(round(fps)) | 1, "median")
    max_lag = int(round(max_lag_s * fps))
    best, best_lag = -1.0, 0
    for lag in range(-max_lag, max_lag + 1):
        # mouth[t + lag] against audio[t], over the speech frames t where t + lag is in range
        t = np.nonzero(speech)[0]
        t = t[(t + lag >= 0) & (t + lag < T)]
        if len(t) < max(10, int(fps)):           # under ~1 s of speech: not enough to tell
            continue
        x, y = opening[t + lag], env_db[t]
        if x.std() < 1e-9 or y.std() < 1e-9:
            continue
        r = float(np.corrcoef(x, y)[0, 1])
        if r > best:
            best, best_lag = r, lag
    return best, best_lag


def check_clip(motion: FaceMotion, config: FilterConfig = FilterConfig()) -> FilterResult:
    """Run every check; the clip passes when none fails."""
    c = config
    reasons: list[str] = []
    m: dict[str, float] = {}

    tracked = 1.0 if motion.confidence is None else float((motion.confidence > 0).mean())
    m["tracked"] = tracked
    if tracked < c.min_tracked:
        reasons.append(f"face tracked in {100 * tracked:.0f}% of frames (< {100 * c.min_tracked:.0f}%)")

    head = np.rad2deg(motion.head)
    m["max_pitch_deg"], m["max_yaw_deg"] = float(np.abs(head[:, 0]).max()), float(np.abs(head[:, 1]).max())
    if max(m["max_pitch_deg"], m["max_yaw_deg"]) > c.max_angle_deg:
        reasons.append(f"head turned {max(m['max_pitch_deg'], m['max_yaw_deg']):.0f} deg (> {c.max_angle_deg:.0f})")

    # Jumps are measured per frame at the system's rate (1/25 s) whatever the clip's rate.
    jump = np.abs(np.diff(head, axis=0)).max() * DEFAULT_FPS / motion.fps if motion.num_frames > 1 else 0.0
    m["max_jump_deg"] = float(jump)
    if jump > c.max_jump_deg:
        reasons.append(f"head pose jumps {jump:.0f} deg between frames (> {c.max_jump_deg:.0f})")

    m["duration_s"] = motion.duration
    if not c.min_seconds <= motion.duration <= c.max_seconds:
        reasons.append(f"duration {motion.duration:.1f} s outside [{c.min_seconds:g}, {c.max_seconds:g}] s")

    if motion.audio is None or motion.audio.size == 0:
        reasons.append("no audio")
    else:
        from ..face.rig import FaceRig

        mouth = FaceRig.default().mouth_opening(motion)
        lo, hi = np.percentile(mouth, [5, 95])
        r, lag = sync_score(mouth, motion.audio, motion.sample_rate, motion.fps, c.max_lag_s)
        m["mouth_range_mm"], m["sync_correlation"], m["sync_lag_frames"] = float(hi - lo), r, float(lag)
        if hi - lo < c.min_mouth_range_mm:
            reasons.append(f"mouth barely moves ({hi - lo:.1f} mm < {c.min_mouth_range_mm:g} mm)")
        elif r < c.min_sync:
            reasons.append(f"mouth does not follow the audio (correlation {r:.2f} < {c.min_sync:g})")
    return FilterResult(not reasons, reasons, m)
