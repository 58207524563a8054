"""Live Link Face CSV: the take format of Epic's Live Link Face iOS app, read by Unreal, Blender and
Maya importers.

One row a frame: `Timecode,BlendShapeCount`, the 52 ARKit weights in PascalCase, then head and eye
rotations. Conventions, checked against Unreal's ARKit plugin and CSV importers that read real takes:
- The blendshape columns are in the app's order: Apple's, except that JawRight comes before JawLeft
  and MouthRight before MouthLeft. Readers match columns by name.
- BlendShapeCount is 61: 52 shapes + 9 rotation columns.
- Timecode is `HH:MM:SS:FF.sss`: FF counts frames at the nominal timecode rate and `.sss` is the
  sub-frame in thousandths of a frame (a 59.94 fps take counted at 60 drifts .001 a frame).
- Head and eye angles are in radians (importers of real takes, such as Diffeomorphic's for Blender,
  use them unscaled). Unreal's in-engine ARKit source instead streams degrees/180;
  `write_csv(head_scale=1/pi)` writes that. Signs are FaceMotion's (face/rig.py): pitch > 0 tips
  the nose down, yaw > 0 turns it toward the subject's left, roll > 0 tilts the head toward the
  subject's right.
- Eye rotations are not in FaceMotion: they are derived from the eyeLook* weights (roll is 0).
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from ..atomic import write_text
from ..errors import TalkstyleError
from ..face.arkit import ARKIT_NAMES, INDEX, pascal
from ..face.motion import FaceMotion

# The app's order swaps two left/right pairs relative to Apple's.
_SWAPS = {"jawLeft": "jawRight", "jawRight": "jawLeft", "mouthLeft": "mouthRight", "mouthRight": "mouthLeft"}
LIVE_LINK_ORDER: tuple[str, ...] = tuple(_SWAPS.get(n, n) for n in ARKIT_NAMES)
HEAD_COLUMNS = ("HeadYaw", "HeadPitch", "HeadRoll")
EYE_COLUMNS = ("LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll", "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
HEADER: tuple[str, ...] = ("Timecode", "BlendShapeCount", *(pascal(n) for n in LIVE_LINK_ORDER),
                           *HEAD_COLUMNS, *EYE_COLUMNS)
BLENDSHAPE_COUNT = len(LIVE_LINK_ORDER) + len(HEAD_COLUMNS) + len(EYE_COLUMNS)  # 61
# Gaze angle at eyeLook* weight 1; ARKit's eyeLook shapes saturate around this.
EYE_MAX_RAD = math.radians(30.0)
TIMECODE_RATES = (24, 25, 30, 48, 50, 60, 100, 120)


# ---------------------------------------------------------------- timecode
def format_timecode(frame: int, fps: float, rate: int | None = None) -> str:
    """Timecode of frame `frame` of a motion at `fps`, counted at the integer `rate` (default round(fps))."""
    rate = rate or max(1, round(fps))
    # Round to thousandths of a frame first, so 2.9999999 frames prints as 3.000, not 2.999.
    total_milli = round(frame / fps * rate * 1000)
    frames, sub = divmod(total_milli, 1000)
    secs, ff = divmod(frames, rate)
    mins, ss = divmod(secs, 60)
    hh, mm = divmod(mins, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}.{sub:03d}"


def parse_timecode(text: str, rate: int) -> float:
    """Seconds of a `HH:MM:SS:FF[.sss]` timecode counted at `rate` frames a second."""
    try:
        hh, mm, ss, ff = text.strip().split(":")
        return int(hh) * 3600 + int(mm) * 60 + int(ss) + float(ff) / rate
    except ValueError:
        raise TalkstyleError(f"bad Live Link timecode {text!r} (expected HH:MM:SS:FF.sss)") from None


# ---------------------------------------------------------------- eyes
def eye_rotations(weights: np.ndarray) -> np.ndarray:
    """(T, 6) LeftEye yaw/pitch/roll, RightEye yaw/pitch/roll in radians from the eyeLook* weights.

    Signs as the head's (face/rig.py): yaw > 0 looks toward the subject's left, pitch > 0 looks
    down. The left eye looks to the subject's left when it looks out; the right eye when it looks in.
    """
    def w(name: str) -> np.ndarray:
        return weights[:, INDEX[name]]

    out = np.zeros((len(weights), 6), np.float32)
    out[:, 0] = (w("eyeLookOutLeft") - w("eyeLookInLeft")) * EYE_MAX_RAD
    out[:, 1] = (w("eyeLookDownLeft") - w("eyeLookUpLeft")) * EYE_MAX_RAD
    out[:, 3] = (w("eyeLookInRight") - w("eyeLookOutRight")) * EYE_MAX_RAD
    out[:, 4] = (w("eyeLookDownRight") - w("eyeLookUpRight")) * EYE_MAX_RAD
    return out


# ---------------------------------------------------------------- write
def to_csv_text(motion: FaceMotion, head_scale: float = 1.0) -> str:
    """The CSV as text. `head_scale` multiplies the radian angles (1/pi gives Unreal's degrees/180)."""
    order = [INDEX[n] for n in LIVE_LINK_ORDER]
    weights = motion.weights[:, order]
    pitch, yaw, roll = motion.head.T
    angles = np.concatenate([np.stack([yaw, pitch, roll], 1), eye_rotations(motion.weights)], 1) * head_scale
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    for i in range(motion.num_frames):
        writer.writerow([format_timecode(i, motion.fps), BLENDSHAPE_COUNT,
                         *(f"{v:.6f}" for v in weights[i]), *(f"{v:.6f}" for v in angles[i])])
    return buf.getvalue()


def write_csv(motion: FaceMotion, path: str | Path, head_scale: float = 1.0) -> Path:
    """Write a Live Link Face CSV atomically."""
    path = Path(path)
    write_text(path, to_csv_text(motion, head_scale))
    return path


# ---------------------------------------------------------------- read
def read_csv(path: str | Path, fps: float | None = None, head_scale: float = 1.0) -> FaceMotion:
    """Read a Live Link Face CSV into a FaceMotion (rows taken as evenly spaced frames).

    fps: the take's frame rate; by default inferred from the timecodes (takes of a second or less
    have no seconds rollover to infer it from: pass fps). Columns are matched by name,
    case-insensitively, so takes from the app and from other tools read alike. Missing head
    columns read as zero; `head_scale` divides the angles (pass 1/pi for degrees/180 files).
    """
    path = Path(path)
    if not path.is_file():
        raise TalkstyleError(f"CSV file not found: {path}")
    try:
        rows = [r for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))) if r]
    except (UnicodeDecodeError, csv.Error) as e:
        raise TalkstyleError(f"not a readable CSV: {path} ({e.__class__.__name__})") from None
    if len(rows) < 2:
        raise TalkstyleError(f"{path} has no frames")
    column = {name.strip().lower(): j for j, name in enumerate(rows[0])}
    missing = [pascal(n) for n in ARKIT_NAMES if n.lower() not in column]
    if missing or "timecode" not in column:
        raise TalkstyleError(f"{path} is not a Live Link Face CSV (missing {(missing or ['Timecode'])[0]})")
    head_names = [h for h in ("headpitch", "headyaw", "headroll") if h in column]
    wanted = [column[n.lower()] for n in ARKIT_NAMES] + [column[h] for h in head_names]
    try:
        values = np.array([[float(r[j]) for j in wanted] for r in rows[1:]], np.float64)
    except (ValueError, IndexError) as e:
        raise TalkstyleError(f"{path} has a short row or a non-numeric value ({e})") from None
    head = np.zeros((len(values), 3))
    for k, name in enumerate(("headpitch", "headyaw", "headroll")):
        if name in head_names:
            head[:, k] = values[:, len(ARKIT_NAMES) + head_names.index(name)] / head_scale
    if fps is None:
        fps = _fps_from_timecodes([r[column["timecode"]] for r in rows[1:]])
    return FaceMotion(weights=values[:, :len(ARKIT_NAMES)], head=head, fps=fps,
                      metadata={"source": str(path)})


def _fps_from_timecodes(codes: list[str]) -> float:
    """Median frame rate of the rows; the timecode rate is the standard rate above the largest FF."""
    if len(codes) < 2:
        raise TalkstyleError("cannot infer the frame rate of a one-frame CSV; pass fps")
    whole = [c.strip().split(".")[0] for c in codes]
    seconds = {w.rsplit(":", 1)[0] for w in whole}
    if len(seconds) < 2:
        raise TalkstyleError("cannot infer the frame rate of a take shorter than a second; pass fps")
    try:
        top = max(int(w.rsplit(":", 1)[1]) for w in whole)
    except (ValueError, IndexError):
        raise TalkstyleError("bad Live Link timecode (expected HH:MM:SS:FF.sss)") from None
    rate = next((r for r in TIMECODE_RATES if top < r), None)
    if rate is None:
        raise TalkstyleError(f"Live Link timecode frame field {top} exceeds {TIMECODE_RATES[-1]} fps")
    step = float(np.median(np.diff([parse_timecode(c, rate) for c in codes])))
    if step <= 0:
        raise TalkstyleError("Live Link timecodes do not increase; pass fps")
    return round(1.0 / step, 3)
