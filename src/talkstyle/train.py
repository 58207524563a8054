"""Training the style generator: `talkstyle train --data DIR --config small`.

DDPM training of x0 prediction on pairs of windows (seed paper section 4.4), AdamW with warmup
and cosine decay, an EMA copy of the weights (what is saved for inference), validation loss on
fixed batches, a JSON-lines loss log, and resumable checkpoints (safetensors + JSON). Under
torchrun the processes share every batch and train one model (distributed.py).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from safetensors.torch import load_file
from tqdm import tqdm

from .audio.augment import exact_speed, speed_perturb
from .data.records import ClipRecord
from .distributed import rank_zero_first, session, step_losses
from .errors import TalkstyleError
from .face.motion import DEFAULT_FPS
from .model.checkpoint import read_config, save_checkpoint, save_tensors
from .model.config import ModelConfig, TrainConfig, get_config
from .model.contact import ContactConfig, LipContact
from .model.generator import StyleGenerator
from .model.shard import Shard
from .data.pack import Pack, build_pack, records_key

VAL_BATCHES = 4
SPEED_SHARE = 0.5               # train clips that get a speed-perturbed copy
SPEED_RANGE = (0.8, 1.3)
VAL_SEED = 1234
CONTACT_POS_WEIGHT = 3.0        # closures are ~15 % of speech frames; a missed one shows, a spare one barely


def lr_at(step: int, tc: TrainConfig) -> float:
    if step < tc.warmup:
        return tc.lr * (step + 1) / tc.warmup
    progress = (step - tc.warmup) / max(1, tc.steps - tc.warmup)
    return tc.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


@torch.no_grad()
def ema_update(ema: StyleGenerator, model: StyleGenerator, step: int, decay: float) -> None:
    d = min(decay, (1 + step) / (10 + step))        # short memory early on, as in diffusers' EMAModel
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p, 1 - d)


@torch.no_grad()
def validate(model: StyleGenerator, pack: Pack, tc: TrainConfig) -> dict[str, float]:
    """Mean losses on the same VAL_BATCHES batches (same noise and timesteps) every time."""
    model.eval()
    totals: dict[str, float] = {}
    device = model.motion_mean.device
    with torch.random.fork_rng():
        torch.manual_seed(VAL_SEED)
        rng = np.random.default_rng(VAL_SEED)
        for _ in range(VAL_BATCHES):
            batch = pack.sample(tc.batch_size, model.cfg.window, rng, model.normalise).to(device)
            for k, v in model.losses(batch, tc).items():
                totals[k] = totals.get(k, 0.0) + v.item() / VAL_BATCHES
    return totals


# ------------------------------------------------------------------ resumable state
def save_state(out: Path, model: StyleGenerator, ema: StyleGenerator, opt: torch.optim.Optimizer,
               step: int, rng: np.random.Generator, mc: ModelConfig, tc: TrainConfig, extra: dict) -> None:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    for i, state in opt.state_dict()["state"].items():
        tensors.update({f"opt.{i}.{k}": torch.as_tensor(v) for k, v in state.items()})
    tensors["torch_rng"] = torch.get_rng_state()
    tensors["step"] = torch.tensor(step)
    tensors["np_rng"] = torch.tensor(list(json.dumps(rng.bit_generator.state).encode()), dtype=torch.uint8)
    save_tensors(out / "train_state.safetensors", tensors)
    save_checkpoint(out, ema.state_dict(), mc, {"train": tc.to_dict(), "step": step, **extra})


def load_state(out: Path, model: StyleGenerator, ema: StyleGenerator, opt: torch.optim.Optimizer,
               mc: ModelConfig, rng: np.random.Generator) -> int:
    """Restore a run from `out`; returns the step to continue from."""
    from .model.checkpoint import load_weights

    config = read_config(out)
    if ModelConfig.from_dict(config["model"]) != mc:
        raise TalkstyleError(f"{out} holds a run of another model config; use another --out or the same --config")
    state = load_file(str(out / "train_state.safetensors"))
    load_weights(model, {k[6:]: v for k, v in state.items() if k.startswith("model.")}, str(out))
    load_weights(ema, load_file(str(out / "model.safetensors")), str(out))
    restore_optimizer(opt, state)
    torch.set_rng_state(state["torch_rng"])
    rng.bit_generator.state = json.loads(bytes(state["np_rng"].tolist()).decode())
    return int(state["step"])


def restore_optimizer(opt: torch.optim.Optimizer, state: dict[str, torch.Tensor]) -> None:
    """Load the Adam moments saved as `opt.<param index>.<name>` tensors of a train_state file."""
    opt_state = opt.state_dict()
    for key, v in state.items():
        if key.startswith("opt."):
            _, i, name = key.split(".", 2)
            opt_state["state"].setdefault(int(i), {})[name] = v
    opt.load_state_dict(opt_state)


def trim_log(path: Path, step: int) -> float:
    """Drop log rows after `step` (written after the checkpoint we resume from); returns their time."""
    if not path.is_file():
        return 0.0
    rows = [line for line in path.read_text().splitlines() if line.strip()]
    kept = [line for line in rows if json.loads(line)["step"] <= step]
    if len(kept) != len(rows):
        path.write_text("".join(line + "\n" for line in kept))
    return json.loads(kept[-1])["time"] if kept else 0.0


# ------------------------------------------------------------------ the loop
def fit(train_pack: Pack, val_pack: Pack, out: Path, mc: ModelConfig, tc: TrainConfig, seed: int = 0,
        resume: bool = True, extra: dict | None = None, until: int | None = None,
        init: Path | None = None, shard: Shard = Shard()) -> Path:
    """Train on packed data; writes checkpoints and log.jsonl under `out`. Returns `out`.

    `until` stops (with a checkpoint) after that step: a time-boxed part of a longer run.
    `init` starts a new run from a checkpoint's inference weights (fine-tuning).
    `shard`: this process's share of each batch under torchrun (distributed.session()). Every
    process draws the same random numbers for the whole batch and computes its own pairs, so the
    run equals one process's at the same batch size; process 0 writes the checkpoints and log.
    """
    if tc.batch_size % shard.world:
        raise TalkstyleError(f"batch size {tc.batch_size} does not split evenly over {shard.world} processes")
    lead = shard.rank == 0
    if lead:
        out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(tc.threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = StyleGenerator(mc)
    model.set_normalisation(train_pack.motion)
    if init is not None:
        from .model.checkpoint import load_generator

        source = load_generator(init)
        if source.cfg != mc:
            raise TalkstyleError(f"--init {init} is a checkpoint of another model config than --config")
        model.load_state_dict(source.state_dict())
    model.to(shard.device)
    ema = copy.deepcopy(model)
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    step = 0
    if resume and (out / "train_state.safetensors").is_file():
        step = load_state(out, model, ema, opt, mc, rng)
    extra = {"seed": seed, **(extra or {}), **({"processes": shard.world} if shard.world > 1 else {})}
    elapsed = trim_log(out / "log.jsonl", step) if lead else 0.0
    log = open(out / "log.jsonl", "a") if lead else None
    model.train()
    losses_of = step_losses(model, tc, shard)
    rows = shard.rows(tc.batch_size)
    last = min(tc.steps, until or tc.steps)
    bar = tqdm(range(step, last), initial=step, total=tc.steps, desc="training", unit="step", disable=not lead)
    t0 = time.time() - elapsed
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, tc)
        batch = train_pack.sample(tc.batch_size, mc.window, rng, model.normalise, rows).to(shard.device)
        losses = losses_of(batch, model.draw(tc.batch_size, tc).pairs(rows))
        # The whole batch's losses (each process holds its scaled share): the same in every process.
        values = dict(zip(losses, shard.average(torch.stack([v.detach() for v in losses.values()])).tolist()))
        if not math.isfinite(values["total"]):
            raise TalkstyleError(f"training diverged at step {step} (non-finite loss); lower the learning rate")
        opt.zero_grad(set_to_none=True)
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        opt.step()
        ema_update(ema, model, step, tc.ema_decay)
        done = step + 1
        if not lead:
            continue
        row = {"step": done, "lr": opt.param_groups[0]["lr"], "time": round(time.time() - t0, 1),
               **{k: round(v, 5) for k, v in values.items()}}
        bar.set_postfix(loss=f"{row['total']:.4f}", simple=f"{row['simple']:.4f}")
        if done % tc.val_every == 0 or done == tc.steps:
            row["val"] = {k: round(v, 5) for k, v in validate(ema, val_pack, tc).items()}
            bar.write(f"step {done}: val simple {row['val']['simple']:.4f} total {row['val']['total']:.4f}")
        log.write(json.dumps(row) + "\n")
        log.flush()
        if done % tc.save_every == 0 or done == last:
            save_state(out, model, ema, opt, done, rng, mc, tc, extra)
    if log:
        log.close()
    return out


def with_speed_copies(records: list[ClipRecord], seed: int, share: float = SPEED_SHARE) -> list[ClipRecord]:
    """`share` of the clips again, played 0.8-1.3x as fast with their motion time-warped to match
    (Kaldi-style speed perturbation; people talk faster and slower than the actor's voices)."""
    rng = np.random.default_rng([seed, 11])
    copies = []
    for r in records:
        factor = float(rng.uniform(*SPEED_RANGE))
        if rng.random() < share:
            f = exact_speed(factor)
            copies.append(dataclasses.replace(r, clip_id=f"{r.clip_id}@speed{f:.4f}", motion=speed_perturb(r.motion, factor),
                                              phones=[dataclasses.replace(p, start=p.start / f, end=p.end / f)
                                                      for p in r.phones]))
    return records + copies


def load_pack(data: Path, split: str, mc: ModelConfig, augmented: int, seed: int) -> Pack:
    """A dataset split's features and motion, encoded once and cached under DATA/cache/, with its
    lip-contact targets. The train split gets speed-perturbed copies; `augmented` channels hear
    every clip in other recording conditions (near- or far-field)."""
    from .audio.augment import recording_conditions
    from .audio.features import get_audio_encoder
    from .data.store import Dataset
    from .text.encoder import get_text_encoder

    records = Dataset(data).records(split)
    if not records:
        raise TalkstyleError(f"dataset {data} has no '{split}' clips: build a larger one")
    if split == "train":
        records = with_speed_copies(records, seed)
    path = data / "cache" / f"pack_{split}_{records_key(records, mc.audio_encoder, augmented)}.safetensors"
    if path.is_file():
        pack = Pack.load(path)
    else:
        # The augmented channels share the clean copy's motion arrays, so their transforms keep
        # the timing (speed perturbation is done above, as clips of their own).
        pack = build_pack(records, get_audio_encoder(mc.audio_encoder), get_text_encoder(), recording_conditions,
                          augmented, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        pack.save(path)
    pack.contact = np.stack(contact_targets(records, pack.lengths))
    return pack


def val_split(data: Path) -> str:
    """Validation on held-out persons: the val split, else the test split."""
    from .data.store import Dataset

    return "val" if Dataset(data).clip_ids("val") else "test"


def load_packs(data: Path, mc: ModelConfig, augmented: int, seed: int) -> tuple[Pack, Pack]:
    """The train pack (speed copies, `augmented` other recording conditions) and the clean val pack."""
    return load_pack(data, "train", mc, augmented, seed), load_pack(data, val_split(data), mc, 0, seed)


def train(data: str | Path, out: str | Path, config: str = "small", steps: int | None = None,
          batch_size: int | None = None, seed: int = 0, augmented: int = 1, resume: bool = True,
          threads: int | None = None, audio_encoder: str | None = None, until: int | None = None,
          init: str | Path | None = None) -> Path:
    """The Python API of `talkstyle train`."""
    from .audio.features import get_audio_encoder

    from .validate import train_options

    data, out = Path(data), Path(out)
    if not data.is_dir():
        raise TalkstyleError(f"dataset folder not found: {data}")
    train_options(out, steps=steps, batch_size=batch_size, threads=threads, augmented=augmented, seed=seed)
    mc, tc = get_config(config)
    overrides = {k: v for k, v in dict(steps=steps, batch_size=batch_size, threads=threads).items() if v is not None}
    tc = dataclasses.replace(tc, **overrides)
    name = audio_encoder or mc.audio_encoder
    mc = dataclasses.replace(mc, audio_encoder=name, audio_dim=get_audio_encoder(name).dim)
    extra = {"config_name": config, "data": str(data), **({"init": str(init)} if init else {})}
    with session() as shard:
        with rank_zero_first(shard):
            train_pack, val_pack = load_packs(data, mc, augmented, seed)
        fit(train_pack, val_pack, out, mc, tc, seed, resume, extra, until, Path(init) if init else None, shard)
    if shard.rank > 0:                  # the lip-contact classifier is small: process 0 trains it alone
        return out
    finished = read_config(out).get("step") == tc.steps
    if finished and not (resume and LipContact.load(out) is not None):
        fit_contact(ContactData.of_pack(train_pack), contact_val(data, mc, seed), ContactConfig(audio_encoder=name),
                    tc.contact_steps, seed, tc.threads).save(out)
    return out


# ------------------------------------------------------------------ lip contact (model/contact.py)
def contact_targets(records: list[ClipRecord], lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For clips of `lengths` frames, concatenated: (F,) 1 on the frames where the actor holds its
    lips shut for a p, b or m (its bilabial hold, from the clip's phone timings), and (F,) 1 on the
    clips that have phone timings (captured clips do not)."""
    from .data.synth.visemes import LEAD_S, bilabial_hold, units

    target, known = np.zeros(int(np.sum(lengths)), np.float32), np.zeros(int(np.sum(lengths)), np.float32)
    start = 0
    for r, n in zip(records, lengths):
        n = int(n)
        if r.phones:
            target[start:start + n] = bilabial_hold(units(r.phones), n, DEFAULT_FPS, LEAD_S)
            known[start:start + n] = 1.0
        start += n
    return target, known


@dataclasses.dataclass
class ContactData:
    """A split's features and lip-contact targets, all clips concatenated (what fit_contact reads)."""
    feats: np.ndarray           # (C, F, D): the same frames heard in C recording conditions
    target: np.ndarray          # (F,) 1 where the lips are shut for a p, b or m
    known: np.ndarray           # (F,) 1 on the clips that have phone timings

    @classmethod
    def of_pack(cls, pack: Pack) -> "ContactData":
        return cls(pack.audio, *pack.contact)


def contact_val(data: Path, mc: ModelConfig, seed: int) -> ContactData:
    """The val clips clean and in one other recording condition: the lip-contact threshold is chosen
    over both, as users' microphones are not the TTS voices' clean channel."""
    return ContactData.of_pack(load_pack(data, val_split(data), mc, 1, seed))


def as_float32(x: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    return x.astype(np.float32)


def fit_contact(train: ContactData, val: ContactData, config: ContactConfig, steps: int = TrainConfig.contact_steps,
                seed: int = 0, threads: int | None = None, batch_size: int = 32, span: int = 64,
                prepare: Callable[[np.ndarray, np.random.Generator | None], np.ndarray] = as_float32) -> LipContact:
    """Train a lip-contact classifier of `config` on the features (every recording condition) and
    contact targets; its closure ramp is centred on the threshold that is best (F1) on the
    validation clips (in all their recording conditions). `prepare(crop, rng)` turns stored features into the model's input (with an
    rng: a training crop, to augment; None: validation). A few minutes on a CPU: rerun from the
    start after a crash."""
    if not train.known.any() or not val.known.any():
        raise TalkstyleError("the dataset has no phone timings to train lip contact on (synthetic clips have them)")
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng([seed, 21])
    model = LipContact(dataclasses.replace(config, audio_dim=train.feats.shape[2]))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    frames = train.feats.shape[1]
    span = min(span, frames)
    target, known = torch.from_numpy(train.target), torch.from_numpy(train.known)
    for step in tqdm(range(steps), desc="lip contact", unit="step"):
        for group in opt.param_groups:
            group["lr"] = 1e-3 * 0.5 * (1 + math.cos(math.pi * step / steps))
        starts = rng.integers(0, frames - span + 1, batch_size)
        copies = rng.integers(0, len(train.feats), batch_size)
        x = torch.from_numpy(prepare(np.stack([train.feats[c, s:s + span] for c, s in zip(copies, starts)]), rng))
        rows = torch.from_numpy(starts[:, None] + np.arange(span))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(x), target[rows], weight=known[rows], pos_weight=torch.tensor(CONTACT_POS_WEIGHT), reduction="sum")
        loss = loss / known[rows].sum().clamp(min=1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    # The threshold is chosen over every recording condition the validation clips are heard in.
    p = np.concatenate([model.probability(prepare(copy_, None)) for copy_ in val.feats])
    sure = np.tile(val.known > 0, len(val.feats))
    truth = np.tile(val.target, len(val.feats))[sure] > 0.5
    best = max(np.arange(0.2, 0.81, 0.05), key=lambda t: f1_score(p[sure] >= t, truth))
    model.cfg = dataclasses.replace(model.cfg, low=round(max(0.05, best - 0.15), 2), high=round(min(0.95, best + 0.15), 2))
    tqdm.write(f"lip contact: validation F1 {f1_score(p[sure] >= best, truth):.3f} at p >= {best:.2f}")
    return model


def f1_score(predicted: np.ndarray, truth: np.ndarray) -> float:
    hits = float((predicted & truth).sum())
    return 2 * hits / max(1.0, float(predicted.sum() + truth.sum()))


def train_contact(data: str | Path, checkpoint: str | Path, steps: int = TrainConfig.contact_steps, augmented: int = 1,
                  seed: int = 0, threads: int | None = None) -> Path:
    """The Python API of `talkstyle train-contact`: add a lip-contact component to a checkpoint folder."""
    data, checkpoint = Path(data), Path(checkpoint)
    if not data.is_dir():
        raise TalkstyleError(f"dataset folder not found: {data}")
    mc = ModelConfig.from_dict(read_config(checkpoint)["model"])
    train_pack = load_pack(data, "train", mc, augmented, seed)
    fit_contact(ContactData.of_pack(train_pack), contact_val(data, mc, seed), ContactConfig(audio_encoder=mc.audio_encoder),
                steps, seed, threads).save(checkpoint)
    return checkpoint
