"""The `talkstyle serve` page in a real browser (issue 18, item 3): headless Chromium from Debian,
its fake microphone reading a wav of real speech, driven over the DevTools protocol (tests/cdp.py).
Skipped, saying why, where Chromium or three.js is not installed."""
from __future__ import annotations

import asyncio
import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from talkstyle import assets
from talkstyle.audio.io import load_audio
from talkstyle.export.retarget import load_avatar, retarget_file
from talkstyle.face.motion import FaceMotion

from cdp import MISSING, Chromium, chromium_path
from serve_takes import need_three, write_take

pytestmark = [pytest.mark.slow,       # starts the server's model and a browser: 15-40 s
              pytest.mark.skipif(chromium_path() is None, reason=MISSING)]

BACKGROUND = np.array([0x30, 0x33, 0x3B])    # the 3D view's clear colour (web/app.js)
SUZANNE = Path(__file__).with_name("data") / "blender_suzanne.glb"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from talkstyle.server import Library, Server, running

    need_three()
    root = tmp_path_factory.mktemp("browser")
    speech = load_audio(assets.path("demo_speech.wav"))
    # The fake microphone: 1 s of silence, then the real speech (Chromium loops the file).
    mic = root / "speech.wav"
    sf.write(str(mic), np.concatenate([np.zeros(16000, np.float32), speech]), 16000, subtype="PCM_16")
    write_take(root / "takes" / "three_opens", 0.5 - 0.5 * np.cos(np.linspace(0, 6 * np.pi, 100)), speech)  # jaw opens 3x
    # The same take on a character that is not ours (Blender's monkey, "JawOpen" etc.), as
    # `talkstyle retarget takes/three_opens/motion.npz --avatar suzanne.glb -o takes/three_opens/suzanne.glb` writes it.
    retarget_file(FaceMotion.load(root / "takes" / "three_opens" / "motion.npz"), SUZANNE,
                  root / "takes" / "three_opens" / "suzanne.glb")
    with running(Server(Library(root / "takes"))) as url:
        yield url, mic, root


def face_pixels(png: bytes, box=(20, 56, 500, 500)) -> float:
    """Share of the 3D view's pixels that are not its background: the face drawn there."""
    import matplotlib.image as mpimg

    img = (mpimg.imread(io.BytesIO(png), format="png")[..., :3] * 255).round()
    x, y, w, h = box
    view = img[y:y + h, x:x + w]
    return float((np.abs(view - BACKGROUND).max(-1) > 12).mean())


def test_live_microphone_moves_the_jaw_with_the_speech(site, tmp_path):
    url, mic, _ = site

    async def session():
        async with Chromium(fake_microphone=mic) as page:
            await page.goto(url)
            await page.wait_for("window.talkstyle && window.talkstyle.ready", 90)
            shot_before = await page.screenshot()
            await page.evaluate("document.getElementById('mic').click()", user_gesture=True)
            await page.wait_for("talkstyle.frames >= 125", 120)                 # 5 s of frames
            await page.evaluate("talkstyleSetStyle({prompt: 'A man speaks with an angry expression.'})")
            await page.wait_for("talkstyle.styles.length === 1 && talkstyle.frames >= 150", 60)
            state = await page.evaluate("({frames: talkstyle.frames, jaw: talkstyle.jaw, rms: talkstyle.rms, "
                                        "errors: talkstyle.errors, latency: talkstyle.latencyMs})")
            return shot_before, await page.screenshot(), state

    before, after, state = asyncio.run(session())
    (tmp_path / "live.png").write_bytes(after)
    assert not state["errors"], state["errors"]
    n = min(len(state["jaw"]), len(state["rms"]))
    jaw = np.array([j if j is not None else np.nan for j in state["jaw"][:n]], float)
    level = np.log10(np.array([r or 0.0 for r in state["rms"][:n]]) + 1e-6)
    ok = np.isfinite(jaw)
    assert ok.sum() >= 140
    # The jaw follows the speech: more open while the microphone hears speech than in its pauses.
    loud, quiet = level[ok] > np.percentile(level[ok], 60), level[ok] <= np.percentile(level[ok], 25)
    assert jaw[ok][loud].mean() > jaw[ok][quiet].mean() + 0.05, (jaw[ok][loud].mean(), jaw[ok][quiet].mean())
    assert np.corrcoef(jaw[ok], level[ok])[0, 1] > 0.3
    assert face_pixels(before) > 0.1 and face_pixels(after) > 0.1        # the face is drawn (look: live.png)


def play(url: str, seconds: float, option: str | None = None) -> tuple[list[str], bytes, dict]:
    """Open the page, pick the take list's `option` (by value; None: the first), press Play and
    wait until `seconds` of its audio have played: (the list's texts, a screenshot, the page's state)."""
    async def session():
        async with Chromium() as page:
            await page.goto(url)
            await page.wait_for("window.talkstyle && window.talkstyle.ready", 90)
            options = await page.evaluate("[...document.getElementById('take').options].map((o) => o.text)")
            if option is not None:
                await page.evaluate(f"const s = document.getElementById('take'); s.value = {option!r};"
                                    "s.dispatchEvent(new Event('change'))")
                await page.wait_for("talkstyle.take", 60)
            await page.evaluate("document.getElementById('play').click()", user_gesture=True)
            await page.wait_for(f"talkstyle.take && document.getElementById('audio').currentTime > {seconds}", 60)
            state = await page.evaluate("({take: talkstyle.take, morphs: talkstyle.takeMorphs, errors: talkstyle.errors,"
                                        " src: document.getElementById('audio').src})")
            return options, await page.screenshot(), state
    return asyncio.run(session())


def test_playback_of_an_animate_take_with_its_curves(site, tmp_path):
    url, _, _ = site
    _, shot, state = play(url, 1.0)
    (tmp_path / "playback.png").write_bytes(shot)
    assert state["take"]["name"] == "three_opens" and state["take"]["frames"] == 100 and not state["errors"]
    assert state["src"].endswith("/takes/three_opens/audio.wav")
    assert face_pixels(shot) > 0.1


def test_playback_on_a_retargeted_character(site, tmp_path):
    url, _, _ = site
    options, shot, state = play(url, 3.6, "three_opens\nsuzanne.glb")
    (tmp_path / "avatar.png").write_bytes(shot)
    assert options == ["three_opens", "three_opens on suzanne.glb"]
    assert not state["errors"], state["errors"]
    assert state["take"]["avatar"] == "suzanne.glb" and state["take"]["frames"] == 100
    assert state["src"].endswith("/takes/three_opens/audio.wav")
    # The character's own JawOpen target opens and closes with the take (three times in 4 s).
    jaw = load_avatar(SUZANNE).morphs["JawOpen"][0].target
    curve = np.array([m[jaw] for m in state["morphs"]])
    assert len(curve) >= 5 and curve.max() > 0.8 and curve.min() < 0.2    # frames drawn: fewer on a busy machine
    assert face_pixels(shot) > 0.05                                         # the monkey is drawn (look: avatar.png)
