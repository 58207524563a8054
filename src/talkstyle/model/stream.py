"""The streaming student: a causal recurrent net from incremental log-mel frames + a style vector
to motion, with a fixed look-ahead of `lookahead` frames.

Why recurrent: a frame costs one GRU step (constant time and memory, no window to wait for), and
the state is a fixed-size tensor, which is what an engine runtime (ONNX, Unity Sentis, Unreal NNE)
wants. The look-ahead is a delay: the net's output after input frame t is motion frame
t - lookahead, so it hears `lookahead` frames (40 ms each) of what follows before committing to a
mouth shape (lips close before the burst of a p or b that they make).

Style: the 64-dim style vector of the diffusion model it was distilled from (its text and motion
style encoders, so prompts and references mean the same), fed at every step and as a per-style
offset of the output (the role of the style basis: persistent expression lives there).

Checkpoints: stream_config.json + stream.safetensors in one folder (fp16 when shipped).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from ..atomic import write_text
from ..errors import TalkstyleError
from ..plain import from_plain, to_plain
from .checkpoint import load_weights, read_json_config, save_tensors
from .config import MOTION_DIM

FORMAT = "talkstyle-stream"
VERSION = 1
CONFIG_FILE, WEIGHTS_FILE = "stream_config.json", "stream.safetensors"
WHISPER_CONTACT = "whisper_contact"     # subfolder: the lip contact on Whisper-window features (audio/whisper_window.py)


@dataclasses.dataclass(frozen=True)
class StreamConfig:
    feature_dim: int = 320              # talkstyle.audio.incremental.DIM
    style_dim: int = 64                 # the teacher's style space
    motion_dim: int = MOTION_DIM
    fps: float = 25.0
    hidden: int = 192
    layers: int = 2
    lookahead: int = 3                  # frames of audio heard past the frame being output (40 ms each)
    teacher: str = "shipped"            # the diffusion checkpoint whose style space and outputs it learned

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StreamConfig":
        cfg = from_plain(cls, d, "stream model config")
        for key, hi in (("feature_dim", 4096), ("style_dim", 4096), ("hidden", 4096), ("layers", 16), ("lookahead", 100)):
            value = getattr(cfg, key)
            if isinstance(value, bool) or not isinstance(value, int) or not (0 if key == "lookahead" else 1) <= value <= hi:
                raise TalkstyleError(f"stream model config '{key}' = {value!r} is outside its bounds"[:200])
        if cfg.motion_dim != MOTION_DIM:
            raise TalkstyleError(f"stream model config 'motion_dim' must be {MOTION_DIM}")
        return cfg


class StreamNet(nn.Module):
    """(B, T, feature_dim) features, (B, T, style_dim) style per frame (a style change fades in),
    GRU state (layers, B, hidden) -> (B, T, motion_dim) normalised motion delayed by `lookahead`
    frames, and the new state."""

    def __init__(self, cfg: StreamConfig):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.audio_in = nn.Sequential(nn.LayerNorm(cfg.feature_dim), nn.Linear(cfg.feature_dim, h), nn.GELU())
        self.style_in = nn.Linear(cfg.style_dim, h)
        self.gru = nn.GRU(2 * h, h, cfg.layers, batch_first=True)
        self.out = nn.Sequential(nn.Linear(h + h, h), nn.GELU(), nn.Linear(h, cfg.motion_dim))
        self.style_offset = nn.Sequential(nn.Linear(cfg.style_dim, h), nn.GELU(), nn.Linear(h, cfg.motion_dim))
        self.register_buffer("motion_mean", torch.zeros(cfg.motion_dim))
        self.register_buffer("motion_std", torch.ones(cfg.motion_dim))

    def initial_state(self, batch: int = 1) -> torch.Tensor:
        return torch.zeros(self.cfg.layers, batch, self.cfg.hidden)

    def forward(self, feats: torch.Tensor, style: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.style_in(style)
        h, state = self.gru(torch.cat([self.audio_in(feats), s], -1), state)
        return self.out(torch.cat([h, s], -1)) + self.style_offset(style), state

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.motion_std + self.motion_mean


def save_stream(folder: Path, net: StreamNet, extra: dict[str, Any] | None = None,
                dtype: torch.dtype = torch.float32) -> Path:
    """stream.safetensors (cast to `dtype`), then stream_config.json (so a config always has weights)."""
    folder.mkdir(parents=True, exist_ok=True)
    save_tensors(folder / WEIGHTS_FILE, {k: v.to(dtype) for k, v in net.state_dict().items()})
    config = {"format": FORMAT, "version": VERSION, "model": net.cfg.to_dict(), **(extra or {})}
    write_text(folder / CONFIG_FILE, json.dumps(config, indent=2) + "\n")
    return folder


def read_stream_config(folder: Path) -> dict[str, Any]:
    return read_json_config(folder / CONFIG_FILE, FORMAT, VERSION, "streaming model")


def load_stream(folder: str | Path) -> StreamNet:
    """The streaming net of `folder` in float32, eval mode."""
    folder = Path(folder)
    net = StreamNet(StreamConfig.from_dict(read_stream_config(folder)["model"]))
    try:
        weights = load_file(str(folder / WEIGHTS_FILE))
    except (SafetensorError, OSError) as e:
        raise TalkstyleError(f"cannot read {folder / WEIGHTS_FILE}: {e}") from None
    load_weights(net, weights, str(folder))          # strict, and finite
    return net.eval()
