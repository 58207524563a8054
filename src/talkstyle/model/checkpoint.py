"""Checkpoints: safetensors weights + a JSON config, never pickle.

A checkpoint folder holds config.json (format, model config, training config, step) and
model.safetensors (the weights used for inference: the EMA weights when trained here; fp16
for the shipped model). Training adds train_state.safetensors for resuming.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..atomic import atomic_path, write_text
from ..errors import TalkstyleError
from .config import ModelConfig
from .generator import StyleGenerator
from .. import assets

FORMAT = "talkstyle-generator"
VERSION = 1
DEFAULT_CHECKPOINT = assets.path("model")


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    with atomic_path(path, suffix=".safetensors") as tmp:
        save_file({k: v.detach().contiguous() for k, v in tensors.items()}, str(tmp))


def save_checkpoint(folder: Path, weights: dict[str, torch.Tensor], model_cfg: ModelConfig,
                    extra: dict[str, Any] | None = None, dtype: torch.dtype = torch.float32) -> None:
    """Write model.safetensors (cast to `dtype`) then config.json (last, so a config always has weights)."""
    folder.mkdir(parents=True, exist_ok=True)
    save_tensors(folder / "model.safetensors",
                 {k: v.to(dtype) if v.is_floating_point() else v for k, v in weights.items()})
    config = {"format": FORMAT, "version": VERSION, "model": model_cfg.to_dict(), **(extra or {})}
    write_text(folder / "config.json", json.dumps(config, indent=2) + "\n")


def read_json_config(path: Path, fmt: str, version: int, what: str, folder_kind: str = "") -> dict[str, Any]:
    """A component's JSON config, checked for its format name and a version this talkstyle reads
    (`what` names the component in the one-line errors, `folder_kind` the folder when the file is
    missing); with a "model" JSON object inside."""
    if not path.is_file():
        raise TalkstyleError(f"not a talkstyle {folder_kind or what} (no {path.name}): {path.parent}")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise TalkstyleError(f"{what} config is not valid JSON: {path}") from None
    except OSError as e:
        raise TalkstyleError(f"cannot read {path}: {e.strerror or e}") from None
    if not isinstance(config, dict) or config.get("format") != fmt:
        raise TalkstyleError(f"{path} is not a talkstyle {what} config")
    found = config.get("version", 0)
    if isinstance(found, bool) or not isinstance(found, int):
        raise TalkstyleError(f"{path}: 'version' must be a whole number, got {found!r}"[:200])
    if found > version:
        raise TalkstyleError(f"{path} has version {found}; this talkstyle reads up to {version}")
    if not isinstance(config.get("model"), dict):
        raise TalkstyleError(f"{path} has no model configuration ('model' must be a JSON object)")
    return config


def read_config(folder: Path) -> dict[str, Any]:
    path = Path(folder) / "config.json"
    config = read_json_config(path, FORMAT, VERSION, "generator", "checkpoint")
    try:
        ModelConfig.from_dict(config["model"])          # type and size checks, before anything is built
    except TalkstyleError as e:
        raise TalkstyleError(f"{path}: {e}") from None
    return config


def load_generator(folder: str | Path | None = None) -> StyleGenerator:
    """Build the generator from config.json and load model.safetensors (float32, eval mode)."""
    folder = Path(folder) if folder is not None else DEFAULT_CHECKPOINT
    config = read_config(folder)
    model = StyleGenerator(ModelConfig.from_dict(config["model"]))
    weights_path = folder / "model.safetensors"
    if not weights_path.is_file():
        raise TalkstyleError(f"checkpoint has no model.safetensors: {folder}")
    try:
        weights = load_file(str(weights_path))
    except (SafetensorError, OSError) as e:
        raise TalkstyleError(f"cannot read {weights_path}: {e}") from None
    load_weights(model, weights, str(folder))
    return model.eval()


def check_finite(weights: dict[str, torch.Tensor], source: str) -> None:
    """NaN or inf in the weights would turn every output into NaN: say so before any work."""
    # numpy: torch's isfinite costs about 1 ms a tensor on CPU, a second for a whole checkpoint.
    bad = [k for k, v in weights.items() if v.is_floating_point()
           and not np.isfinite((v.float() if v.dtype == torch.bfloat16 else v).numpy()).all()]
    if bad:
        raise TalkstyleError(f"weights in {source} contain NaN or infinite values ({len(bad)} tensors, "
                             f"e.g. '{bad[0]}'): the checkpoint is damaged or its training diverged")


def load_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor], source: str) -> None:
    """Strict load with one clear error when the weights belong to another configuration."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = sorted(k for k in set(expected) & set(weights) if expected[k].shape != weights[k].shape)
    if missing or unexpected or wrong:
        example = (wrong or missing or unexpected)[0]
        raise TalkstyleError(f"weights in {source} do not match its model config ({len(missing)} missing, "
                             f"{len(unexpected)} unexpected, {len(wrong)} with other shapes, e.g. '{example}'): "
                             "a checkpoint of another config?")
    check_finite(weights, source)
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in weights.items()})
