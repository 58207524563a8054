"""A small driver for headless Chromium over the Chrome DevTools protocol (aiohttp's WebSocket
client; no browser download, no driver binary): the browser tests and scripts/serve_screenshot.py.

    async with Chromium(fake_microphone="speech.wav") as page:
        await page.goto(url)
        await page.wait_for("window.talkstyle && window.talkstyle.ready")
        png = await page.screenshot()
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

MISSING = "Chromium is not installed: `make browser` (Debian's chromium package) to run the browser tests"


def chromium_path() -> str | None:
    """The Chromium binary: $CHROMIUM, or chromium / chromium-browser on the PATH."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """One headless Chromium with one page, driven over CDP. `fake_microphone`: a wav file that
    the page's getUserMedia hears (looped) instead of a real microphone."""

    def __init__(self, fake_microphone: str | Path | None = None, size: tuple[int, int] = (1040, 900)):
        binary = chromium_path()
        if binary is None:
            raise RuntimeError(MISSING)
        self.profile = tempfile.TemporaryDirectory(prefix="talkstyle-chromium-")
        self.args = [binary, "--headless=new", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
                     "--disable-dev-shm-usage", "--disable-background-networking", "--disable-extensions",
                     "--use-angle=swiftshader", "--enable-unsafe-swiftshader",     # WebGL on the CPU
                     "--autoplay-policy=no-user-gesture-required", f"--window-size={size[0]},{size[1]}",
                     "--remote-debugging-port=0", f"--user-data-dir={self.profile.name}", "about:blank"]
        if fake_microphone is not None:
            self.args[1:1] = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                              f"--use-file-for-fake-audio-capture={fake_microphone}"]
        self._ids = itertools.count(1)
        self.console: list[str] = []

    async def __aenter__(self) -> "Chromium":
        import aiohttp

        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                await self._close_process()
                raise RuntimeError(f"Chromium did not start (exit code {self.proc.returncode})")
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        self.session = aiohttp.ClientSession()
        async with self.session.get(f"http://127.0.0.1:{port}/json/list") as r:
            pages = [t for t in await r.json() if t["type"] == "page"]
        self.ws = await self.session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        await self.send("Runtime.enable")
        await self.send("Page.enable")
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()
        await self.session.close()
        await self._close_process()

    async def _close_process(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.profile.cleanup()

    async def send(self, method: str, **params: Any) -> dict:
        """One CDP command; its result (events that arrive meanwhile: console lines are kept)."""
        i = next(self._ids)
        await self.ws.send_str(json.dumps({"id": i, "method": method, "params": params}))
        while True:
            msg = json.loads((await self.ws.receive()).data)
            if msg.get("method") == "Runtime.consoleAPICalled":
                self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in msg["params"]["args"]))
            elif msg.get("method") == "Runtime.exceptionThrown":
                self.console.append(msg["params"]["exceptionDetails"].get("exception", {}).get("description", "exception"))
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error'].get('message')}")
                return msg["result"]

    async def evaluate(self, expression: str, user_gesture: bool = False) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        r = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True,
                            userGesture=user_gesture)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails'].get('exception', {}).get('description')}")
        return r["result"].get("value")

    async def goto(self, url: str, timeout: float = 60) -> None:
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'", timeout)

    async def wait_for(self, expression: str, timeout: float = 60, every: float = 0.2) -> Any:
        """Poll until the expression is truthy; its value. A timeout says what the page logged."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for {expression}; console: {self.console[-5:]}")
            await asyncio.sleep(every)

    async def screenshot(self) -> bytes:
        return base64.b64decode((await self.send("Page.captureScreenshot", format="png"))["data"])
