"""An independent style evaluator: emotion-family classification and text-motion retrieval.

Trained on data the generator never saw (a dataset built with another seed, hence other
synthetic persons), it judges generated motion the way text-to-motion work does:
emotion accuracy, R-precision (top-1/top-3 among 32 candidates) and the matching score.
It is deliberately a different architecture from the generator's style encoder (a temporal
convolution stack, not a transformer) so that the two do not share blind spots.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..atomic import atomic_path
from ..data.records import ClipRecord
from ..data.synth.expression import MAX_EMOTION_AMPLITUDE, rendered_amplitude
from ..vocab.attributes import EMOTION_FAMILIES
from ..errors import TalkstyleError
from ..face.motion import FaceMotion

WINDOW = 100          # frames (4 s at 25 fps) the evaluator looks at
TEXT_DIM = 384        # MiniLM sentence embedding


def motion_features(motion: FaceMotion) -> np.ndarray:
    """(T, 55) weights + head in degrees/10, so both live on similar scales."""
    return np.concatenate([motion.weights, np.degrees(motion.head) / 10.0], axis=1).astype(np.float32)


def _crop(x: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """A WINDOW-frame crop (random when training, centred otherwise), zero-padded if short."""
    if len(x) < WINDOW:
        return np.pad(x, ((0, WINDOW - len(x)), (0, 0)))
    start = rng.integers(0, len(x) - WINDOW + 1) if rng is not None else (len(x) - WINDOW) // 2
    return x[start:start + WINDOW]


@dataclasses.dataclass
class EvaluatorConfig:
    in_dim: int = 55
    hidden: int = 128
    embed: int = 128
    num_classes: int = len(EMOTION_FAMILIES)
    graded: bool = False      # trained on graded_targets: its family probability follows intensity


class StyleEvaluator(nn.Module):
    def __init__(self, cfg: EvaluatorConfig = EvaluatorConfig()):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.motion = nn.Sequential(
            nn.Conv1d(cfg.in_dim, h, 5, padding=2), nn.GELU(),
            nn.Conv1d(h, h, 5, padding=4, dilation=2), nn.GELU(),
            nn.Conv1d(h, h, 5, padding=8, dilation=4), nn.GELU(),
        )
        # mean and std over time: style is a distribution of poses and their variability
        self.motion_proj = nn.Linear(2 * h, cfg.embed)
        self.text_proj = nn.Sequential(nn.Linear(TEXT_DIM, h), nn.GELU(), nn.Linear(h, cfg.embed))
        self.classifier = nn.Linear(cfg.embed, cfg.num_classes)
        self.logit_scale = nn.Parameter(torch.tensor(np.log(10.0), dtype=torch.float32))

    def embed_motion(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, 55) -> (B, embed), L2-normalised."""
        h = self.motion(x.transpose(1, 2))
        pooled = torch.cat([h.mean(-1), h.std(-1)], dim=-1)
        return F.normalize(self.motion_proj(pooled), dim=-1)

    def embed_text(self, t: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text_proj(t), dim=-1)

    def classify(self, z: torch.Tensor) -> torch.Tensor:
        return self.classifier(z)

    # ------------------------------------------------------------ checkpoints
    def save(self, folder: str | Path) -> None:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / "evaluator.safetensors") as tmp:
            save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(tmp))
        with atomic_path(folder / "evaluator.json") as tmp:
            tmp.write_text(json.dumps(dataclasses.asdict(self.cfg), indent=2))

    @classmethod
    def load(cls, folder: str | Path) -> "StyleEvaluator":
        from safetensors.torch import load_file

        folder = Path(folder)
        if not (folder / "evaluator.json").is_file():
            raise TalkstyleError(f"no style evaluator in {folder} (evaluator.json missing)")
        model = cls(EvaluatorConfig(**json.loads((folder / "evaluator.json").read_text())))
        model.load_state_dict(load_file(str(folder / "evaluator.safetensors")))
        return model.eval()


def _family_index(record: ClipRecord) -> int:
    return EMOTION_FAMILIES.index(record.prompt.attributes.family)


def graded_targets(records: list[ClipRecord]) -> torch.Tensor:
    """(N, families) classification targets whose family probability follows how strongly the clip
    shows its emotion: 0.5 + 0.5 x its rendered amplitude over the data's largest (the prompt's
    level times the person's expressivity, data.synth.expression.rendered_amplitude), the rest on
    neutral; neutral clips all neutral. The argmax stays the family, so accuracy keeps its meaning.

    Why: with one-hot targets the classifier is as sure of a faint clip as of an overwhelming one
    (P 0.98-0.99 at every level on held-out clips, docs/model.md), so its probability cannot rank
    intensities. Why the amplitude and not the level alone: the person's expressivity (0.6-1.4x)
    scales a clip as much as its intensity word does, so level targets tell a strong clip of a
    reserved person from a faint clip of an expressive one only by chance, and top out at the
    data's "overwhelming" clips of average persons."""
    neutral = EMOTION_FAMILIES.index("neutral")
    targets = torch.zeros(len(records), len(EMOTION_FAMILIES))
    for i, r in enumerate(records):
        family = r.prompt.attributes.family
        share = 1.0 if family == "neutral" else 0.5 + 0.5 * min(rendered_amplitude(r) / MAX_EMOTION_AMPLITUDE, 1.0)
        targets[i, EMOTION_FAMILIES.index(family)] = share
        targets[i, neutral] += 1.0 - share
    return targets


def _soft_targets(families: torch.Tensor) -> torch.Tensor:
    """Text-motion targets: clips of the same emotion family are not negatives of each other."""
    same = (families[:, None] == families[None, :]).float()
    return same / same.sum(1, keepdim=True)


def train_evaluator(records: list[ClipRecord], text_embeddings: np.ndarray, steps: int = 1500,
                    batch: int = 64, seed: int = 0, lr: float = 2e-3, graded: bool = False) -> StyleEvaluator:
    """Train on clip records (with their prompts' sentence embeddings, (N, 384)); `graded`: with
    graded_targets (a family probability that follows intensity) instead of one-hot families."""
    if len(records) < 8:
        raise TalkstyleError(f"the style evaluator needs at least 8 clips, got {len(records)}")
    from tqdm import tqdm

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    feats = [motion_features(r.motion) for r in records]
    labels = torch.tensor([_family_index(r) for r in records])
    classes = graded_targets(records) if graded else labels
    text = torch.from_numpy(np.asarray(text_embeddings, np.float32))
    model = StyleEvaluator(EvaluatorConfig(graded=graded))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in tqdm(range(steps), desc="style evaluator", leave=False):
        idx = rng.choice(len(records), size=min(batch, len(records)), replace=False)
        x = torch.from_numpy(np.stack([_crop(feats[i], rng) for i in idx]))
        x = x + 0.01 * torch.randn_like(x)  # tolerate tiny jitter of captured/generated motion
        z = model.embed_motion(x)
        zt = model.embed_text(text[idx])
        logits = model.logit_scale.exp() * z @ zt.T
        soft = _soft_targets(labels[idx])
        contrastive = 0.5 * (F.cross_entropy(logits, soft) + F.cross_entropy(logits.T, soft))
        loss = F.cross_entropy(model.classify(z), classes[idx]) + contrastive
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()


@dataclasses.dataclass
class StyleScores:
    emotion_accuracy: float
    r_precision_top1: float
    r_precision_top3: float
    matching_score: float     # mean cosine distance between a motion and its own text (lower is better)
    num_clips: int


@torch.no_grad()
def score_motions(model: StyleEvaluator, motions: list[FaceMotion], families: list[str],
                  text_embeddings: np.ndarray, pool: int = 32, seed: int = 0) -> StyleScores:
    """Emotion accuracy and R-precision of motions against the texts they were made for.

    R-precision: each motion's own text among `pool - 1` texts of other clips, ranked by
    cosine similarity; top-1 / top-3 hit rates. Texts sharing the motion's emotion family are
    not used as distractors (they are not wrong answers).
    """
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(np.stack([_crop(motion_features(m), None) for m in motions]))
    z = model.embed_motion(x)
    zt = model.embed_text(torch.from_numpy(np.asarray(text_embeddings, np.float32)))
    pred = model.classify(z).argmax(-1).numpy()
    fam = np.array([EMOTION_FAMILIES.index(f) for f in families])
    sims = (z @ zt.T).numpy()
    top1 = top3 = 0
    for i in range(len(motions)):
        others = np.flatnonzero(fam != fam[i])
        distract = rng.choice(others, size=min(pool - 1, len(others)), replace=False) if len(others) else others
        cand = np.concatenate([[i], distract])
        rank = int((sims[i, cand] > sims[i, i]).sum())
        top1 += rank < 1
        top3 += rank < 3
    n = len(motions)
    return StyleScores(
        emotion_accuracy=float((pred == fam).mean()),
        r_precision_top1=top1 / n, r_precision_top3=top3 / n,
        matching_score=float((1.0 - np.diag(sims)).mean()), num_clips=n,
    )
