"""The `talkstyle serve` page in headless Chromium, for the README: docs/serve.png.

    python scripts/serve_screenshot.py docs/serve.png [--takes FOLDER] [--mode live|playback]
    python scripts/serve_screenshot.py docs/serve_avatar.png --mode playback --avatar tests/data/blender_suzanne.glb

live: the fake microphone reads the bundled real speech; the shot is taken a few seconds into it,
after a style switch. playback: the first take of --takes plays with its curves beneath (without
--takes, one is made with `talkstyle animate` on the bundled clip); with --avatar, retargeted onto
that character (`talkstyle retarget`) and played on it. Needs Chromium (`make browser`).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from cdp import Chromium  # noqa: E402

from talkstyle import assets  # noqa: E402
from talkstyle.audio.io import load_audio  # noqa: E402
from talkstyle.server import Library, Server, running  # noqa: E402


async def shoot(url: str, mic: Path, mode: str, avatar: str | None = None) -> bytes:
    async with Chromium(fake_microphone=mic) as page:
        await page.goto(url)
        await page.wait_for("window.talkstyle && window.talkstyle.ready", 120)
        if mode == "live":
            await page.evaluate("document.getElementById('mic').click()", user_gesture=True)
            await page.wait_for("talkstyle.frames >= 50", 120)
            await page.evaluate("talkstyleSetStyle({prompt: document.getElementById('prompt').value})")
            await page.wait_for("talkstyle.styles.length === 1 && talkstyle.frames >= 110 && "
                                "talkstyle.jaw[talkstyle.jaw.length - 1] > 0.2", 120)
        else:
            if avatar:
                await page.evaluate("const s = document.getElementById('take'); s.value = s.options[1].value;"
                                    "s.dispatchEvent(new Event('change'))")
                await page.wait_for(f"talkstyle.take && talkstyle.take.avatar === {avatar!r}", 60)
            await page.evaluate("document.getElementById('play').click()", user_gesture=True)
            await page.wait_for("talkstyle.take && document.getElementById('audio').currentTime > 1.7", 120)
        return await page.screenshot()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--takes", type=Path, default=None)
    ap.add_argument("--mode", choices=("live", "playback"), default="live")
    ap.add_argument("--avatar", type=Path, default=None, help="playback on this character (.glb / .vrm)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        speech = load_audio(assets.path("demo_speech.wav"))
        mic = Path(tmp) / "speech.wav"
        sf.write(str(mic), np.concatenate([np.zeros(8000, np.float32), speech]), 16000, subtype="PCM_16")
        takes = args.takes
        if takes is None:
            from talkstyle.animate import animate

            takes = Path(tmp) / "takes"
            animate(speech, "A woman talks with a strong delighted expression.", out_dir=takes / "demo",
                    outputs=("npz", "glb"), progress=False)
        if args.avatar is not None:
            from talkstyle.export.retarget import retarget_file
            from talkstyle.face.motion import FaceMotion

            first = sorted(p for p in takes.iterdir() if (p / "motion.npz").is_file())[0]
            retarget_file(FaceMotion.load(first / "motion.npz"), args.avatar, first / f"{args.avatar.stem}.glb")
        with running(Server(Library(takes))) as url:
            png = asyncio.run(shoot(url, mic, args.mode, args.avatar and f"{args.avatar.stem}.glb"))
    Path(args.out).write_bytes(png)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
