"""Exporters: Live Link Face CSV (header, timecodes, round trip) and GLB."""
from __future__ import annotations

import numpy as np
import pytest

from talkstyle.errors import TalkstyleError
from talkstyle.export import livelink
from talkstyle.face.arkit import INDEX
from talkstyle.face.motion import FaceMotion

# The header row of a take recorded by the Live Link Face app (as read by Unreal, Blender and
# MotionBuilder importers); note JawRight/JawLeft and MouthRight/MouthLeft in Unreal's order.
LIVE_LINK_FACE_HEADER = (
    "Timecode,BlendShapeCount,EyeBlinkLeft,EyeLookDownLeft,EyeLookInLeft,EyeLookOutLeft,EyeLookUpLeft,"
    "EyeSquintLeft,EyeWideLeft,EyeBlinkRight,EyeLookDownRight,EyeLookInRight,EyeLookOutRight,"
    "EyeLookUpRight,EyeSquintRight,EyeWideRight,JawForward,JawRight,JawLeft,JawOpen,MouthClose,"
    "MouthFunnel,MouthPucker,MouthRight,MouthLeft,MouthSmileLeft,MouthSmileRight,MouthFrownLeft,"
    "MouthFrownRight,MouthDimpleLeft,MouthDimpleRight,MouthStretchLeft,MouthStretchRight,MouthRollLower,"
    "MouthRollUpper,MouthShrugLower,MouthShrugUpper,MouthPressLeft,MouthPressRight,MouthLowerDownLeft,"
    "MouthLowerDownRight,MouthUpperUpLeft,MouthUpperUpRight,BrowDownLeft,BrowDownRight,BrowInnerUp,"
    "BrowOuterUpLeft,BrowOuterUpRight,CheekPuff,CheekSquintLeft,CheekSquintRight,NoseSneerLeft,"
    "NoseSneerRight,TongueOut,HeadYaw,HeadPitch,HeadRoll,LeftEyeYaw,LeftEyePitch,LeftEyeRoll,"
    "RightEyeYaw,RightEyePitch,RightEyeRoll"
)


def random_motion(frames: int = 60, fps: float = 25.0, seed: int = 0) -> FaceMotion:
    rng = np.random.default_rng(seed)
    return FaceMotion(rng.uniform(0, 1, (frames, 52)), rng.uniform(-0.4, 0.4, (frames, 3)), fps)


# ---------------------------------------------------------------- CSV
def test_csv_header_is_live_link_face_exactly(tmp_path):
    path = livelink.write_csv(random_motion(), tmp_path / "take.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == LIVE_LINK_FACE_HEADER
    assert len(lines) == 61
    fields = lines[1].split(",")
    assert len(fields) == 63 and fields[0] == "00:00:00:00.000" and fields[1] == "61"


def test_csv_columns_carry_the_named_channel(tmp_path):
    m = FaceMotion.neutral(30)
    m.weights[:, INDEX["jawLeft"]] = 0.25
    m.weights[:, INDEX["mouthRight"]] = 0.75
    m.head[:, 1] = 0.1                                          # yaw
    path = livelink.write_csv(m, tmp_path / "t.csv")
    header, row = [line.split(",") for line in path.read_text().splitlines()[:2]]
    value = dict(zip(header, row))
    assert float(value["JawLeft"]) == 0.25 and float(value["JawRight"]) == 0
    assert float(value["MouthRight"]) == 0.75 and float(value["MouthLeft"]) == 0
    assert float(value["HeadYaw"]) == pytest.approx(0.1, abs=1e-6) and float(value["HeadPitch"]) == 0


@pytest.mark.parametrize("frame, fps, expected", [
    (0, 25, "00:00:00:00.000"),
    (24, 25, "00:00:00:24.000"),
    (25, 25, "00:00:01:00.000"),
    (25 * 3661 + 7, 25, "01:01:01:07.000"),
    (45, 60, "00:00:00:45.000"),
    (2, 59.94, "00:00:00:02.002"),        # counted at 60: a 59.94 take drifts .001 frame a frame
    (30, 30000 / 1001, "00:00:01:00.030"),
])
def test_timecode(frame, fps, expected):
    assert livelink.format_timecode(frame, fps) == expected


def test_timecode_never_prints_a_full_subframe():
    for i in range(3000):
        ff, sub = livelink.format_timecode(i, 29.97).rsplit(":", 1)[1].split(".")
        assert int(ff) < 30 and int(sub) < 1000


def test_eye_rotations_follow_gaze():
    w = np.zeros((4, 52))
    w[0, INDEX["eyeLookOutLeft"]] = w[0, INDEX["eyeLookInRight"]] = 1.0   # both look to the subject's left
    w[1, INDEX["eyeLookUpLeft"]] = w[1, INDEX["eyeLookUpRight"]] = 0.5
    w[2, INDEX["eyeLookInLeft"]] = 1.0                                     # left eye to the subject's right
    eyes = livelink.eye_rotations(w)
    assert eyes[0, 0] == pytest.approx(livelink.EYE_MAX_RAD) and eyes[0, 3] == pytest.approx(livelink.EYE_MAX_RAD)
    assert eyes[1, 1] == pytest.approx(livelink.EYE_MAX_RAD / 2) and eyes[1, 4] == pytest.approx(eyes[1, 1])
    assert eyes[2, 0] == pytest.approx(-livelink.EYE_MAX_RAD)
    assert not eyes[3].any() and not eyes[:, [2, 5]].any()               # no roll


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_csv_round_trip(tmp_path, fps):
    m = random_motion(int(2.5 * fps), fps)
    back = livelink.read_csv(livelink.write_csv(m, tmp_path / "t.csv"))
    assert back.fps == fps and back.num_frames == m.num_frames
    np.testing.assert_allclose(back.weights, m.weights, atol=1e-6)
    np.testing.assert_allclose(back.head, m.head, atol=1e-6)


def test_csv_round_trip_normalised_head_units(tmp_path):
    m = random_motion()
    path = livelink.write_csv(m, tmp_path / "t.csv", head_scale=1 / np.pi)   # Unreal's degrees/180
    row = path.read_text().splitlines()[1].split(",")
    assert float(row[54]) == pytest.approx(m.head[0, 1] / np.pi, abs=1e-6)   # HeadYaw
    back = livelink.read_csv(path, head_scale=1 / np.pi)
    np.testing.assert_allclose(back.head, m.head, atol=1e-5)


def test_read_csv_matches_columns_by_name_in_any_order(tmp_path):
    m = random_motion(30)
    header, *rows = [line.split(",") for line in livelink.to_csv_text(m).splitlines()]
    order = [0, 1] + list(range(62, 1, -1))          # shapes and angles reversed
    text = "\n".join(",".join(r[j] for j in order) for r in [[h.lower() for h in header], *rows])
    (tmp_path / "shuffled.csv").write_text(text)
    back = livelink.read_csv(tmp_path / "shuffled.csv", fps=25)
    np.testing.assert_allclose(back.weights, m.weights, atol=1e-6)
    np.testing.assert_allclose(back.head, m.head, atol=1e-6)


def test_read_csv_infers_59_94(tmp_path):
    m = random_motion(150, 60000 / 1001)
    back = livelink.read_csv(livelink.write_csv(m, tmp_path / "t.csv"))
    assert back.fps == pytest.approx(59.94, abs=0.01)


def test_read_csv_errors(tmp_path):
    with pytest.raises(TalkstyleError, match="not found"):
        livelink.read_csv(tmp_path / "missing.csv")
    (tmp_path / "other.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(TalkstyleError, match="missing EyeBlinkLeft"):
        livelink.read_csv(tmp_path / "other.csv")
    text = livelink.to_csv_text(random_motion(30))
    (tmp_path / "bad.csv").write_text(text.replace("0.", "x.", 1).replace(",61,", ",61,oops", 1))
    with pytest.raises(TalkstyleError, match="non-numeric"):
        livelink.read_csv(tmp_path / "bad.csv")
    (tmp_path / "short.csv").write_text(text.splitlines()[0] + "\n" + "00:00:00:00.000,61,0.1\n")
    with pytest.raises(TalkstyleError, match="short row"):
        livelink.read_csv(tmp_path / "short.csv", fps=25)
    (tmp_path / "one_second.csv").write_text("\n".join(text.splitlines()[:10]))
    with pytest.raises(TalkstyleError, match="pass fps"):
        livelink.read_csv(tmp_path / "one_second.csv")
    assert livelink.read_csv(tmp_path / "one_second.csv", fps=25).num_frames == 9


def test_write_csv_is_atomic(tmp_path):
    with pytest.raises(TalkstyleError, match="does not exist"):
        livelink.write_csv(random_motion(), tmp_path / "nope" / "t.csv")
    livelink.write_csv(random_motion(), tmp_path / "t.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]
