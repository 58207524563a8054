"""The evaluation protocol's pieces: held-out clips, the checkpoints under test, their inputs
and their results (shared by eval/run.py and eval/style_probe.py).

On the held-out TEST split of a dataset built by the data engine (whole synthetic persons the
models never saw), each clip is cut at its middle: the second half is the target (its audio in,
its motion as ground truth) and the first half is the style reference (adjacent, never
overlapping, as in the paper).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import TalkstyleError
from ..face.motion import DEFAULT_FPS, FaceMotion
from ..model.generator import StyleGenerator
from ..pipeline import TalkstylePipeline
from ..vocab.attributes import Prompt
from .metrics import MotionMetrics

MODES = ("text", "reference", "both")
MIN_HALF = 20                           # frames: shorter halves say too little about style
# The paper's table columns first, then ours. FDD is signed per clip; tables use |FDD|.
METRICS = ("mse", "lve", "fdd", "mod", "mve", "lve_l2", "weights_mae", "head_mae_deg")
LABELS = {"mse": "MSE (mm²)", "lve": "LVE (mm²)", "fdd": "|FDD| (mm²)", "mod": "MOD (mm)", "mve": "MVE (mm)",
          "lve_l2": "LVE-L2 (mm)", "weights_mae": "BS-MAE", "head_mae_deg": "Head (°)"}


def metric_value(m: MotionMetrics, key: str) -> float:
    value = getattr(m, key)
    return abs(value) if key == "fdd" else value


@dataclasses.dataclass
class TestClip:
    """One held-out clip, cut into an adjacent style reference and a target."""
    clip_id: str
    person: str
    prompt: Prompt
    reference: FaceMotion               # first half
    target: FaceMotion                  # second half, with its audio


def test_clips(data: Path, max_clips: int | None = None, split: str = "test", fps: float = DEFAULT_FPS) -> list[TestClip]:
    """The split's clips at `fps` (the models'), each cut into a reference and a target."""
    from ..data.store import Dataset

    if not Path(data).is_dir():
        raise TalkstyleError(f"dataset folder not found: {data}")
    records = sorted(Dataset(data).records(split), key=lambda r: r.clip_id)
    clips = []
    for r in records:
        m = r.motion.resample(fps)
        half = m.num_frames // 2
        if half >= MIN_HALF and m.audio is not None:
            clips.append(TestClip(r.clip_id, r.person, r.prompt, m.slice(0, half), m.slice(half, m.num_frames)))
    if not clips:
        raise TalkstyleError(f"dataset {data} has no '{split}' clips of at least {2 * MIN_HALF} frames with audio")
    if max_clips is not None and len(clips) > max_clips:   # evenly spread, so every person stays in
        clips = [clips[i] for i in np.linspace(0, len(clips) - 1, max_clips).round().astype(int)]
    return clips


@dataclasses.dataclass
class Checkpoint:
    name: str
    path: Path
    pipe: TalkstylePipeline
    info: dict[str, Any]                # variant, training steps, size, parameter count

    @property
    def model(self) -> StyleGenerator:
        return self.pipe.generator


def load_checkpoints(spec: dict[str, Path]) -> list[Checkpoint]:
    from ..model.checkpoint import read_config

    if not spec:
        raise TalkstyleError("give at least one checkpoint: --checkpoints NAME=DIR")
    out = []
    for name, path in spec.items():
        if not Path(path).is_dir():
            raise TalkstyleError(f"checkpoint '{name}' not found: {path}")
        config = read_config(path)
        pipe = TalkstylePipeline.from_pretrained(path)
        model = pipe.generator
        info = {"variant": config.get("variant", name), "steps": config.get("step"),
                "config_name": config.get("config_name"), "data": config.get("data"),
                "style_pretrain_steps": config.get("style_pretrain_steps"),
                "parameters": sum(p.numel() for p in model.parameters()), "model": config["model"]}
        out.append(Checkpoint(name, Path(path), pipe, info))
    return out


@dataclasses.dataclass
class Inputs:
    """Everything a model is conditioned on for one clip, encoded once."""
    audio: dict[str, np.ndarray]        # audio encoder name -> (T, A) features of the target
    text: torch.Tensor                  # (text_dim,) prompt embedding


def encode_inputs(clips: list[TestClip], ckpts: list[Checkpoint]) -> list[Inputs]:
    """Each clip's prompt and target audio, encoded once for every checkpoint that shares the encoder."""
    text = ckpts[0].pipe.text_encoder.encode([c.prompt.text for c in clips])
    enc = {ck.model.cfg.audio_encoder: ck.pipe.audio_encoder for ck in ckpts}
    return [Inputs({name: e.encode(c.target.audio, num_frames=c.target.num_frames) for name, e in enc.items()},
                   torch.from_numpy(text[i])) for i, c in enumerate(clips)]


@dataclasses.dataclass
class ModelRun:
    """One checkpoint's generations and metrics, per mode, in clip order."""
    checkpoint: Checkpoint
    motions: dict[str, list[FaceMotion]]
    metrics: dict[str, list[MotionMetrics]]

    def values(self, mode: str, key: str) -> np.ndarray:
        return np.array([metric_value(m, key) for m in self.metrics[mode]])


def check_eval_data(data: Path, eval_data: Path) -> None:
    """The style evaluator must learn from other persons than the generator's: another build seed."""
    from ..data.store import Dataset

    if not eval_data.is_dir():
        raise TalkstyleError(f"--eval-data folder not found: {eval_data}")
    if eval_data.resolve() == data.resolve():
        raise TalkstyleError("--eval-data must be another dataset than --data (built with another --seed)")
    seeds = [Dataset(d).config().get("seed") for d in (data, eval_data)]
    if seeds[0] is not None and seeds[0] == seeds[1]:
        raise TalkstyleError(f"--eval-data was built with the same seed ({seeds[0]}) as --data: its persons are "
                             "the generator's; build it with another --seed")
