"""Training data in memory: all clips of a split as flat arrays, audio features computed once.

Whisper features are the expensive part on a CPU, so a split is encoded once (clean audio plus
`augmented` perturbed copies, so that a model trained on TTS voices holds on human speech) and
stored as one safetensors file; training then samples window pairs from RAM.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from safetensors.numpy import load_file
from tqdm import tqdm

from ..audio.io import SAMPLE_RATE
from ..errors import TalkstyleError
from ..face.motion import DEFAULT_FPS
# The one place the data engine uses the model: a pack holds training batches in the model's own
# layout (Batch, motion_to_array, encode_attributes) and format (safetensors).
from ..model.checkpoint import save_tensors
from ..model.generator import Batch, motion_to_array
from ..model.style import encode_attributes
from .records import ClipRecord


@dataclasses.dataclass
class Pack:
    motion: np.ndarray          # (F, D) float32, all clips concatenated
    audio: np.ndarray           # (C, F, A) float16: C copies (0 = clean audio, then augmented)
    starts: np.ndarray          # (n,) int64 first frame of each clip
    lengths: np.ndarray         # (n,) int64
    text: np.ndarray            # (n, text_dim) float32 prompt embeddings
    attrs: np.ndarray           # (n, 4) float32 encoded attributes
    contact: np.ndarray | None = None   # (2, F) lip-contact targets and where they are known (train.py); not cached

    def __len__(self) -> int:
        return len(self.starts)

    def save(self, path: Path) -> None:
        save_tensors(path, {k: torch.from_numpy(np.ascontiguousarray(v))
                            for k, v in dataclasses.asdict(self).items() if k != "contact"})

    @classmethod
    def load(cls, path: Path) -> "Pack":
        return cls(**load_file(str(path)))

    def sample(self, batch_size: int, window: int, rng: np.random.Generator,
               normalise: Callable[[torch.Tensor], torch.Tensor], rows: slice = slice(None)) -> Batch:
        """Random pairs of consecutive windows (2N frames; zero-padded past a clip's end).

        `rows`: the pairs of the batch of `batch_size` to return (one process's share of a
        distributed batch: every process draws the whole batch's positions, builds only its own).
        """
        span = 2 * window
        clips = rng.choice(len(self), batch_size, p=self.lengths / self.lengths.sum())
        copies = rng.integers(0, len(self.audio), batch_size)
        offsets = [rng.integers(0, max(1, self.lengths[c] - span + 1)) for c in clips]
        clips, copies, offsets = clips[rows], copies[rows], offsets[rows]
        motion = np.zeros((len(clips), span, self.motion.shape[1]), np.float32)
        audio = np.zeros((len(clips), span, self.audio.shape[2]), np.float32)
        mask = np.zeros((len(clips), span), bool)
        for i, (c, offset) in enumerate(zip(clips, offsets)):
            a = self.starts[c] + offset
            n = min(span, self.lengths[c] - offset)
            motion[i, :n] = self.motion[a:a + n]
            audio[i, :n] = self.audio[copies[i], a:a + n]
            mask[i, :n] = True
        m = torch.from_numpy(mask)
        x = normalise(torch.from_numpy(motion)) * m.unsqueeze(-1)          # padding stays 0
        return Batch(x, torch.from_numpy(audio), m, torch.from_numpy(self.text[clips]),
                     torch.from_numpy(self.attrs[clips]))


def records_key(records: Sequence[ClipRecord], encoder: str, augmented: int) -> str:
    ids = json.dumps([encoder, augmented] + sorted(r.clip_id for r in records))
    return hashlib.sha1(ids.encode()).hexdigest()[:12]


def groups_of(lengths: Sequence[int], max_frames: int) -> list[list[int]]:
    """Consecutive clips packed into groups of at most `max_frames` frames (a longer clip alone)."""
    groups: list[list[int]] = [[]]
    total = 0
    for i, n in enumerate(lengths):
        if groups[-1] and total + n > max_frames:
            groups.append([])
            total = 0
        groups[-1].append(i)
        total += n
    return groups


def build_pack(records: Sequence[ClipRecord], audio_encoder, text_encoder, augment: Callable | None,
               augmented: int, seed: int, group_seconds: float = 28.0) -> Pack:
    """Encode every clip's audio (clean + augmented copies) and prompt.

    Clips are concatenated into groups of up to `group_seconds` and encoded in one pass:
    Whisper's features depend on where a frame sits in its 30 s window, so training must see
    every position that long inference audio produces (and one pass per group is also far
    cheaper than one padded 30 s pass per short clip).
    """
    if not records:
        raise TalkstyleError("no clips to train on")
    rng = np.random.default_rng(seed)
    motions = [r.motion if r.motion.fps == DEFAULT_FPS else r.motion.resample(DEFAULT_FPS) for r in records]
    for r, m in zip(records, motions):
        if m.audio is None or m.sample_rate != SAMPLE_RATE:
            raise TalkstyleError(f"clip {r.clip_id} has no {SAMPLE_RATE} Hz audio")
    lengths = np.array([m.num_frames for m in motions], np.int64)
    feats = [[] for _ in range(1 + augmented)]
    for group in tqdm(groups_of(lengths, int(group_seconds * DEFAULT_FPS)), desc="encoding audio", unit="group"):
        # Each clip's audio cut or padded to exactly its frames, so frame boundaries line up.
        wav = np.concatenate([fit_samples(motions[i].audio, motions[i].num_frames) for i in group])
        frames = int(lengths[group].sum())
        for c in range(1 + augmented):
            x = wav if c == 0 else augment(wav, rng)
            feats[c].append(audio_encoder.encode(x, num_frames=frames).astype(np.float16))
    texts = [r.prompt.text for r in records]
    unique = sorted(set(texts))
    emb = np.asarray(text_encoder.encode(unique), np.float32)
    text = emb[[unique.index(t) for t in texts]]
    return Pack(motion=np.concatenate([motion_to_array(m) for m in motions]),
                audio=np.stack([np.concatenate(f) for f in feats]),
                starts=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64), lengths=lengths,
                text=text, attrs=np.array([encode_attributes(r.prompt.attributes) for r in records], np.float32))


def fit_samples(audio: np.ndarray, frames: int) -> np.ndarray:
    n = frames * SAMPLE_RATE // int(DEFAULT_FPS)
    return audio[:n] if len(audio) >= n else np.pad(audio, (0, n - len(audio)))
