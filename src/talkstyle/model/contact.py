"""Lip contact: the frames of speech where the lips must meet (p, b, m), read from the audio features.

The diffusion generator learns lip closures only as part of the whole face, and on real speech
it misses them: closures are short (one or two frames in fast talk) and a sampled motion rounds
them off. A frame classifier on the same audio features, trained on the data engine's phone
timings, finds them far more reliably (bilabial vs open-vowel AUC 0.98 on real recordings it
never heard), so the pipeline seals the lips where it is sure: an explicit contact constraint,
as animators place lip closures by hand. It is a separate component (lip_contact.json +
lip_contact.safetensors beside the generator), so any generator can use it and it can be
trained after the fact (`talkstyle train-contact`).

The streaming model has one too (assets/stream_model/), on its incremental log-mel features: there
the component may not hear the future past the stream's look-ahead, so it is built with
`lookahead` set, and `step` runs it on a window of features that a stream keeps (`context` frames
of history, then the new ones).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from ..atomic import write_text
from ..errors import TalkstyleError
from ..plain import from_plain, to_plain
from .checkpoint import load_weights, save_tensors

CONFIG_FILE, WEIGHTS_FILE = "lip_contact.json", "lip_contact.safetensors"
FORMAT = "talkstyle-lip-contact"


@dataclasses.dataclass(frozen=True)
class ContactConfig:
    audio_encoder: str = "whisper"      # the features it reads: must match the generator's
    audio_dim: int = 384
    hidden: int = 128
    kernel: int = 5                     # two layers of 5 frames: +-4 frames (160 ms) of context
    # None: centred (offline: the whole clip is there). An integer: causal apart from this many
    # frames of look-ahead (streaming); the input is then padded with `pad_value` (silence).
    lookahead: int | None = None
    pad_value: float = 0.0
    # closure = (p - low) / (high - low), clipped: below `low` the generator's mouth is kept,
    # above `high` the lips are fully sealed (chosen on held-out synthetic clips, see train.py)
    low: float = 0.35
    high: float = 0.65

    def check(self) -> None:
        for key, hi in (("audio_dim", 8192), ("hidden", 4096), ("kernel", 63)):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= hi:
                raise TalkstyleError(f"lip contact config '{key}' must be an integer in [1, {hi}], got {value!r}"[:200])
        if self.lookahead is not None and (isinstance(self.lookahead, bool) or not isinstance(self.lookahead, int)
                                           or not 0 <= self.lookahead <= self.context):
            raise TalkstyleError(f"lip contact config 'lookahead' must be null or an integer in [0, {self.context}], "
                                 f"got {self.lookahead!r}"[:200])
        if self.kernel % 2 == 0:
            raise TalkstyleError(f"lip contact config 'kernel' must be odd, got {self.kernel}")
        if not (isinstance(self.low, (int, float)) and isinstance(self.high, (int, float)) and 0 <= self.low < self.high <= 1):
            raise TalkstyleError(f"lip contact config needs 0 <= low < high <= 1, got {self.low!r}, {self.high!r}"[:200])

    @property
    def context(self) -> int:
        """Frames of input an output frame depends on, besides its own: two kernels and a 3-frame one."""
        return 2 * (self.kernel - 1) + 2


class LipContact(nn.Module):
    """(B, T, audio_dim) features -> (B, T) logits of "the lips are shut for a p, b or m here"."""

    def __init__(self, cfg: ContactConfig):
        super().__init__()
        cfg.check()
        self.cfg = cfg
        # Centred: each layer pads its own input (as the shipped offline component was trained).
        # With a look-ahead: no padding inside; forward pads the input once, mostly on the past side.
        pad = cfg.kernel // 2 if cfg.lookahead is None else 0
        self.net = nn.Sequential(nn.Conv1d(cfg.audio_dim, cfg.hidden, cfg.kernel, padding=pad), nn.GELU(),
                                 nn.Conv1d(cfg.hidden, cfg.hidden, cfg.kernel, padding=pad), nn.GELU(),
                                 nn.Conv1d(cfg.hidden, 1, 3, padding=1 if cfg.lookahead is None else 0))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, T, audio_dim) -> (B, T) logits, frame t from frames t - context + lookahead .. t + lookahead."""
        if self.cfg.lookahead is not None:
            past = self.cfg.context - self.cfg.lookahead
            feats = nn.functional.pad(feats, (0, 0, past, self.cfg.lookahead), value=self.cfg.pad_value)
        return self.step(feats)

    def step(self, window: torch.Tensor) -> torch.Tensor:
        """(B, context + T, audio_dim) -> (B, T) logits, unpadded: what a stream runs on its history
        plus T new frames (with a look-ahead, row t is the frame `lookahead` before the window's end)."""
        return self.net(window.transpose(1, 2)).squeeze(1)

    def ramp(self, p: torch.Tensor | np.ndarray):
        """Probabilities -> how far to seal the lips, 0..1 (below `low` the mouth is kept)."""
        x = (p - self.cfg.low) / (self.cfg.high - self.cfg.low)
        return x.clamp(0.0, 1.0) if isinstance(x, torch.Tensor) else np.clip(x, 0.0, 1.0).astype(np.float32)

    @torch.no_grad()
    def probability(self, feats: np.ndarray) -> np.ndarray:
        """(T, audio_dim) features -> (T,) probability of a lip closure at each frame."""
        if feats.shape[-1] != self.cfg.audio_dim:
            raise TalkstyleError(f"lip contact reads {self.cfg.audio_dim}-dim features, got {feats.shape[-1]}")
        return torch.sigmoid(self(torch.from_numpy(np.asarray(feats, np.float32))[None]))[0].numpy()

    def closure(self, feats: np.ndarray) -> np.ndarray:
        """(T,) how far to seal the lips at each frame, 0..1 (for face.lip_seal.seal_lips)."""
        return self.ramp(self.probability(feats))

    # ------------------------------------------------------------ files
    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_tensors(folder / WEIGHTS_FILE, {k: v.detach().to(torch.float16).contiguous() for k, v in self.state_dict().items()})
        write_text(folder / CONFIG_FILE, json.dumps({"format": FORMAT, "version": 1, **to_plain(self.cfg)}, indent=2) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> "LipContact | None":
        """The component saved in `folder`, None when the folder has none (an older checkpoint)."""
        folder = Path(folder)
        config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
        if not config_path.is_file() and not weights_path.is_file():
            return None
        try:
            raw = json.loads(config_path.read_text())
            weights = load_file(str(weights_path))
        except (OSError, ValueError, SafetensorError) as e:
            raise TalkstyleError(f"cannot read the lip contact component in {folder}: {e}"[:300]) from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise TalkstyleError(f"{config_path} is not a talkstyle lip contact config")
        raw = {k: v for k, v in raw.items() if k not in ("format", "version")}
        model = cls(from_plain(ContactConfig, raw, "lip contact config"))
        load_weights(model, weights, str(weights_path))
        return model.eval()
