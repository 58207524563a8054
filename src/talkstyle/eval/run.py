"""The evaluation protocol (seed paper section 6.1, extended): `talkstyle evaluate`.

On the held-out TEST split of a dataset built by the data engine (whole synthetic persons the
models never saw), each clip is cut at its middle: the second half is the target (its audio in,
its motion as ground truth) and the first half is the style reference (adjacent, never
overlapping, as in the paper). Every checkpoint generates the target three ways: from the prompt
text, from the reference, from both. Then:

- vertex metrics per clip against ground truth (eval/metrics.py), paired Wilcoxon signed-rank
  tests over clips between the first checkpoint (talkstyle) and each other;
- style (eval/style_probe.py) with an evaluator trained on ANOTHER dataset (`--eval-data`);
- lip sync on real speech when eval/lipsync.py is present.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ..animate import Settings
from ..atomic import atomic_path
from ..vocab.attributes import Prompt
from ..errors import TalkstyleError
from ..face.motion import FaceMotion
from ..head_motion import smooth_head
from ..model.generator import StyleGenerator, array_to_motion, motion_to_array
from .metrics import MotionMetrics, motion_metrics

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


def test_clips(data: Path, max_clips: int | None = None, split: str = "test") -> list[TestClip]:
    from ..data.store import Dataset

    if not Path(data).is_dir():
        raise TalkstyleError(f"dataset folder not found: {data}")
    records = sorted(Dataset(data).records(split), key=lambda r: r.clip_id)
    clips = []
    for r in records:
        m = r.motion if r.motion.fps == 25.0 else r.motion.resample(25.0)
        half = m.num_frames // 2
        if half >= MIN_HALF and m.audio is not None:
            clips.append(TestClip(r.clip_id, r.person, r.prompt, m.slice(0, half), m.slice(half, m.num_frames)))
    if not clips:
        raise TalkstyleError(f"dataset {data} has no '{split}' clips of at least {2 * MIN_HALF} frames with audio")
    if max_clips is not None and len(clips) > max_clips:   # evenly spread, so every person stays in
        clips = [clips[i] for i in np.linspace(0, len(clips) - 1, max_clips).round().astype(int)]
    return clips


# ------------------------------------------------------------------ checkpoints
@dataclasses.dataclass
class Checkpoint:
    name: str
    path: Path
    model: StyleGenerator
    info: dict[str, Any]                # variant, training steps, size, parameter count


def load_checkpoints(spec: dict[str, Path]) -> list[Checkpoint]:
    from ..model.checkpoint import load_generator, read_config

    if not spec:
        raise TalkstyleError("give at least one checkpoint: --checkpoints NAME=DIR")
    out = []
    for name, path in spec.items():
        if not Path(path).is_dir():
            raise TalkstyleError(f"checkpoint '{name}' not found: {path}")
        config = read_config(path)
        model = load_generator(path)
        info = {"variant": config.get("variant", name), "steps": config.get("step"),
                "config_name": config.get("config_name"), "data": config.get("data"),
                "style_pretrain_steps": config.get("style_pretrain_steps"),
                "parameters": sum(p.numel() for p in model.parameters()), "model": config["model"]}
        out.append(Checkpoint(name, Path(path), model, info))
    return out


# ------------------------------------------------------------------ generation
@dataclasses.dataclass
class Inputs:
    """Everything a model is conditioned on for one clip, encoded once."""
    audio: dict[str, np.ndarray]        # audio encoder name -> (T, A) features of the target
    text: torch.Tensor                  # (text_dim,) prompt embedding


def encode_inputs(clips: list[TestClip], encoders: set[str]) -> list[Inputs]:
    from ..audio.features import get_audio_encoder
    from ..text.encoder import get_text_encoder

    text = get_text_encoder().encode([c.prompt.text for c in clips])
    enc = {name: get_audio_encoder(name) for name in encoders}
    return [Inputs({name: e.encode(c.target.audio, num_frames=c.target.num_frames) for name, e in enc.items()},
                   torch.from_numpy(text[i])) for i, c in enumerate(clips)]


@torch.no_grad()
def style_for(model: StyleGenerator, mode: str, text: torch.Tensor | None, reference: FaceMotion | None) -> torch.Tensor:
    return model.style_vector(text if mode in ("text", "both") else None,
                              motion_to_array(reference) if mode in ("reference", "both") else None)


@torch.no_grad()
def generate(model: StyleGenerator, feats: np.ndarray, style: torch.Tensor, settings: Settings) -> FaceMotion:
    x = model.generate(feats, style, sampler=settings.sampler, steps=settings.steps, cfg_audio=settings.cfg_audio,
                       cfg_style=settings.cfg_style, seed=settings.seed)
    # As `animate` finishes it, less the prompt's head words (random nods would only add noise
    # to the head error against the ground truth).
    return smooth_head(array_to_motion(x))


@torch.no_grad()
def alpha_trajectory(model: StyleGenerator, motion: FaceMotion, feats: np.ndarray, style: torch.Tensor) -> np.ndarray:
    """(T, K) style-basis weights alpha over time (paper figure 7).

    `generate` keeps only x0; alpha is read back by one denoiser pass at t = 0 on the generated
    windows (the same window layout and context as generation), which is the alpha of the
    final clean estimate.
    """
    cfg = model.cfg
    n, p, total = cfg.window, cfg.context, motion.num_frames
    n_win = math.ceil(total / n)
    x = torch.zeros(n_win * n, cfg.motion_dim)
    x[:total] = model.normalise(torch.from_numpy(motion_to_array(motion)))
    a = torch.zeros(n_win * n, cfg.audio_dim)
    a[:total] = torch.from_numpy(feats)
    basis = model.basis(style[None])
    prev_m, prev_a = model.denoiser.start_motion, model.denoiser.start_audio
    alphas = []
    for w in range(n_win):
        win, win_a = x[w * n:(w + 1) * n], torch.cat([prev_a, a[w * n:(w + 1) * n]])
        _, alpha = model.denoiser(win[None], torch.zeros(1, dtype=torch.long), prev_m[None], win_a[None],
                                  style[None], basis)
        alphas.append(alpha[0])
        prev_m, prev_a = win[-p:], win_a[-p:]
    return torch.cat(alphas)[:total].numpy()


# ------------------------------------------------------------------ results
@dataclasses.dataclass
class ModelRun:
    """One checkpoint's generations and metrics, per mode, in clip order."""
    checkpoint: Checkpoint
    motions: dict[str, list[FaceMotion]]
    metrics: dict[str, list[MotionMetrics]]

    def values(self, mode: str, key: str) -> np.ndarray:
        return np.array([metric_value(m, key) for m in self.metrics[mode]])


@dataclasses.dataclass
class PairedTest:
    """Wilcoxon signed-rank over clips: talkstyle vs another model, one metric and mode."""
    mode: str
    metric: str
    model: str
    other: str
    mean_diff: float                    # mean(model - other): negative = model better (lower)
    p_value: float
    n: int

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def paired_test(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value; 1.0 when the pairs do not differ at all."""
    from scipy.stats import wilcoxon

    if len(a) != len(b):
        raise ValueError("paired samples must have the same length")
    if np.allclose(a, b):
        return 1.0
    return float(wilcoxon(a, b).pvalue)


def significance(runs: list[ModelRun]) -> list[PairedTest]:
    ref = runs[0]
    tests = []
    for other in runs[1:]:
        for mode in MODES:
            for key in METRICS:
                a, b = ref.values(mode, key), other.values(mode, key)
                tests.append(PairedTest(mode, key, ref.checkpoint.name, other.checkpoint.name,
                                        float((a - b).mean()), paired_test(a, b), len(a)))
    return tests


@dataclasses.dataclass
class Evaluation:
    data: str
    eval_data: str | None
    settings: Settings
    clips: list[TestClip]
    runs: list[ModelRun]
    tests: list[PairedTest]
    alphas: dict[str, np.ndarray]       # checkpoint -> (T, K) for the first clip, "both" mode
    style: Any = None                   # style_probe.StyleReport, None without --eval-data
    lipsync: dict[str, Any] | None = None
    notes: list[str] = dataclasses.field(default_factory=list)


def evaluate(data: str | Path, checkpoints: dict[str, Path], eval_data: str | Path | None = None,
             settings: Settings = Settings(), max_clips: int | None = None, evaluator_steps: int = 1500,
             swap_clips: int = 16, progress: bool = True, cache: Path | None = None) -> Evaluation:
    """Run the whole protocol; `checkpoints` in order, the first one is compared with the rest.

    With `cache`, each checkpoint's generations are kept there, so an interrupted or repeated
    evaluation only generates what is missing (the key covers weights, settings and clips).
    """
    data = Path(data)
    if eval_data is not None:
        check_eval_data(data, Path(eval_data))
    torch.set_num_threads(min(2, torch.get_num_threads()))
    clips = test_clips(data, max_clips)
    ckpts = load_checkpoints(checkpoints)
    inputs = encode_inputs(clips, {c.model.cfg.audio_encoder for c in ckpts})
    runs = []
    bar = tqdm(total=len(ckpts) * len(clips), desc="evaluate", unit="clip", disable=not progress)
    for ck in ckpts:
        cached = _cache_file(cache, ck, settings, clips)
        motions = load_motions(cached, len(clips)) if cached is not None else None
        if motions is None:
            motions = {m: [] for m in MODES}
            for clip, inp in zip(clips, inputs):
                for mode in MODES:
                    style = style_for(ck.model, mode, inp.text, clip.reference)
                    motions[mode].append(generate(ck.model, inp.audio[ck.model.cfg.audio_encoder], style, settings))
                bar.update()
            if cached is not None:
                save_motions(cached, motions)
        else:
            bar.update(len(clips))
        runs.append(ModelRun(ck, motions, {m: [motion_metrics(g, c.target) for g, c in zip(motions[m], clips)]
                                           for m in MODES}))
    bar.close()
    alphas = {}
    for ck, run in zip(ckpts, runs):
        if ck.model.cfg.basis > 0:
            style = style_for(ck.model, "both", inputs[0].text, clips[0].reference)
            alphas[ck.name] = alpha_trajectory(ck.model, run.motions["both"][0],
                                               inputs[0].audio[ck.model.cfg.audio_encoder], style)
    result = Evaluation(str(data), str(eval_data) if eval_data else None, settings, clips, runs,
                        significance(runs) if len(runs) > 1 else [], alphas)
    if len(clips) < 6:
        result.notes.append(f"only {len(clips)} test clips: the Wilcoxon test cannot reach p < 0.05 below 6 pairs")
    if eval_data is not None:
        from .style_probe import style_report

        result.style = style_report(Path(eval_data), clips, inputs, runs, settings, evaluator_steps, swap_clips,
                                    progress)
    else:
        result.notes.append("no --eval-data: style accuracy, word edits and reference following were not run")
    result.lipsync = lipsync_section(ckpts, settings, result.notes)
    return result


def _cache_file(cache: Path | None, ck: Checkpoint, settings: Settings, clips: list[TestClip]) -> Path | None:
    if cache is None:
        return None
    weights = (ck.path / "model.safetensors").stat()
    key = json.dumps([str(ck.path.resolve()), weights.st_size, weights.st_mtime_ns, dataclasses.asdict(settings),
                      [c.clip_id for c in clips], [c.target.num_frames for c in clips]])
    return cache / f"{ck.name}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"


def save_motions(path: Path, motions: dict[str, list[FaceMotion]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"{mode}_{i}": motion_to_array(m) for mode, ms in motions.items() for i, m in enumerate(ms)}
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)


def load_motions(path: Path, n: int) -> dict[str, list[FaceMotion]] | None:
    if not path.is_file():
        return None
    with np.load(path) as z:
        return {mode: [array_to_motion(z[f"{mode}_{i}"]) for i in range(n)] for mode in MODES}


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


# ------------------------------------------------------------------ lip sync on real speech
REAL_SPEECH_PROMPT = "A person speaks with a calm neutral expression."


def lipsync_section(ckpts: list[Checkpoint], settings: Settings, notes: list[str]) -> dict[str, Any] | None:
    """Lip-sync scores of each checkpoint on the bundled real recording (CMU ARCTIC a0007)."""
    try:
        from .lipsync import lipsync_report, transcribe
    except ImportError:
        notes.append("eval/lipsync.py is not in this install: lip sync on real speech was not scored")
        return None
    from ..audio.features import get_audio_encoder
    from ..audio.io import SAMPLE_RATE, load_audio
    from ..text.encoder import get_text_encoder

    wav_path = Path(__file__).resolve().parent.parent / "assets" / "demo_speech.wav"
    wav = load_audio(wav_path)
    text = torch.from_numpy(get_text_encoder().encode([REAL_SPEECH_PROMPT])[0])
    transcript = transcribe(wav)             # once: the same speech for every model
    out = {"audio": wav_path.name, "prompt": REAL_SPEECH_PROMPT, "transcript": transcript, "scores": {}}
    for ck in tqdm(ckpts, desc="lip sync", unit="model", leave=False):
        feats = get_audio_encoder(ck.model.cfg.audio_encoder).encode(wav)
        motion = generate(ck.model, feats, style_for(ck.model, "text", text, None), settings)
        motion = dataclasses.replace(motion, audio=wav, sample_rate=SAMPLE_RATE)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = lipsync_report(motion, wav, transcript)
        out["scores"][ck.name] = _plain(report)
    return out


def _plain(obj: Any) -> Any:
    """A report object as JSON-ready numbers and strings."""
    if dataclasses.is_dataclass(obj):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items() if not isinstance(v, np.ndarray) or v.size <= 64}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    return obj
