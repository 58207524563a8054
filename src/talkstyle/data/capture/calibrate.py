"""The FaceRig as MediaPipe sees it: landmark-space neutral and targets, measured on renders.

MediaPipe's landmark i is trained to sit where vertex i of the canonical mesh sits, but on a real
(or rendered) face it has its own biases: it places the lip line and eyelids where the image
edges are, under-reports some lip motions and leaks others into the jaw contour. Fitting the
rig's vertex targets directly to landmarks then turns those biases into spurious weights. So the
rig is rendered (the preview renderer with its default painted texture, a few head poses), each
target at a fixed weight, and the frontalised landmarks give the neutral and the 52 targets in
landmark space. The result ships as assets/landmark_model.npz; this module regenerates it:

    .venv/bin/python -m talkstyle.data.capture.calibrate
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ...face.arkit import NUM_BLENDSHAPES

ASSET = Path(__file__).parent / "assets" / "landmark_model.npz"
WEIGHT = 0.6                                              # targets are measured at this weight
POSES_DEG = [(0, 0, 0), (0, 15, 0), (0, -15, 0), (8, 0, 0), (-8, 0, 0)]


@functools.lru_cache(maxsize=1)
def landmark_model() -> tuple[np.ndarray, np.ndarray]:
    """(neutral (468, 3), deltas (52, 468, 3)) in the rig's frame (mm), as MediaPipe sees them."""
    with np.load(ASSET) as z:
        return z["neutral"].astype(np.float64), z["deltas"].astype(np.float64)


def measure(size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Render neutral and each target under POSES_DEG and run MediaPipe on the renders."""
    from ...face.rig import FaceRig
    from ...render.renderer import Renderer
    from .fit import depth_scale, frontalise
    from .landmarks import FaceTracker
    from .pose import fit_pose, image_to_yup, rigid_vertices

    rig = FaceRig.default()
    rigid = rigid_vertices(rig.deltas)
    heads = np.deg2rad(np.array(POSES_DEG, np.float32))
    weights = np.zeros((NUM_BLENDSHAPES + 1, NUM_BLENDSHAPES), np.float32)
    weights[1:] = WEIGHT * np.eye(NUM_BLENDSHAPES)
    renderer = Renderer(size)
    fronts = []
    for head in heads:
        V = rig.decode_weights(weights, np.repeat(head[None], len(weights), 0))
        points = []
        for frame in renderer.render(V):
            with FaceTracker(max_faces=1) as tracker:   # fresh graph: every frame a detection
                lm, _ = tracker.track(frame)
            points.append(lm)
        points = image_to_yup(np.stack(points))
        pose = fit_pose(points, rig.neutral, rigid)
        k = depth_scale(points, pose, rig.neutral, rigid)
        fronts.append(frontalise(points, pose, rig.neutral, rigid, k))
    renderer.release()
    front = np.mean(fronts, axis=0)                          # (53, 468, 3)
    return front[0], (front[1:] - front[0]) / WEIGHT


def main() -> None:
    neutral, deltas = measure()
    ASSET.parent.mkdir(exist_ok=True)
    np.savez_compressed(ASSET, neutral=neutral.astype(np.float32), deltas=deltas.astype(np.float32),
                        weight=np.array(WEIGHT), poses_deg=np.array(POSES_DEG))
    print(f"wrote {ASSET}: neutral {neutral.shape}, deltas {deltas.shape}, "
          f"mean |target| {np.linalg.norm(deltas, axis=-1).mean(1).round(2)}")


if __name__ == "__main__":
    main()
