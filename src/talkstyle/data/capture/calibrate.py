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


@functools.lru_cache(maxsize=1)
def pose_correction() -> tuple[np.ndarray, np.ndarray]:
    """(gain (3,), offset (3,) radians): corrected angle = gain * weak-perspective angle + offset."""
    with np.load(ASSET) as z:
        return z["pose_gain"].astype(np.float64), np.deg2rad(z["pose_offset_deg"].astype(np.float64))


@functools.lru_cache(maxsize=1)
def weight_prior() -> np.ndarray:
    """Second moment E[w w'] (52, 52) of ARKit weights over the procedural actor's clips: the
    covariance of a zero-mean prior (most shapes rest at 0 most of the time)."""
    with np.load(ASSET) as z:
        mean, cov = z["prior_mean"].astype(np.float64), z["prior_cov"].astype(np.float64)
    return cov + np.outer(mean, mean)


def _track_renders(renderer, vertices: np.ndarray) -> np.ndarray:
    """MediaPipe landmarks (T, 468, 3), y-up pixels, of rendered vertex sets."""
    from .landmarks import FaceTracker
    from .pose import image_to_yup

    points = []
    for frame in renderer.render(vertices):
        with FaceTracker(max_faces=1) as tracker:   # fresh graph: every frame a detection
            points.append(tracker.track(frame)[0])
    return image_to_yup(np.stack(points))


def measure_pose_gain(size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Linear correction (gain per axis; offset kept 0) of the weak-perspective head angles.

    The preview camera is a perspective one (21 deg field of view at 65 cm); the orthographic fit
    overstates yaw by about 15 percent and understates pitch by about 10 percent on its renders.
    Each axis is swept over +-35 degrees alone and true = gain * estimate is fitted (an offset
    would encode this texture's bias at 0 degrees, which does not carry over to other faces)."""
    from ...face.rig import FaceRig
    from ...render.renderer import Renderer
    from . import euler_from_rotation
    from .pose import fit_pose, rigid_vertices

    rig = FaceRig.default()
    rigid = rigid_vertices(rig.deltas)
    sweep = np.arange(-35.0, 35.1, 5.0)
    renderer = Renderer(size)
    gain, offset = np.ones(3), np.zeros(3)
    for axis in range(3):
        heads = np.zeros((len(sweep), 3), np.float32)
        heads[:, axis] = np.deg2rad(sweep)
        points = _track_renders(renderer, rig.decode_weights(np.zeros((len(sweep), NUM_BLENDSHAPES)), heads))
        est = np.rad2deg(euler_from_rotation(fit_pose(points, rig.neutral, rigid).rotation.astype(np.float64)))
        gain[axis] = (est[:, axis] @ sweep) / (est[:, axis] @ est[:, axis])
    renderer.release()
    return gain, offset


def measure_prior(num_clips: int = 60, seed: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Weight statistics of procedural clips: which shapes move together (a smile with cheek and
    eye squint, a frown with a lowered lip...), the prior that tells apart targets whose landmark
    motion looks alike. Prompts and persons are drawn apart from those of the benchmark."""
    from ..prompts import sample_prompts
    from ..synth.person import PersonStyle
    from ..synth.procedural import perform

    lines = ["The weather changed quickly over the hills this morning.",
             "Could you pass me the blue folder on the table?",
             "I have been waiting for this letter all week long.",
             "Nobody expected the old clock to start ticking again."]
    weights = []
    for i, prompt in enumerate(sample_prompts(num_clips, seed)):
        a = prompt.attributes
        person = PersonStyle.from_id(f"prior{i}", a.gender, a.age_group)
        weights.append(perform(prompt, lines[i % len(lines)], person, seed + i).motion.weights)
    w = np.concatenate(weights).astype(np.float64)
    return w.mean(0), np.cov(w, rowvar=False)


def measure(size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Render neutral and each target under POSES_DEG and run MediaPipe on the renders.

    Per pose, one tracked sequence (as in capture): each target eases in from neutral, holds at
    WEIGHT for HOLD frames and eases out; a target's landmark offset is its held frames minus
    the neutral frames before it."""
    from ...face.rig import FaceRig
    from ...render.renderer import Renderer
    from .fit import depth_scale, frontalise
    from .pose import fit_pose, rigid_vertices

    rig = FaceRig.default()
    rigid = rigid_vertices(rig.deltas)
    ramp = np.array([0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 0.5]) * WEIGHT   # per target: 2 rest, ease, 3 held, ease
    weights = np.zeros((NUM_BLENDSHAPES * len(ramp), NUM_BLENDSHAPES), np.float32)
    for k in range(NUM_BLENDSHAPES):
        weights[k * len(ramp):(k + 1) * len(ramp), k] = ramp
    rest, held = np.flatnonzero(ramp == 0), np.flatnonzero(ramp == WEIGHT)
    renderer = Renderer(size)
    neutral, deltas = [], []
    for head in np.deg2rad(np.array(POSES_DEG, np.float32)):
        points = _track_sequence(renderer, rig.decode_weights(weights, np.repeat(head[None], len(weights), 0)))
        pose = fit_pose(points, rig.neutral, rigid)
        front = frontalise(points, pose, rig.neutral, rigid, depth_scale(points, pose, rig.neutral, rigid))
        front = front.reshape(NUM_BLENDSHAPES, len(ramp), *front.shape[1:])
        base = front[:, rest].mean(1)
        neutral.append(base.mean(0))
        deltas.append((front[:, held].mean(1) - base) / WEIGHT)
    renderer.release()
    return np.mean(neutral, 0), np.mean(deltas, 0)


def _track_sequence(renderer, vertices: np.ndarray) -> np.ndarray:
    """MediaPipe landmarks (T, 468, 3), y-up pixels, of rendered frames tracked as one video."""
    from .landmarks import track_frames
    from .pose import image_to_yup

    track = track_frames(renderer.render(vertices), 25.0)
    if not track.found.all():
        raise RuntimeError(f"calibration render lost the face in {int((~track.found).sum())} frames")
    return image_to_yup(track.points)


def main() -> None:
    neutral, deltas = measure()
    prior_mean, prior_cov = measure_prior()
    pose_gain, pose_offset = measure_pose_gain()
    ASSET.parent.mkdir(exist_ok=True)
    np.savez_compressed(ASSET, neutral=neutral.astype(np.float32), deltas=deltas.astype(np.float32),
                        weight=np.array(WEIGHT), poses_deg=np.array(POSES_DEG),
                        prior_mean=prior_mean.astype(np.float32), prior_cov=prior_cov.astype(np.float32),
                        pose_gain=pose_gain, pose_offset_deg=pose_offset)
    print(f"head angle correction: gain {pose_gain.round(3)}, offset {pose_offset.round(2)} deg")
    print(f"wrote {ASSET}: neutral {neutral.shape}, deltas {deltas.shape}, "
          f"mean |target| {np.linalg.norm(deltas, axis=-1).mean(1).round(2)}")


if __name__ == "__main__":
    main()
