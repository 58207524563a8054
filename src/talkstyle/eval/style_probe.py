"""Style in generated motion, judged by the independent StyleEvaluator (eval/style_eval.py).

The evaluator is trained on a dataset built with another seed (other synthetic persons than the
generator's data). With it the protocol reports, per checkpoint:
- emotion accuracy and text-motion R-precision of the motion generated for each mode;
- the effect of changing one word of the prompt (the emotion, or the intensity) on the
  evaluator's output and on the means of the ARKit channels that carry that emotion;
- reference following: is the motion generated from a reference nearer (in the evaluator's
  embedding) to that reference than to the other clips' references?
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..data.records import ClipRecord
from ..face.arkit import ARKIT_NAMES
from ..face.motion import FaceMotion
from ..pipeline import Settings
from ..vocab.attributes import EMOTION_FAMILIES
from .generation import generate, style_for
from .protocol import Inputs, ModelRun, TestClip
from .style_eval import StyleEvaluator, StyleScores, _crop, motion_features, score_motions, train_evaluator

FAMILY_CHANNELS = 5                     # channels that carry an emotion most, per family


# ------------------------------------------------------------------ the evaluator and its data
def load_or_train_evaluator(eval_data: Path, steps: int, seed: int = 0,
                            graded: bool = False) -> tuple[StyleEvaluator, list[ClipRecord]]:
    """The evaluator trained on every clip of `eval_data` (cached under eval_data/cache/);
    `graded`: its family probability follows the intensity (style_eval.graded_targets)."""
    from ..data.store import Dataset
    from ..text.encoder import get_text_encoder

    records = Dataset(eval_data).records()
    # "graded2": targets from the rendered amplitude (the first graded targets followed the level only).
    cache = eval_data / "cache" / f"style_evaluator_{'graded2_' if graded else ''}{steps}_{seed}"
    if (cache / "evaluator.json").is_file():
        return StyleEvaluator.load(cache), records
    text = get_text_encoder().encode([r.prompt.text for r in records])
    model = train_evaluator(records, text, steps=steps, seed=seed, graded=graded)
    model.save(cache)
    return model, records


def family_channels(records: list[ClipRecord]) -> dict[str, list[str]]:
    """Per emotion family, the ARKit channels whose mean rises most above the neutral clips' mean."""
    by_family: dict[str, list[np.ndarray]] = {}
    for r in records:
        by_family.setdefault(r.prompt.attributes.family, []).append(r.motion.weights)
    means = {f: np.concatenate(w).mean(0) for f, w in by_family.items()}
    base = means.get("neutral", np.concatenate([np.concatenate(w) for w in by_family.values()]).mean(0))
    return {f: [ARKIT_NAMES[i] for i in np.argsort(base - m)[:FAMILY_CHANNELS]]
            for f, m in means.items() if f != "neutral"}


def activation(motion: FaceMotion, channels: list[str]) -> float:
    return float(np.mean([motion.channel(c).mean() for c in channels]))


@torch.no_grad()
def embed(model: StyleEvaluator, motions: list[FaceMotion]) -> torch.Tensor:
    x = torch.from_numpy(np.stack([_crop(motion_features(m), None) for m in motions]))
    return model.embed_motion(x)


@torch.no_grad()
def family_probs(model: StyleEvaluator, motions: list[FaceMotion]) -> np.ndarray:
    """(N, families) softmax of the evaluator's emotion classifier."""
    return model.classify(embed(model, motions)).softmax(-1).numpy()


# ------------------------------------------------------------------ one-word edits
@dataclasses.dataclass
class WordEdit:
    """The prompt with one word changed: what the model was asked, what the evaluator saw."""
    clip: int
    kind: str                           # "emotion" | "intensity"
    text: str                           # the edited prompt
    family: str                         # the family whose evidence should change
    direction: int                      # +1: should rise, -1: should fall


def _replace_word(text: str, word: str, new: str) -> str | None:
    pattern = re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)
    return pattern.sub(new, text, count=1) if pattern.search(text) else None


def word_edits(clips: list[TestClip], limit: int) -> list[WordEdit]:
    """For up to `limit` clips with an emotion: emotion -> happy (sad for happy clips), and the
    intensity word -> "intense" (below medium) or "slight" (from medium up)."""
    edits: list[WordEdit] = []
    for i, c in enumerate(clips):
        a = c.prompt.attributes
        if a.family == "neutral" or len({e.clip for e in edits}) >= limit:
            continue
        target = "sad" if a.family == "happy" else "happy"
        text = _replace_word(c.prompt.text, a.emotion, target)
        if text is not None:
            edits.append(WordEdit(i, "emotion", text, target, +1))
        up = a.level < 0.5
        text = _replace_word(c.prompt.text, a.intensity, "intense" if up else "slight")
        if text is not None:
            edits.append(WordEdit(i, "intensity", text, a.family, +1 if up else -1))
    return edits


@dataclasses.dataclass
class EditEffect:
    """Mean effect of one kind of edit for one model (signed so that positive = as asked)."""
    model: str
    kind: str
    n: int
    prob_change: float                  # evaluator P(family), edited - original, x direction
    channel_change: float               # family-channel activation, edited - original, x direction
    as_asked: float                     # share of edits whose channel change has the asked sign
    hit_rate: float                     # share of edited motions classified as the family
    top_channels: list[tuple[str, float]]  # largest mean channel changes (edited - original)


# ------------------------------------------------------------------ reference following
@dataclasses.dataclass
class Following:
    model: str
    auc: float                          # share of other references farther than its own (chance 0.5)
    top1: float                         # own reference the nearest of all
    n: int


def following(model_name: str, gen: torch.Tensor, refs: torch.Tensor) -> Following:
    sims = (gen @ refs.T).numpy()
    n = len(sims)
    own = np.diag(sims)
    auc = [(own[i] > np.delete(sims[i], i)).mean() for i in range(n)] if n > 1 else [float("nan")]
    return Following(model_name, float(np.mean(auc)), float((sims.argmax(1) == np.arange(n)).mean()), n)


# ------------------------------------------------------------------ the report
@dataclasses.dataclass
class StyleRow:
    model: str
    mode: str
    scores: StyleScores


@dataclasses.dataclass
class StyleReport:
    eval_data: str
    evaluator_steps: int
    evaluator_clips: int
    family_channels: dict[str, list[str]]
    rows: list[StyleRow]                # "ground truth" first: what the evaluator reads from real targets
    edits: list[EditEffect]
    following: list[Following]


def style_report(eval_data: Path, clips: list[TestClip], inputs: list[Inputs], runs: list[ModelRun],
                 settings: Settings, evaluator_steps: int, swap_clips: int, progress: bool = True) -> StyleReport:
    evaluator, records = load_or_train_evaluator(eval_data, evaluator_steps)
    channels = family_channels(records)
    families = [c.prompt.attributes.family for c in clips]
    text = np.stack([inp.text.numpy() for inp in inputs])
    targets = [c.target for c in clips]
    rows = [StyleRow("ground truth", "-", score_motions(evaluator, targets, families, text))]
    for run in runs:
        rows += [StyleRow(run.checkpoint.name, mode, score_motions(evaluator, run.motions[mode], families, text))
                 for mode in ("text", "reference", "both")]

    ref_emb = embed(evaluator, [c.reference for c in clips])
    follow = [following("ground truth", embed(evaluator, targets), ref_emb)]
    follow += [following(r.checkpoint.name, embed(evaluator, r.motions["reference"]), ref_emb) for r in runs]

    edits = word_edits(clips, swap_clips)
    effects = []
    if edits:
        edit_text = torch.from_numpy(runs[0].checkpoint.pipe.text_encoder.encode([e.text for e in edits]))
        for run in tqdm(runs, desc="word edits", unit="model", disable=not progress, leave=False):
            pipe = run.checkpoint.pipe
            before = [run.motions["text"][e.clip] for e in edits]
            after = [generate(pipe, inputs[e.clip].audio[pipe.generator.cfg.audio_encoder],
                              style_for(pipe, "text", edit_text[k], None), settings)
                     for k, e in enumerate(edits)]
            effects += edit_effects(run.checkpoint.name, evaluator, edits, before, after, channels)
    return StyleReport(str(eval_data), evaluator_steps, len(records), channels, rows, effects, follow)


def edit_effects(model: str, evaluator: StyleEvaluator, edits: list[WordEdit], before: list[FaceMotion],
                 after: list[FaceMotion], channels: dict[str, list[str]]) -> list[EditEffect]:
    p0, p1 = family_probs(evaluator, before), family_probs(evaluator, after)
    out = []
    for kind in ("emotion", "intensity"):
        idx = [k for k, e in enumerate(edits) if e.kind == kind and e.family in channels]
        if not idx:
            continue
        fam = [EMOTION_FAMILIES.index(edits[k].family) for k in idx]
        sign = np.array([edits[k].direction for k in idx])
        dprob = (p1[idx, fam] - p0[idx, fam]) * sign
        dchan = np.array([activation(after[k], channels[edits[k].family]) - activation(before[k], channels[edits[k].family])
                          for k in idx]) * sign
        delta = np.mean([after[k].weights.mean(0) - before[k].weights.mean(0) for k in idx], axis=0)
        top = [(ARKIT_NAMES[i], round(float(delta[i]), 4)) for i in np.argsort(-np.abs(delta))[:3]]
        out.append(EditEffect(model, kind, len(idx), float(dprob.mean()), float(dchan.mean()),
                              float((dchan > 0).mean()), float((p1[idx].argmax(1) == fam).mean()), top))
    return out
