"""The FaceRig as MediaPipe sees it: landmark-space neutral and targets, measured on renders.

MediaPipe's landmark i is trained to sit where vertex i of the canonical mesh sits, but on a real
(or rendered) face it has its own biases: it places the lip line and eyelids where the image
edges are, under-reports some lip motions and leaks others into the jaw contour. Fitting the
rig's vertex targets directly to landmarks then turns those biases into spurious weights. So the
rig is rendered (the preview renderer, a few head poses, the default painted texture and painted
variants of it: lip shape and colour, brow height and thickness, lash lines, skin tone), each
target at a fixed weight, and the frontalised landmarks give the neutral and the 52 targets in
landmark space. Also measured: how the neutral drifts with head pose, the offsets MediaPipe gives
on varied faces (painted variants on perturbed rig shapes: the identity prior), the weight priors
of procedural clips and the head-angle gain. None of it uses the benchmark's texture, prompts or
persons. The result ships as assets/landmark_model.npz (loaded at run time by landmark_model.py);
this module regenerates it offline (~5 minutes), on faces varied by variation.py:

    .venv/bin/python -m talkstyle.data.capture.calibrate
"""
from __future__ import annotations

import numpy as np

from ...face.arkit import NUM_BLENDSHAPES
from ...face.motion import DEFAULT_FPS
from .landmark_model import ASSET
from .variation import identity_shape, painted_variant, random_light

WEIGHT = 0.6                                              # targets are measured at this weight
POSES_DEG = [(0, 0, 0), (0, 15, 0), (0, -15, 0)]          # targets are measured at these poses
NUM_TEXTURE_VARIANTS = 3                                  # ... on the default texture and these
NUM_IDENTITIES = 200                                      # samples of the identity prior
SWEEP_LIGHTS = [(0.0, 0.3, 1.0), (-0.6, 0.4, 0.8), (0.6, 0.0, 0.8)]   # the pose sweeps: front, left, right
SEED = 2024


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
    from .pose import euler_from_rotation, fit_pose, rigid_vertices

    rig = FaceRig.default()
    rigid = rigid_vertices(rig.deltas)
    sweep = np.arange(-35.0, 35.1, 5.0)
    gain, offset = np.ones(3), np.zeros(3)
    with Renderer(size) as renderer:
        for axis in range(3):
            heads = np.zeros((len(sweep), 3), np.float32)
            heads[:, axis] = np.deg2rad(sweep)
            points = _track_renders(renderer, rig.decode_weights(np.zeros((len(sweep), NUM_BLENDSHAPES)), heads))
            est = np.rad2deg(euler_from_rotation(fit_pose(points, rig.neutral, rigid).rotation.astype(np.float64)))
            gain[axis] = (est[:, axis] @ sweep) / (est[:, axis] @ est[:, axis])
    return gain, offset


def measure_prior(num_clips: int = 600, seed: int = 1000) -> dict[str, np.ndarray]:
    """Weight statistics of procedural clips: which shapes move together (a smile with cheek and
    eye squint, a frown with a lowered lip...), the prior that tells apart targets whose landmark
    motion looks alike; and the prior on what a clip holds throughout (told apart from identity by
    it): a mixture over the prompts' emotion families of each clip's *average* weights, the mean
    and share per family and the covariance about the family mean, pooled (about 75 clips a family
    are too few for a covariance of 52 weights each). Prompts and persons are drawn apart from
    those of the benchmark."""
    from ..prompts import sample_prompts
    from ..synth.person import PersonStyle
    from ..synth.procedural import perform

    lines = ["The weather changed quickly over the hills this morning.",
             "Could you pass me the blue folder on the table?",
             "I have been waiting for this letter all week long.",
             "Nobody expected the old clock to start ticking again."]
    weights, families = [], []
    for i, prompt in enumerate(sample_prompts(num_clips, seed)):
        a = prompt.attributes
        person = PersonStyle.from_id(f"prior{i}", a.gender, a.age_group)
        weights.append(perform(prompt, lines[i % len(lines)], person, seed + i).motion.weights.astype(np.float64))
        families.append(a.family)
    w = np.concatenate(weights)
    clip_means, families = np.array([x.mean(0) for x in weights]), np.array(families)
    groups = [clip_means[families == f] for f in sorted(set(families))]
    within = np.concatenate([g - g.mean(0) for g in groups])
    return {"prior_mean": w.mean(0), "prior_cov": np.cov(w, rowvar=False),
            "clip_mean": np.array([g.mean(0) for g in groups]),
            "clip_prob": np.array([len(g) / len(clip_means) for g in groups]),
            "clip_cov": within.T @ within / (len(clip_means) - len(groups))}


def _frontal(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tracked y-up landmarks (T, 468, 3) -> frontalised landmarks and weak-perspective angles (T, 3)."""
    from ...face.rig import FaceRig
    from .fit import depth_scale, frontalise
    from .pose import euler_from_rotation, fit_pose, rigid_vertices

    rig = FaceRig.default()
    rigid = rigid_vertices(rig.deltas)
    pose = fit_pose(points, rig.neutral, rigid)
    front = frontalise(points, pose, rig.neutral, rigid, depth_scale(points, pose, rig.neutral, rigid))
    return front, euler_from_rotation(pose.rotation.astype(np.float64))


def measure(size: int = 512, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Render neutral and each target under POSES_DEG, on the default texture and
    NUM_TEXTURE_VARIANTS painted variants, and run MediaPipe on the renders; averaged, so the
    targets are not those of one painting's edges.

    Per pose and texture, one tracked sequence (as in capture): each target eases in from
    neutral, holds at WEIGHT for 3 frames and eases out; a target's landmark offset is its held
    frames minus the neutral frames before it."""
    from ...face.rig import FaceRig
    from ...render.renderer import Renderer

    rig = FaceRig.default()
    rng = np.random.default_rng(seed)
    ramp = np.array([0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 0.5]) * WEIGHT   # per target: 2 rest, ease, 3 held, ease
    weights = np.zeros((NUM_BLENDSHAPES * len(ramp), NUM_BLENDSHAPES), np.float32)
    for k in range(NUM_BLENDSHAPES):
        weights[k * len(ramp):(k + 1) * len(ramp), k] = ramp
    rest, held = np.flatnonzero(ramp == 0), np.flatnonzero(ramp == WEIGHT)
    neutral, deltas = [], []
    for v in range(1 + NUM_TEXTURE_VARIANTS):
        varied = {} if v == 0 else {"texture": painted_variant(rng), "light_dir": random_light(rng)}
        with Renderer(size, **varied) as renderer:
            for head in np.deg2rad(np.array(POSES_DEG, np.float32)):
                points = _track_sequence(renderer, rig.decode_weights(weights, np.repeat(head[None], len(weights), 0)))
                front = _frontal(points)[0].reshape(NUM_BLENDSHAPES, len(ramp), -1, 3)
                base = front[:, rest].mean(1)
                neutral.append(base.mean(0))
                deltas.append((front[:, held].mean(1) - base) / WEIGHT)
    return np.mean(neutral, 0), np.mean(deltas, 0)


def measure_pose_neutral(neutral: np.ndarray, size: int = 512, frames: int = 240) -> np.ndarray:
    """(20, 468, 3): how MediaPipe's frontalised neutral drifts with head pose, a cubic in the
    weak-perspective angles (fit.pose_features) by least squares over tracked sweeps (pitch +-20,
    yaw +-35, roll +-12 degrees) of the default texture under SWEEP_LIGHTS. Each sweep gets its
    own constant (lighting shifts the landmarks a little: identity, not pose); the model's
    constant is 0, so `neutral` stays the neutral at the front pose."""
    from ...face.rig import FaceRig
    from ...render.renderer import Renderer
    from .fit import pose_features

    rig = FaceRig.default()
    t = np.arange(frames) / frames
    heads = np.deg2rad(np.c_[20 * np.sin(2 * np.pi * 3 * t + 0.5), 35 * np.sin(2 * np.pi * t),
                             12 * np.sin(2 * np.pi * 5 * t + 1.0)]).astype(np.float32)
    X, Y = [], []
    for s, light in enumerate(SWEEP_LIGHTS):
        with Renderer(size, light_dir=light) as renderer:
            points = _track_sequence(renderer, rig.decode_weights(np.zeros((frames, NUM_BLENDSHAPES), np.float32), heads))
        front, angles = _frontal(points)
        X.append(np.c_[np.eye(len(SWEEP_LIGHTS))[np.full(frames, s)], pose_features(angles)[:, 1:]])
        Y.append((front - neutral).reshape(frames, -1))
    coef = np.linalg.lstsq(np.concatenate(X), np.concatenate(Y), rcond=None)[0][len(SWEEP_LIGHTS):]
    return np.concatenate([np.zeros((1, len(neutral), 3)), coef.reshape(len(coef), -1, 3)])


def measure_identity(neutral: np.ndarray, pose_neutral: np.ndarray, size: int = 512,
                     seed: int = SEED + 2) -> np.ndarray:
    """(NUM_IDENTITIES, 468, 3): MediaPipe's frontalised neutral on varied faces (a painted
    variant on a perturbed rig shape, its own light) minus the model's neutral at that pose,
    averaged over five head poses: samples of the per-video identity offset (a face's own shape
    and MediaPipe's bias on it), the prior that keeps expressions out of it."""
    from ...face.rig import FaceRig, head_rotation
    from ...render.renderer import Renderer
    from .fit import pose_features

    rig = FaceRig.default()
    rng = np.random.default_rng(seed)
    heads = np.repeat(np.deg2rad(np.array([(0, 0, 0), (0, 15, 0), (0, -15, 0), (8, 0, 0), (-8, 0, 0)],
                                          np.float32)), 2, axis=0)
    rest = rig.decode_weights(np.zeros((len(heads), NUM_BLENDSHAPES), np.float32), heads)
    offsets = []
    for _ in range(NUM_IDENTITIES):
        texture, light = painted_variant(rng), random_light(rng)
        shape = identity_shape(rng, rig.neutral.astype(np.float64))
        vertices = rest + np.einsum("tij,nj->tni", head_rotation(heads), shape).astype(np.float32)
        try:
            with Renderer(size, texture=texture, light_dir=light) as renderer:
                points = _track_sequence(renderer, vertices)
        except RuntimeError:        # a painting MediaPipe does not take for a face: no sample
            continue
        front, angles = _frontal(points)
        model = neutral + np.einsum("tf,fnj->tnj", pose_features(angles), pose_neutral)
        offsets.append((front - model).mean(0))
    return np.array(offsets)


def _track_sequence(renderer, vertices: np.ndarray) -> np.ndarray:
    """MediaPipe landmarks (T, 468, 3), y-up pixels, of rendered frames tracked as one video."""
    from .landmarks import track_frames
    from .pose import image_to_yup

    track = track_frames(renderer.render(vertices), DEFAULT_FPS)
    if not track.found.all():
        raise RuntimeError(f"calibration render lost the face in {int((~track.found).sum())} frames")
    return image_to_yup(track.points)


def main() -> None:
    neutral, deltas = measure()
    pose_neutral = measure_pose_neutral(neutral)
    identity = measure_identity(neutral, pose_neutral)
    priors = measure_prior()
    pose_gain, pose_offset = measure_pose_gain()
    ASSET.parent.mkdir(exist_ok=True)
    f32 = lambda x: np.asarray(x, np.float32)              # noqa: E731
    np.savez_compressed(ASSET, neutral=f32(neutral), deltas=f32(deltas), pose_neutral=f32(pose_neutral),
                        identity=f32(identity), weight=np.array(WEIGHT), poses_deg=np.array(POSES_DEG),
                        **{k: f32(v) for k, v in priors.items()},
                        pose_gain=pose_gain, pose_offset_deg=pose_offset)
    print(f"head angle correction: gain {pose_gain.round(3)}, offset {pose_offset.round(2)} deg")
    print(f"identity offsets: rms {np.sqrt((identity ** 2).sum(-1).mean()):.2f} mm over {len(identity)} faces")
    print(f"wrote {ASSET}: neutral {neutral.shape}, deltas {deltas.shape}, "
          f"mean |target| {np.linalg.norm(deltas, axis=-1).mean(1).round(2)}")


if __name__ == "__main__":
    main()
