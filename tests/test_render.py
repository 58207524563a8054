"""Preview rendering: frames show the face, videos carry video and audio, the showcase covers
every blendshape, and `talkstyle render` fails cleanly on bad input."""

import av
import numpy as np
import pytest

from talkstyle.face import ARKIT_NAMES, FaceMotion
from talkstyle.face.rig import FaceRig
from talkstyle.face.showcase import showcase_motion
from talkstyle.render.grid import render_grid, render_motion
from talkstyle.render.renderer import BACKGROUND, Renderer
from talkstyle.render.video import write_video


@pytest.fixture(scope="module")
def renderer():
    with Renderer(size=128) as r:
        yield r


def _face_pixels(frame: np.ndarray) -> np.ndarray:
    bg = np.round(np.array(BACKGROUND) * 255)
    return np.abs(frame.astype(int) - bg).sum(-1) > 30


def test_frame_shows_the_face_centred(renderer):
    frame = renderer.render_frame(FaceRig.default().neutral)
    assert frame.shape == (128, 128, 3) and frame.dtype == np.uint8
    mask = _face_pixels(frame)
    assert 0.15 < mask.mean() < 0.8                      # a face, not an empty or flooded frame
    ys, xs = np.nonzero(mask)
    assert abs(xs.mean() - 64) < 12 and abs(ys.mean() - 64) < 20


def test_open_jaw_darkens_the_mouth(renderer):
    rig = FaceRig.default()
    w = np.zeros((2, 52), np.float32)
    w[1, ARKIT_NAMES.index("jawOpen")] = 1.0
    closed, opened = renderer.render(rig.decode(FaceMotion(w, np.zeros((2, 3)))))
    lower = slice(75, 110)                                # the mouth region of a 128 px frame
    dark = lambda f: (f[lower].astype(int).sum(-1) < 150).sum()  # noqa: E731
    assert dark(opened) > dark(closed) + 20


def test_fallback_rasteriser_matches_egl(renderer):
    rig = FaceRig.default()
    w = np.zeros((1, 52), np.float32)
    w[0, ARKIT_NAMES.index("jawOpen")] = 0.6
    v = rig.decode_weights(w, np.array([[0.1, 0.3, 0.05]]))[0]
    with Renderer(size=128, backend="numpy") as fallback:
        assert fallback.backend == "numpy"
        a, b = renderer.render_frame(v), fallback.render_frame(v)
    ma, mb = _face_pixels(a), _face_pixels(b)
    assert (ma & mb).sum() / (ma | mb).sum() > 0.95                 # same silhouette and mouth
    assert np.abs(a.astype(int) - b).mean() < 6                     # and nearly the same shading


def test_renderer_releases_its_gl_context_when_the_block_raises():
    with pytest.raises(ValueError):
        with Renderer(size=64) as r:
            gl = r._gl
            raise ValueError("boom")
    assert r._gl is None
    if gl is not None:        # EGL here: its context is gone, not leaked
        with pytest.raises(Exception):
            gl.ctx.buffer(reserve=4)


def test_texture_and_light_are_used():
    v = FaceRig.default().neutral
    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 0] = 255
    for backend in ("auto", "numpy"):
        with Renderer(size=96, texture=red, backend=backend) as r:
            frame = r.render_frame(v)
        face = _face_pixels(frame)
        assert frame[face, 0].mean() > 3 * frame[face, 1].mean()   # the face is red
    with Renderer(size=96, light_dir=(-1, 0, 0.3)) as r:
        left = r.render_frame(v).astype(int).sum(-1)
    with Renderer(size=96, light_dir=(1, 0, 0.3)) as r:
        right = r.render_frame(v).astype(int).sum(-1)
    assert left[:, :40].mean() > right[:, :40].mean() + 10           # lit from the viewer's left


def test_showcase_covers_every_shape_then_nod_and_shake():
    m = showcase_motion()
    segs = m.metadata["showcase"]
    assert [s["name"] for s in segs] == list(ARKIT_NAMES) + ["nod", "shake"]
    for k, s in enumerate(segs[:52]):
        peak = m.weights[s["start"]:s["stop"], k].max()
        others = np.delete(m.weights[s["start"]:s["stop"]], k, axis=1)
        assert peak > 0.95 and others.max() == 0.0
    nod, shake = segs[52], segs[53]
    assert np.abs(m.head[nod["start"]:nod["stop"], 0]).max() > np.radians(8)
    assert np.abs(m.head[shake["start"]:shake["stop"], 1]).max() > np.radians(8)
    assert np.abs(m.head[nod["start"]:nod["stop"], 1]).max() == 0.0


def _streams(path):
    with av.open(str(path)) as c:
        return ({s.type: s for s in c.streams}, c.streams.video[0].frames,
                float(c.duration) / 1e6 if c.duration else 0.0)


def test_video_has_h264_and_aac_of_the_right_length(tmp_path):
    frames = (np.full((64, 64, 3), i * 5, np.uint8) for i in range(25))
    audio = 0.1 * np.sin(np.linspace(0, 2000, 16000)).astype(np.float32)
    path = write_video(tmp_path / "v.mp4", frames, 25, audio, 16000)
    streams, nframes, duration = _streams(path)
    assert streams["video"].codec_context.name == "h264" and streams["audio"].codec_context.name == "aac"
    assert nframes == 25 and 0.9 < duration < 1.2
    assert not list(tmp_path.glob(".*"))                  # no temporary left behind


def test_grid_and_single_render(tmp_path):
    a = showcase_motion().slice(0, 10)
    b = FaceMotion.neutral(10)
    grid = render_grid([a, b], tmp_path / "g.mp4", captions=["showcase", "neutral"], size=64, progress=False)
    with av.open(str(grid)) as c:
        v = c.streams.video[0]
        assert (v.width, v.height) == (128, 64)
    one = render_motion(b, tmp_path / "one.mp4", size=64, progress=False)
    assert _streams(one)[1] == 10


@pytest.mark.slow   # 8.9 s: seven fresh interpreters, one renders video (--durations)
def test_render_cli_writes_video_and_rejects_bad_input(tmp_path, talkstyle, user_error):
    m = showcase_motion().slice(0, 8)
    m.save(tmp_path / "m.npz")
    ok = talkstyle("render", "m.npz", "-o", "m.mp4", "--size", "64", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "m.mp4").stat().st_size > 0

    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    (tmp_path / "text.wav").write_text("this is not audio")
    with np.load(tmp_path / "m.npz") as z:                      # a FaceMotion file with a NaN in it
        arrays = dict(z)
    arrays["weights"][3, 7] = np.nan
    np.savez(tmp_path / "nan.npz", **arrays)
    cases = [
        ("render", "missing.npz", "-o", "a.mp4"),
        ("render", "junk.npz", "-o", "b.mp4"),
        ("render", "m.npz", "--audio", "text.wav", "-o", "c.mp4"),
        ("render", "m.npz", "-o", "no/such/dir/d.mp4"),
        ("render", "nan.npz", "-o", "e.mp4"),
        ("render", "m.npz", "--size", "0", "-o", "f.mp4"),
    ]
    for args in cases:
        user_error(talkstyle(*args, cwd=tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.npz", "m.mp4", "m.npz", "nan.npz", "text.wav"]
