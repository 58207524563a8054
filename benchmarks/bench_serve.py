"""`talkstyle serve` end to end over its WebSocket: latency from an audio chunk to the frames it
completes, at real-time pace, for one and for two clients at once (issue 18).

Each client streams real speech in 20 ms chunks, paced as a microphone would send them. A frame's
latency is the time from sending the chunk that completed it (the frame's audio plus the model's
look-ahead; the server says which in each message) to its arrival: network, queueing and compute. The model's own
look-ahead (StreamAnimator.latency) is printed beside it: the delay a listener sees is their sum.

    python benchmarks/bench_serve.py [--seconds 12]
"""
from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import numpy as np

from talkstyle import assets
from talkstyle.audio.io import load_audio
from talkstyle.server import Library, Server, running

CHUNK = 320                      # 20 ms at 16 kHz


async def client(url: str, audio: np.ndarray) -> list[float]:
    """Latencies (ms) of every frame of one paced stream."""
    import aiohttp

    sent: list[tuple[int, float]] = []            # (samples sent so far, time)
    latencies: list[float] = []
    async with aiohttp.ClientSession() as s, s.ws_connect(url + "ws") as ws:
        await ws.receive_json()

        async def receive() -> None:
            async for msg in ws:
                data = msg.json()
                if data["type"] == "flushed":
                    return
                now = time.perf_counter()
                t = next((t for n, t in sent if n >= data["samples"]), None)
                if t is not None:
                    latencies.extend([1000 * (now - t)] * len(data["frames"]))

        reader = asyncio.create_task(receive())
        start = time.perf_counter()
        for k, i in enumerate(range(0, len(audio), CHUNK)):
            await asyncio.sleep(max(0.0, start + k * CHUNK / 16000 - time.perf_counter()))   # real-time pace
            await ws.send_bytes(audio[i:i + CHUNK].astype("<f4").tobytes())
            sent.append((i + CHUNK, time.perf_counter()))
        await ws.send_str('{"type": "flush"}')
        await reader
    return latencies


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=12.0)
    args = ap.parse_args()
    speech = load_audio(assets.path("demo_speech.wav"))
    audio = np.tile(np.concatenate([speech, np.zeros(4000, np.float32)]), int(args.seconds // 4.25) + 1)
    audio = audio[:int(args.seconds * 16000)]
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    server = Server(Library())
    print(f"load average at start: {load}; model look-ahead {1000 * server.latency:.0f} ms; "
          f"{args.seconds:.0f} s of speech per client in 20 ms chunks at real-time pace")
    with running(server) as url:
        for n in (1, 2):
            async def clients() -> list[list[float]]:
                return await asyncio.gather(*(client(url, audio) for _ in range(n)))

            lat = np.concatenate(asyncio.run(clients()))
            print(f"  {n} client{'s' if n > 1 else ''}: chunk -> frame over the WebSocket median {np.median(lat):.0f} ms, "
                  f"p95 {np.percentile(lat, 95):.0f} ms, max {lat.max():.0f} ms ({len(lat)} frames); "
                  f"with the look-ahead: p95 {np.percentile(lat, 95) + 1000 * server.latency:.0f} ms (target <= 250 ms)")


if __name__ == "__main__":
    main()
