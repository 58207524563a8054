"""Capture (stage IV): landmarks on a real photo, pose and solver maths, whole videos, the CLI."""
from __future__ import annotations


import numpy as np
import pytest

from talkstyle.errors import TalkstyleError


@pytest.fixture(scope="module")
def astronaut_video(tmp_path_factory):
    from talkstyle.data.capture.footage import write_photo_video

    path = tmp_path_factory.mktemp("footage") / "astronaut.mp4"
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000 * 2)).astype(np.float32)
    return write_photo_video(path, seconds=2.0, size=256, audio=audio)


def test_landmarks_sit_on_the_astronaut_face():
    from skimage import data

    from talkstyle.data.capture.landmarks import FaceTracker

    with FaceTracker() as tracker:
        lm, n = tracker.track(data.astronaut())
    assert n == 1 and lm.shape == (468, 3)
    # Her face is in the upper middle of the photo; subject's right eye (33) is left of the nose tip (1).
    assert 150 < lm[1, 0] < 300 and 80 < lm[1, 1] < 200
    assert lm[33, 0] < lm[1, 0] < lm[263, 0]
    assert lm[10, 1] < lm[1, 1] < lm[152, 1]          # forehead above nose above chin


def test_pose_fit_recovers_known_rotations():
    from talkstyle.data.capture import euler_from_rotation
    from talkstyle.data.capture.pose import fit_pose, rigid_vertices
    from talkstyle.face.rig import FaceRig, head_rotation

    rig = FaceRig.default()
    head = np.deg2rad(np.array([[0, 0, 0], [10, -25, 5], [-15, 30, -8], [20, 5, 12]], np.float64))
    V = np.einsum("tij,nj->tni", head_rotation(head), rig.neutral.astype(np.float64))
    rng = np.random.default_rng(0)
    points = 2.5 * V + np.array([200.0, -150.0, 0.0]) + rng.normal(0, 0.3, V.shape)   # pixels, y up
    pose = fit_pose(points, rig.neutral, rigid_vertices(rig.deltas))
    err = np.rad2deg(np.abs(euler_from_rotation(pose.rotation.astype(np.float64)) - head))
    assert err.max() < 1.0, err
    assert np.allclose(pose.scale, 2.5, rtol=0.02)


def test_bounded_solver_matches_scipy():
    from scipy.optimize import lsq_linear

    from talkstyle.data.capture.fit import solve_bounded

    rng = np.random.default_rng(1)
    A = rng.normal(size=(60, 8))
    b = rng.normal(size=(5, 60)) * 2
    ours = solve_bounded(A.T @ A, b @ A, iters=3000)
    for row, target in zip(ours, b):
        ref = lsq_linear(A, target, bounds=(0, 1)).x
        assert np.allclose(row, ref, atol=2e-3)
    assert ours.min() >= 0 and ours.max() <= 1


def test_fit_recovers_weights_from_model_landmarks():
    from talkstyle.data.capture import OBSERVABLE
    from talkstyle.data.capture.landmark_model import capture_model
    from talkstyle.data.capture.fit import LandmarkModel, fit_weights
    from talkstyle.face.arkit import INDEX

    neutral, deltas = capture_model().neutral, capture_model().deltas
    T = 40
    truth = np.zeros((T, 52))
    t = np.arange(T) / 25
    truth[:, INDEX["jawOpen"]] = 0.4 * (1 + np.sin(2 * np.pi * 1.5 * t)) / 2 + 0.05
    truth[:, INDEX["mouthSmileLeft"]] = np.linspace(0, 0.6, T)
    truth[:, INDEX["browInnerUp"]] = np.where(t > 0.8, 0.5, 0.0)
    front = neutral + np.einsum("tk,knj->tnj", truth, deltas)
    flat = np.eye(52)                                      # weak, uninformative priors, no pose drift
    model = LandmarkModel(neutral, deltas, np.zeros((20, 468, 3)), np.zeros((0, 468, 3)), flat,
                          np.zeros((1, 52)), np.ones(1), 100 * flat)   # one family
    est = fit_weights(front, np.tile(np.eye(3), (T, 1, 1)), np.zeros((T, 3)), model, OBSERVABLE, strength=0.05).weights
    assert np.abs(est - truth).mean() < 0.02
    assert np.corrcoef(est[:, INDEX["jawOpen"]], truth[:, INDEX["jawOpen"]])[0, 1] > 0.99


def test_fit_keeps_a_held_expression_out_of_the_neutral():
    """A smile held through the whole clip is an expression, not the person's identity (the
    shipped model: its identity prior and clip-average prior tell them apart)."""
    from talkstyle.data.capture import OBSERVABLE
    from talkstyle.data.capture.landmark_model import capture_model
    from talkstyle.data.capture.fit import fit_weights
    from talkstyle.face.arkit import INDEX

    model = capture_model()
    T = 60
    t = np.arange(T) / 25
    truth = np.zeros((T, 52))
    truth[:, INDEX["jawOpen"]] = 0.3 * (1 + np.sin(2 * np.pi * 2.0 * t)) / 2
    for name in ("mouthSmileLeft", "mouthSmileRight"):
        truth[:, INDEX[name]] = 0.8
    front = model.neutral + np.einsum("tk,knj->tnj", truth, model.deltas)
    est = fit_weights(front, np.tile(np.eye(3), (T, 1, 1)), np.zeros((T, 3)), model, OBSERVABLE).weights
    smile = est[:, [INDEX["mouthSmileLeft"], INDEX["mouthSmileRight"]]].mean()
    assert smile > 0.55, smile          # a median-residual neutral read 0.48 here; priors keep some doubt
    assert np.corrcoef(est[:, INDEX["jawOpen"]], truth[:, INDEX["jawOpen"]])[0, 1] > 0.95


def test_capture_real_face_footage(astronaut_video):
    """The astronaut photo drifting, zooming and rolling: tracked throughout, roll follows the
    image rotation, pitch and yaw stay put, the audio is kept."""
    from talkstyle.data.capture import capture_video

    cap = capture_video(astronaut_video)
    m = cap.motion
    assert m.fps == 25 and m.num_frames == 50
    assert (m.confidence > 0).mean() == 1.0
    assert m.audio is not None and m.sample_rate == 16000
    t = np.arange(m.num_frames) / 25
    image_roll = 6.0 * np.sin(2 * np.pi * 0.4 * t)       # footage.photo_frames' rotation, degrees
    head = np.rad2deg(m.head)
    assert np.corrcoef(head[:, 2], image_roll)[0, 1] > 0.9
    assert head[:, :2].std(0).max() < 2.0
    assert "no audio track" not in cap.notes


def test_several_faces_keep_the_largest(tmp_path):
    from talkstyle.data.capture import capture_video
    from talkstyle.data.capture.footage import write_photo_video

    path = write_photo_video(tmp_path / "two.mp4", seconds=0.6, size=320, second_face=True)
    cap = capture_video(path)
    assert any("several faces" in n for n in cap.notes) and "no audio track" in cap.notes
    # The small copy (nose near x = 80) sits in the top-left quarter; the kept face is centred.
    assert np.nanmean(cap.track.points[:, 1, 0]) > 120


def test_no_face_is_an_error(tmp_path):
    from talkstyle.data.capture import capture_video
    from talkstyle.render.video import write_video

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (128, 128, 3), dtype=np.uint8) for _ in range(10)]
    path = write_video(tmp_path / "noise.mp4", frames, 25)
    with pytest.raises(TalkstyleError, match="no face"):
        capture_video(path)


def test_texture_maps_landmarks_to_their_uvs():
    from talkstyle.face.rig import FaceRig
    from talkstyle.face.texture import warp_to_uv

    # A photo whose colour encodes position: the texture at vertex i's UV must hold the colour
    # at landmark i's position.
    yy, xx = np.mgrid[0:256, 0:256]
    photo = np.stack([xx, yy, np.full_like(xx, 128)], -1).astype(np.uint8)
    rig = FaceRig.default()
    landmarks = 60 + rig.uvs * 130                       # any plausible face layout in the photo
    tex = warp_to_uv(photo, landmarks, size=256)
    inner = [1, 4, 13, 33, 152, 263]
    uv_px = np.clip((rig.uvs[inner] * 256).astype(int), 0, 255)
    got = tex[uv_px[:, 1], uv_px[:, 0], :2].astype(float)
    assert np.abs(got - landmarks[inner]).max() < 3.0


def test_cli_bad_video_exits_2_without_output(tmp_path, talkstyle):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x01not a video" * 100)
    out = tmp_path / "m.npz"
    r = talkstyle("data", "capture", bad, "-o", out)
    assert r.returncode == 2 and "error:" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".m.npz*"))


def test_cli_still_image_exits_2(tmp_path, talkstyle):
    from PIL import Image
    from skimage import data

    still = tmp_path / "photo.mp4"
    Image.fromarray(data.astronaut()).save(still, format="PNG")
    r = talkstyle("data", "capture", still, "-o", tmp_path / "m.npz")
    assert r.returncode == 2 and "still image" in r.stderr
