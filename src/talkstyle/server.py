"""`talkstyle serve`: a local web server for live streaming and for playing back `animate` takes.

    GET  /                      the page (web/index.html): microphone -> live face, style controls, playback
    GET  /web/...               the page's scripts (web/)
    GET  /three/...             three.js from npm (node_modules/three), served locally
    GET  /face.glb              the neutral face with its 52 ARKit morph targets (the live view's mesh)
    GET  /api/info              model facts: fps, latency, the 52 names, references, takes, open sessions
    GET  /takes/{name}/{file}   an `animate` output folder's face.glb, preview.mp4, livelink.csv,
                                audio.wav (the audio inside its motion.npz), and the characters that
                                `talkstyle retarget` wrote there (any other .glb / .vrm)
    WS   /ws                    one live stream per connection (protocol below)

WebSocket protocol. Client -> server: binary messages are audio, float32 little-endian mono at
16 kHz, any length (1 sample or seconds); text messages are JSON:
    {"type": "style", "prompt": "A woman speaks with a strong happy expression"}   (or "ref": NAME, or neither: no style)
    {"type": "flush"}           end of an utterance: the last frames, then a fresh stream
Server -> client, JSON: {"type": "ready", "fps", "latency", "names"} once, then
    {"type": "frames", "frames": [Frame.to_json(), ...], "samples": audio samples received in this stream when
     they were computed, "ms": compute time} per audio message that completed frames,
    {"type": "style", "style": description} when a style took effect, {"type": "flushed"} after a flush,
    {"type": "error", "message": "..."} for bad input; the connection stays usable.
Each connection has its own StreamAnimator (they share the model's weights); its work runs in a
worker thread so that other connections keep flowing, and its state goes when the socket closes.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .animate import OUTPUT_FILES
from .errors import TalkstyleError
from .face.arkit import ARKIT_NAMES
from .face.motion import FaceMotion

WEB = Path(__file__).parent / "web"
MAX_CHUNK_SECONDS = 10          # one audio message: more is a client bug, not speech
MAX_PROMPT = 500                # characters
TAKE_FILES = set(OUTPUT_FILES) | {"audio.wav"}
AVATAR_SUFFIXES = (".glb", ".vrm")


def take_avatars(folder: Path) -> list[str]:
    """The characters in a take folder: its .glb / .vrm files other than face.glb (what
    `talkstyle retarget folder/motion.npz --avatar char.glb -o folder/char.glb` writes)."""
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in AVATAR_SUFFIXES and p.name not in TAKE_FILES)


def three_dir() -> Path:
    """node_modules/three installed by the Makefile into the venv (.venv/node), or TALKSTYLE_THREE_DIR."""
    import os

    candidates = [Path(os.environ["TALKSTYLE_THREE_DIR"])] if os.environ.get("TALKSTYLE_THREE_DIR") else []
    candidates.append(Path(sys.prefix) / "node" / "node_modules" / "three")
    for path in candidates:
        if (path / "build" / "three.module.js").is_file():
            return path
    raise TalkstyleError("three.js is not installed: run `make web` (npm install --prefix .venv/node three@0.187.0) "
                         "or set TALKSTYLE_THREE_DIR to a node_modules/three folder")


@dataclasses.dataclass
class Library:
    """What the page can pick: style references (motion .npz) and `animate` takes (folders with face.glb)."""
    takes_dir: Path | None = None
    refs_dir: Path | None = None

    def takes(self) -> dict[str, Path]:
        """{name: folder} of the animate output folders in takes_dir (and takes_dir itself if it is one)."""
        if self.takes_dir is None or not self.takes_dir.is_dir():
            return {}
        found = {p.name: p for p in sorted(self.takes_dir.iterdir()) if (p / "face.glb").is_file()}
        if (self.takes_dir / "face.glb").is_file():
            found.setdefault(self.takes_dir.name or "take", self.takes_dir)
        return found

    def references(self) -> dict[str, Path]:
        """{name: motion .npz}: the .npz files in refs_dir and every take's motion.npz."""
        refs = {}
        if self.refs_dir is not None and self.refs_dir.is_dir():
            refs.update({p.stem: p for p in sorted(self.refs_dir.glob("*.npz"))})
        for name, folder in self.takes().items():
            if (folder / "motion.npz").is_file():
                refs.setdefault(f"take:{name}", folder / "motion.npz")
        return refs


class Server:
    """The aiohttp application around one streaming model (loaded once, shared by every connection)."""

    def __init__(self, library: Library, checkpoint: str | Path | None = None, threads: int = 1):
        from .stream import StreamAnimator

        self.library = library
        self.checkpoint = checkpoint
        self.threads = threads
        self.three = three_dir()
        probe = StreamAnimator(None, checkpoint, threads=threads)     # loads the model before the first client
        self.fps, self.latency = probe.fps, probe.latency
        self.sessions = 0
        self._face_glb = _neutral_glb()

    # ------------------------------------------------------------ HTTP
    def app(self):
        from aiohttp import web

        app = web.Application(client_max_size=MAX_CHUNK_SECONDS * 16000 * 4 + 1024)
        app.router.add_get("/", self.index)
        app.router.add_get("/ws", self.websocket)
        app.router.add_get("/api/info", self.info)
        app.router.add_get("/face.glb", self.face)
        app.router.add_get("/takes/{name}/{file}", self.take_file)
        app.router.add_static("/web/", WEB, follow_symlinks=False)
        app.router.add_static("/three/", self.three, follow_symlinks=False)
        return app

    async def index(self, request):
        from aiohttp import web

        return web.FileResponse(WEB / "index.html", headers={"Cache-Control": "no-store"})

    async def face(self, request):
        from aiohttp import web

        return web.Response(body=self._face_glb, content_type="model/gltf-binary")

    async def info(self, request):
        from aiohttp import web

        return web.json_response({
            "fps": self.fps, "latency": self.latency, "sample_rate": 16000, "names": list(ARKIT_NAMES),
            "references": sorted(self.library.references()), "sessions": self.sessions,
            "takes": [{"name": n, "files": sorted(f.name for f in p.iterdir() if f.name in TAKE_FILES - {"audio.wav"}),
                       "avatars": take_avatars(p)} for n, p in self.library.takes().items()]})

    async def take_file(self, request):
        from aiohttp import web

        name, file = request.match_info["name"], request.match_info["file"]
        folder = self.library.takes().get(name)
        if folder is None or (file not in TAKE_FILES and file not in take_avatars(folder)):
            raise web.HTTPNotFound(text=f"no take file {name}/{file}")
        if file == "audio.wav":
            wav = await asyncio.to_thread(_take_audio, folder)
            if wav is None:
                raise web.HTTPNotFound(text=f"the take {name} has no motion.npz with audio")
            return web.Response(body=wav, content_type="audio/wav")
        if not (folder / file).is_file():
            raise web.HTTPNotFound(text=f"the take {name} has no {file}")
        return web.FileResponse(folder / file)

    # ------------------------------------------------------------ the live stream
    async def websocket(self, request):
        from aiohttp import WSMsgType, web

        from .stream import StreamAnimator

        ws = web.WebSocketResponse(max_msg_size=MAX_CHUNK_SECONDS * 16000 * 4 + 1024, heartbeat=20)
        await ws.prepare(request)
        animator = await asyncio.to_thread(StreamAnimator, None, self.checkpoint, threads=self.threads)
        received = [0]                               # samples of the current stream (frames messages report it)
        self.sessions += 1
        try:
            await ws.send_json({"type": "ready", "fps": self.fps, "latency": animator.latency,
                                "sample_rate": animator.sample_rate, "names": list(ARKIT_NAMES)})
            async for msg in ws:
                try:
                    if msg.type == WSMsgType.BINARY:
                        await self._audio(ws, animator, msg.data, received)
                    elif msg.type == WSMsgType.TEXT:
                        await self._command(ws, animator, msg.data, received)
                    elif msg.type == WSMsgType.ERROR:
                        break
                except TalkstyleError as e:          # bad input from this client: say so, keep streaming
                    await ws.send_json({"type": "error", "message": str(e)})
        except (ConnectionResetError, asyncio.CancelledError):
            pass                                     # the client went away mid-stream: nothing to answer
        finally:
            self.sessions -= 1                       # the animator (all stream state) goes with this frame
        return ws

    async def _audio(self, ws, animator, data: bytes, received: list[int]) -> None:
        if len(data) % 4:
            raise TalkstyleError(f"audio messages are float32 samples: {len(data)} bytes is not a multiple of 4")
        samples = np.frombuffer(data, "<f4")
        t0 = time.perf_counter()
        frames = await asyncio.to_thread(animator.push, samples)
        received[0] += len(samples)
        if frames and not ws.closed:
            await ws.send_json({"type": "frames", "frames": [f.to_json() for f in frames], "samples": received[0],
                                "ms": round(1000 * (time.perf_counter() - t0), 1)})

    async def _command(self, ws, animator, text: str, received: list[int]) -> None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            raise TalkstyleError("messages are JSON objects, e.g. {\"type\": \"style\", \"prompt\": \"...\"}") from None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "flush":
            frames = await asyncio.to_thread(animator.flush)
            if frames:
                await ws.send_json({"type": "frames", "frames": [f.to_json() for f in frames], "samples": received[0],
                                    "ms": 0})
            received[0] = 0
            await ws.send_json({"type": "flushed"})
        elif kind == "style":
            style, description = self._style(message)
            await asyncio.to_thread(animator.set_style, style)
            await ws.send_json({"type": "style", "style": description})
        else:
            raise TalkstyleError(f"unknown message type {kind!r}: send 'style' or 'flush' (audio goes as binary)")

    def _style(self, message: dict[str, Any]) -> tuple[str | FaceMotion | None, str]:
        prompt, ref = message.get("prompt"), message.get("ref")
        if prompt and ref:
            raise TalkstyleError("a style is a prompt or a reference, not both")
        if prompt:
            if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT:
                raise TalkstyleError(f"a prompt is text of at most {MAX_PROMPT} characters")
            return prompt, prompt
        if ref:
            path = self.library.references().get(str(ref))
            if path is None:
                raise TalkstyleError(f"unknown reference {ref!r}")
            return FaceMotion.load(path), f"reference {ref}"
        return None, "no style"


def _neutral_glb() -> bytes:
    """face.glb of one neutral frame: the live view's mesh, morph targets named as ARKit's."""
    import tempfile

    from .export.gltf import write_glb

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "face.glb"
        write_glb(FaceMotion.neutral(2), path)
        return path.read_bytes()


def _take_audio(folder: Path) -> bytes | None:
    """The audio inside a take's motion.npz as a 16-bit wav, or None."""
    import soundfile as sf

    if not (folder / "motion.npz").is_file():
        return None
    motion = FaceMotion.load(folder / "motion.npz")
    if motion.audio is None or not motion.sample_rate:
        return None
    buf = io.BytesIO()
    sf.write(buf, np.clip(motion.audio, -1, 1), int(motion.sample_rate), format="WAV", subtype="PCM_16")
    return buf.getvalue()


async def _listen(server: Server, host: str, port: int, ready: Callable[[str], None], stop: asyncio.Event) -> None:
    from aiohttp import web

    runner = web.AppRunner(server.app(), access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as e:
            raise TalkstyleError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
        ready(f"http://{host}:{runner.addresses[0][1]}/")
        await stop.wait()
    finally:
        await runner.cleanup()


def serve(host: str = "127.0.0.1", port: int = 8765, takes: str | Path | None = None, refs: str | Path | None = None,
          checkpoint: str | Path | None = None, threads: int = 1, ready: Callable[[str], None] = print) -> None:
    """Run the server until Ctrl-C. `ready(url)` is called once it listens (the CLI prints the address)."""
    server = Server(Library(Path(takes) if takes else None, Path(refs) if refs else None), checkpoint, threads)

    async def main() -> None:
        await _listen(server, host, port, ready, asyncio.Event())

    asyncio.run(main())


@contextlib.contextmanager
def running(server: Server, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve in a background thread (tests, scripts): yields the URL, stops when the block ends."""
    import queue
    import threading

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    urls: queue.Queue = queue.Queue()

    def run() -> None:
        try:
            loop.run_until_complete(_listen(server, host, port, urls.put, stop))
        except BaseException as e:  # noqa: BLE001 - handed to the caller below
            urls.put(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    url = urls.get(timeout=60)
    if isinstance(url, BaseException):
        raise url
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()
