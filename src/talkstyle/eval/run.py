"""The evaluation (seed paper section 6.1, extended): `talkstyle evaluate`, end to end.

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
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..pipeline import Settings, torch_threads
from .cache import cache_file, load_motions, save_motions
from .generation import alpha_trajectory, generate, style_for
from .metrics import motion_metrics
from .protocol import (MODES, Checkpoint, ModelRun, TestClip, check_eval_data, encode_inputs, load_checkpoints,
                       test_clips)
from .statistics import PairedTest, significance
from .. import assets


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
             swap_clips: int = 16, progress: bool = True, cache: Path | None = None,
             threads: int | None = 2) -> Evaluation:
    """Run the whole protocol; `checkpoints` in order, the first one is compared with the rest.
    `threads`: torch CPU threads for the whole run (None: torch's own setting).

    With `cache`, each checkpoint's generations are kept there, so an interrupted or repeated
    evaluation only generates what is missing (the key covers weights, settings and clips).
    """
    data = Path(data)
    if eval_data is not None:
        check_eval_data(data, Path(eval_data))
    with torch_threads(threads):
        return _evaluate(data, checkpoints, eval_data, settings, max_clips, evaluator_steps, swap_clips, progress, cache)


def _evaluate(data: Path, checkpoints: dict[str, Path], eval_data: str | Path | None, settings: Settings,
              max_clips: int | None, evaluator_steps: int, swap_clips: int, progress: bool,
              cache: Path | None) -> Evaluation:
    ckpts = load_checkpoints(checkpoints)
    clips = test_clips(data, max_clips, fps=ckpts[0].pipe.fps)
    inputs = encode_inputs(clips, ckpts)
    runs = []
    bar = tqdm(total=len(ckpts) * len(clips), desc="evaluate", unit="clip", disable=not progress)
    for ck in ckpts:
        cached = cache_file(cache, ck, settings, clips)
        motions = load_motions(cached, len(clips), ck.pipe.fps) if cached is not None else None
        if motions is None:
            motions = {m: [] for m in MODES}
            for clip, inp in zip(clips, inputs):
                for mode in MODES:
                    style = style_for(ck.pipe, mode, inp.text, clip.reference)
                    motions[mode].append(generate(ck.pipe, inp.audio[ck.model.cfg.audio_encoder], style, settings))
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
            style = style_for(ck.pipe, "both", inputs[0].text, clips[0].reference)
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


# ------------------------------------------------------------------ lip sync on real speech
REAL_SPEECH_PROMPT = "A person speaks with a calm neutral expression."


def lipsync_section(ckpts: list[Checkpoint], settings: Settings, notes: list[str]) -> dict[str, Any] | None:
    """Lip-sync scores of each checkpoint on the bundled real recording (CMU ARCTIC a0007)."""
    try:
        from .lipsync import lipsync_report, transcribe
    except ImportError:
        notes.append("eval/lipsync.py is not in this install: lip sync on real speech was not scored")
        return None
    from ..audio.io import SAMPLE_RATE, load_audio

    wav_path = assets.path("demo_speech.wav")
    wav = load_audio(wav_path)
    transcript = transcribe(wav)             # once: the same speech for every model
    out = {"audio": wav_path.name, "prompt": REAL_SPEECH_PROMPT, "transcript": transcript, "scores": {}}
    for ck in tqdm(ckpts, desc="lip sync", unit="model", leave=False):
        text = ck.pipe.encode_prompt(REAL_SPEECH_PROMPT)
        motion = generate(ck.pipe, ck.pipe.encode_audio(wav), style_for(ck.pipe, "text", text, None), settings)
        motion = dataclasses.replace(motion, audio=wav, sample_rate=SAMPLE_RATE)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = lipsync_report(motion, wav, transcript)
        out["scores"][ck.name] = plain(report)
    return out


def plain(obj: Any) -> Any:
    """A report object as JSON-ready numbers and strings."""
    if dataclasses.is_dataclass(obj):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items() if not isinstance(v, np.ndarray) or v.size <= 64}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    return obj
