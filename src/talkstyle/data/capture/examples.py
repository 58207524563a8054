"""Training examples for the capture refiner (refine.py): procedural takes rendered on varied
faces, tracked by MediaPipe as a capture tracks a video, kept with their ground truth.

Each example is one take of the procedural actor (a sampled prompt, a line, a person) decoded on
a perturbed rig shape (variation.identity_shape), painted with a random variant of the default
texture (variation.painted_variant) with blotchy shading and skin grain over it, lit from its own
direction, with a constant head-pose offset added to the actor's head motion. Nothing here uses
the benchmark's texture (skimage's astronaut), persons or lines.

Examples are written one file each (`example00042.npz`: landmarks, truth), so an interrupted
build resumes where it stopped:

    .venv/bin/python -m talkstyle.data.capture.examples runs/refine_examples --count 2000 --workers 2
"""
from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
from pathlib import Path

import numpy as np

from ...face.motion import FaceMotion
from .landmarks import LandmarkTrack

SEED = 7100
# Lines the benchmark speaks are left out (bench_capture.LINES start with these words).
BENCHMARK_LINE_STARTS = ("We should probably go back", "I never thought the old bridge", "Bring the map",
                         "My brother opened the window", "Please remember to water", "The market was full")


@dataclasses.dataclass
class Example:
    """One rendered take: what MediaPipe tracked and what the actor did."""
    track: LandmarkTrack
    truth: FaceMotion

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **self.track.arrays(), weights=self.truth.weights, head=self.truth.head)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Example":
        with np.load(path, allow_pickle=False) as z:
            return cls(LandmarkTrack.from_arrays(z), FaceMotion(z["weights"], z["head"], float(z["fps"])))


def shaded(texture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A painted texture with what a photo has and a painting lacks: uneven shading (soft blotches
    of light and colour) and fine grain, so MediaPipe does not see only clean edges."""
    import cv2

    size = texture.shape[0]
    coarse = rng.normal(0.0, 1.0, (6, 6, 3)).astype(np.float32)
    field = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    shade = 1.0 + rng.uniform(0.0, 0.12) * field[..., :1] + rng.uniform(0.0, 0.04) * field
    grain = rng.normal(0.0, rng.uniform(0.0, 6.0), texture.shape[:2])[..., None]
    return np.clip(texture * shade + grain, 0, 255).astype(np.uint8)


def make_example(i: int, size: int = 512) -> Example:
    """Example i (deterministic in i)."""
    from ...face.rig import FaceRig, head_rotation
    from ...render.renderer import Renderer
    from ..lines import load_lines
    from ..prompts import sample_prompts
    from ..synth.person import PersonStyle
    from ..synth.procedural import perform
    from .variation import identity_shape, painted_variant, random_light
    from .landmarks import track_frames

    rng = np.random.default_rng([SEED, i])
    prompt = sample_prompts(i + 1, SEED)[i]
    lines = [ln for ln in load_lines() if not ln.startswith(BENCHMARK_LINE_STARTS)]
    a = prompt.attributes
    take = perform(prompt, lines[int(rng.integers(len(lines)))], PersonStyle.from_id(f"refine{i}", a.gender, a.age_group),
                   seed=SEED + i)
    offset = np.deg2rad(rng.uniform([-15, -32, -10], [15, 32, 10]))
    truth = dataclasses.replace(take.motion, head=(take.motion.head + offset).astype(np.float32))
    rig = FaceRig.default()
    shape = identity_shape(rng, rig.neutral.astype(np.float64))
    vertices = rig.decode(truth) + np.einsum("tij,nj->tni", head_rotation(truth.head), shape).astype(np.float32)
    with Renderer(size, texture=shaded(painted_variant(rng, size), rng), light_dir=random_light(rng)) as renderer:
        track = track_frames(renderer.render(vertices), truth.fps)
    return Example(track, FaceMotion(truth.weights, truth.head, truth.fps))


def _build_one(job: tuple[int, str]) -> int:
    i, folder = job
    make_example(i).save(Path(folder) / f"example{i:05d}.npz")
    return i


def build(folder: Path, count: int, workers: int = 2) -> None:
    """Write examples 0..count-1 into folder, skipping those already there."""
    from tqdm import tqdm

    folder.mkdir(parents=True, exist_ok=True)
    todo = [(i, str(folder)) for i in range(count) if not (folder / f"example{i:05d}.npz").exists()]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for _ in tqdm(pool.imap_unordered(_build_one, todo), total=len(todo), desc="refiner examples"):
            pass


def example_paths(folder: Path) -> list[Path]:
    """The finished examples in folder (an interrupted write leaves only a .tmp.npz)."""
    return [p for p in sorted(folder.glob("example*.npz")) if not p.name.endswith(".tmp.npz")]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    build(args.folder, args.count, args.workers)
