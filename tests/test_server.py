"""`talkstyle serve` without a browser: the WebSocket protocol and its robustness (issue 18, item 7),
the take playback files, the CLI's errors. A real server on a free local port, real clients."""
from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from talkstyle import assets
from talkstyle.audio.io import load_audio
from talkstyle.face.motion import FaceMotion

from serve_takes import need_three, write_take

pytestmark = pytest.mark.slow        # the server loads the streaming model and its teacher (5-10 s) once

SPEECH = load_audio(assets.path("demo_speech.wav"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from talkstyle.server import Library, Server, running

    need_three()
    root = tmp_path_factory.mktemp("serve")
    write_take(root / "takes" / "jaw", np.linspace(0, 1, 50), SPEECH[:32000])     # jawOpen opens over the take
    # a character `talkstyle retarget` wrote into the take (any .glb / .vrm but face.glb), and a file that is not one
    (root / "takes" / "jaw" / "hero.vrm").write_bytes((root / "takes" / "jaw" / "face.glb").read_bytes())
    (root / "takes" / "jaw" / "notes.txt").write_text("not served")
    (root / "refs").mkdir()
    FaceMotion.neutral(100).save(root / "refs" / "calm.npz")
    app = Server(Library(root / "takes", root / "refs"))
    with running(app) as url:
        yield app, url


def run(coro, timeout: float = 180):
    """Run a client coroutine; a server that stops answering fails the test instead of hanging it."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def _session(url: str, chunks, messages_first=(), flush: bool = True) -> tuple[list[dict], list[dict]]:
    """Stream `chunks` (float32 arrays) over one connection: (frames, other messages)."""
    import aiohttp

    frames, other = [], []
    async with aiohttp.ClientSession() as s, s.ws_connect(url + "ws") as ws:
        ready = await ws.receive_json()
        assert ready["type"] == "ready" and len(ready["names"]) == 52
        for m in messages_first:
            await ws.send_str(m if isinstance(m, str) else json.dumps(m))
        for c in chunks:
            await ws.send_bytes(np.asarray(c, "<f4").tobytes())
        if flush:
            await ws.send_str(json.dumps({"type": "flush"}))
        expected_acks = len(messages_first)
        while True:
            msg = await ws.receive_json(timeout=60)
            if msg["type"] == "frames":
                frames += msg["frames"]
            else:
                other.append(msg)
                if msg["type"] == "flushed" or (not flush and len(other) >= expected_acks):
                    break
    return frames, other


def chunks_of(audio: np.ndarray, size: int) -> list[np.ndarray]:
    return [audio[i:i + size] for i in range(0, len(audio), size)]


def test_speech_in_20ms_chunks_gives_every_frame_once(server):
    _, url = server
    frames, other = run(_session(url, chunks_of(SPEECH, 320)))
    assert [f["i"] for f in frames] == list(range(round(len(SPEECH) / 640)))      # 100 frames for 4 s, in order
    assert all(len(f["w"]) == 52 and len(f["head"]) == 3 for f in frames)
    w = np.array([f["w"] for f in frames])
    assert np.isfinite(w).all() and w.min() >= 0 and w.max() <= 1
    assert other[-1]["type"] == "flushed"


def test_chunks_of_one_sample_or_one_second_give_the_same_frames(server):
    _, url = server
    clip = SPEECH[:8000]                                            # 0.5 s: 8000 one-sample messages
    ones, _ = run(_session(url, chunks_of(clip, 1)))
    second, _ = run(_session(url, chunks_of(np.concatenate([clip, SPEECH[8000:16000]]), 16000)))
    a = np.array([f["w"] for f in ones])
    b = np.array([f["w"] for f in second])[:len(a) - 3]             # the last few frames of `ones` saw silence after
    np.testing.assert_allclose(a[:len(b)], b, atol=2e-3)            # frames are rounded to 3 decimals
    assert len(ones) == round(len(clip) / 640)


def test_silence_and_clipped_audio_animate_without_errors(server):
    _, url = server
    silence, other = run(_session(url, [np.zeros(16000, np.float32)]))
    loud, other2 = run(_session(url, chunks_of(np.clip(SPEECH * 30, -5, 5), 640) + [np.full(640, 100.0)]))
    assert len(silence) == 25 and len(loud) == round((len(SPEECH) + 640) / 640)
    assert [m["type"] for m in other + other2] == ["flushed", "flushed"]              # no error message
    for frames in (silence, loud):
        w = np.array([f["w"] for f in frames])
        assert np.isfinite(w).all() and 0 <= w.min() and w.max() <= 1


def test_bad_messages_get_a_clear_error_and_the_stream_goes_on(server):
    _, url = server
    bad = ["not json", {"type": "dance"}, {"type": "style", "ref": "nobody"},
           {"type": "style", "prompt": "x" * 600}, {"type": "style", "prompt": "calm", "ref": "calm"}]
    frames, other = run(_session(url, [SPEECH[:6400]], messages_first=bad))
    errors = [m["message"] for m in other if m["type"] == "error"]
    assert len(errors) == len(bad)
    assert "JSON" in errors[0] and "unknown message type" in errors[1] and "unknown reference" in errors[2]
    assert len(frames) == 10                                        # audio after the errors still animates

    async def odd_and_nan():
        import aiohttp

        async with aiohttp.ClientSession() as s, s.ws_connect(url + "ws") as ws:
            await ws.receive_json()
            await ws.send_bytes(b"\x00\x00\x80")                    # 3 bytes: not float32 samples
            odd = await ws.receive_json(timeout=30)
            await ws.send_bytes(np.array([0.1, np.nan], "<f4").tobytes())
            nan = await ws.receive_json(timeout=30)
            await ws.send_bytes(np.zeros(16000, "<f4").tobytes())      # 1 s: past the look-ahead
            after = await ws.receive_json(timeout=30)
            return odd, nan, after

    odd, nan, after = run(odd_and_nan())
    assert odd["type"] == "error" and "multiple of 4" in odd["message"]
    assert nan["type"] == "error" and "NaN" in nan["message"]
    assert after["type"] == "frames"


def test_styles_switch_mid_stream_by_prompt_and_reference(server):
    _, url = server
    styles = [{"type": "style", "prompt": "A man speaks with an angry expression."}, {"type": "style", "ref": "calm"},
              {"type": "style", "ref": "take:jaw"}, {"type": "style"}]
    frames, other = run(_session(url, chunks_of(SPEECH[:16000], 640), messages_first=styles))
    assert [m["style"] for m in other if m["type"] == "style"] == [
        "A man speaks with an angry expression.", "reference calm", "reference take:jaw", "no style"]
    assert len(frames) == 25


def test_a_client_leaving_mid_stream_leaks_nothing_and_two_clients_are_independent(server):
    app, url = server
    import aiohttp

    async def leave_mid_stream():
        async with aiohttp.ClientSession() as s:
            ws = await s.ws_connect(url + "ws")
            await ws.receive_json()
            assert app.sessions >= 1
            for c in chunks_of(SPEECH[:16000], 320):
                await ws.send_bytes(c.astype("<f4").tobytes())
            await ws.close()                                        # gone without a flush
        return await sessions_end(app)

    assert run(leave_mid_stream())

    async def two_at_once():
        return await asyncio.gather(_session(url, chunks_of(SPEECH, 320)),
                                    _session(url, chunks_of(np.zeros(32000, np.float32), 160)))

    (speech, _), (silence, _) = run(two_at_once())
    alone, _ = run(_session(url, chunks_of(SPEECH, 320)))
    assert speech[0]["i"] == 0 and len(speech) == 100 and len(silence) == 50    # fresh streams, own lengths
    np.testing.assert_allclose([f["w"] for f in speech], [f["w"] for f in alone], atol=2e-3)   # no cross-talk
    assert run(sessions_end(app))           # the server closes its side after the client's: wait for it


async def sessions_end(app, seconds: float = 10.0) -> bool:
    """True once the server holds no session (within `seconds`)."""
    for _ in range(int(seconds / 0.1)):
        if app.sessions == 0:
            return True
        await asyncio.sleep(0.1)
    return False


def test_page_three_face_and_take_files_are_served(server):
    _, url = server
    import io

    import aiohttp
    import soundfile as sf

    async def get(path):
        async with aiohttp.ClientSession() as s, s.get(url + path) as r:
            return r.status, await r.read()

    page = run(get(""))
    assert page[0] == 200 and b"importmap" in page[1] and b"/three/build/three.module.js" in page[1]
    assert run(get("three/build/three.module.js"))[0] == 200
    assert run(get("three/examples/jsm/loaders/GLTFLoader.js"))[0] == 200
    status, glb = run(get("face.glb"))
    assert status == 200 and glb[:4] == b"glTF"
    info = json.loads(run(get("api/info"))[1])
    assert info["takes"] == [{"name": "jaw", "files": ["face.glb", "motion.npz"], "avatars": ["hero.vrm"]}]
    assert info["references"] == ["calm", "take:jaw"] and info["fps"] == 25
    status, wav = run(get("takes/jaw/audio.wav"))
    audio, rate = sf.read(io.BytesIO(wav))
    assert status == 200 and rate == 16000 and len(audio) == 32000
    assert run(get("takes/jaw/face.glb"))[0] == 200
    status, vrm = run(get("takes/jaw/hero.vrm"))
    assert status == 200 and vrm[:4] == b"glTF"
    for missing in ("takes/jaw/preview.mp4", "takes/jaw/notes.txt", "takes/jaw/secret.txt",
                    "takes/jaw/..%2Fjaw%2Fhero.vrm", "takes/nope/face.glb", "takes/..%2F..%2Fetc/passwd",
                    "three/../../../etc/passwd"):
        assert run(get(missing))[0] == 404, missing


def test_cli_errors(talkstyle, user_error, tmp_path):
    user_error(talkstyle("serve", "--port", "70000"), "--port must be at most 65535")
    user_error(talkstyle("serve", "--takes", tmp_path / "none"), "--takes folder not found")
