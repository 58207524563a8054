"""Distilling the streaming student (`talkstyle train-stream`): teacher outputs + real motion.

Two resumable stages under OUT/:
1. targets/part_NNN.safetensors: for a seeded subsample of the dataset's train clips (speed copies
   included), the teacher's (the diffusion pipeline's) motion for the clip's audio in one style
   (the clip's prompt, the clip itself as a reference, or no style), that style vector, the real
   motion, and the raw incremental log-mel of the clean audio and of one copy in other recording
   conditions (talkstyle.audio.augment.recording_conditions). The teacher reads the Whisper
   features the data engine's training pack cached (DATA/cache), else encodes them.
2. training: random crops, loss against both targets (per-channel MSE, velocity, and the rig's
   inner-lip gap with sealed lips weighted up, as the teacher was trained), a random gain in the
   log-mel domain; checkpoints (stream_config.json + stream.safetensors + train_state) every
   `save_every` steps; rerun the same command to resume.

The streaming model's lip-contact component (`talkstyle train-contact --checkpoint STREAM_MODEL`,
`train_stream_contact`) is trained apart, on the dataset's clips and phone timings directly: no
teacher is needed for it.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from tqdm import tqdm

from .audio.features import N_MELS
from .audio.incremental import DIM, SILENCE, log_mel_frames, normalise
from .audio.whisper_window import DIM as WINDOW_DIM
from .atomic import atomic_path, write_text
from .errors import TalkstyleError
from .model.checkpoint import save_tensors
from .model.contact import ContactConfig
from .model.generator import SEALED_MM, motion_to_array
from .model.lips import LipGap
from .model.stream import WHISPER_CONTACT, StreamConfig, StreamNet, load_stream, read_stream_config, save_stream
from .pipeline import TalkstylePipeline, torch_threads
from .train import ContactData, contact_targets, ema_update, fit_contact, lr_at, restore_optimizer

PART = 40                       # clips per targets part (the unit of resuming stage 1)
STYLE_MODES = ("prompt", "reference", "none")
STYLE_P = (0.55, 0.3, 0.15)


@dataclasses.dataclass(frozen=True)
class StreamTrainConfig:
    clips: int = 480                # train clips distilled (of 1670 with speed copies in a 3 h set)
    steps: int = 1200
    batch_size: int = 16
    crop: int = 150                 # frames per training sequence (6 s)
    lr: float = 2e-3
    warmup: int = 100
    ema_decay: float = 0.995
    w_teacher: float = 0.5          # share of the teacher in the target (the rest: the real motion)
    w_vel: float = 0.5
    w_lips: float = 0.1
    lip_sealed_boost: float = 4.0
    gain_db: float = 12.0           # random input gain +- this, in the log-mel domain
    warp: float = 0.0               # random mel-axis warp +- this (0.12: a voice 12 % higher / lower)
    tilt_db: float = 0.0            # random spectral tilt +- this across the band
    save_every: int = 250
    seed: int = 0


# ------------------------------------------------------------------ stage 1: targets
def whisper_features(data: Path, records, teacher: TalkstylePipeline, seed: int):
    """A function clip index -> (T, 384) Whisper features: slices of the training pack's clean copy
    when the data engine cached it (the features the teacher was trained on), else encoded."""
    from .data.pack import records_key

    key = records_key(records, teacher.generator.cfg.audio_encoder, 1)
    path = data / "cache" / f"pack_train_{key}.safetensors"
    if path.is_file():
        f = safe_open(str(path), "np")
        starts, lengths = f.get_tensor("starts"), f.get_tensor("lengths")
        audio = f.get_slice("audio")
        return lambda i: np.asarray(audio[0:1, int(starts[i]):int(starts[i] + lengths[i])][0], np.float32)
    return lambda i: teacher.encode_audio(records[i].motion.audio)


def build_targets(data: Path, out: Path, tc: StreamTrainConfig, teacher: TalkstylePipeline) -> list[Path]:
    from .audio.augment import recording_conditions
    from .data.pack import fit_samples
    from .data.store import Dataset
    from .train import with_speed_copies

    records = with_speed_copies(Dataset(data).records("train"), tc.seed)
    rng = np.random.default_rng([tc.seed, 18])
    chosen = np.sort(rng.choice(len(records), min(tc.clips, len(records)), replace=False))
    parts = [chosen[i:i + PART] for i in range(0, len(chosen), PART)]
    folder = out / "targets"
    folder.mkdir(parents=True, exist_ok=True)
    # The parts hold a subsample that --clips and --seed choose: a resumed run must keep them.
    meta, made = folder / "subsample.json", {"clips": len(chosen), "seed": tc.seed, "records": len(records)}
    if meta.is_file() and json.loads(meta.read_text()) != made:
        raise TalkstyleError(f"{folder} holds teacher outputs of another subsample ({meta.read_text().strip()}): "
                             "use the same --clips and --seed, or another --out")
    write_text(meta, json.dumps(made) + "\n")
    paths = [folder / f"part_{k:03d}.safetensors" for k in range(len(parts))]
    todo = [k for k, p in enumerate(paths) if not p.is_file()]
    if not todo:
        return paths
    feats_of = whisper_features(data, records, teacher, tc.seed)
    g = teacher.generator
    bar = tqdm(total=sum(len(parts[k]) for k in todo), desc="teacher outputs", unit="clip")
    for k in todo:
        crng = np.random.default_rng([tc.seed, 18, k])
        rows: dict[str, list[np.ndarray]] = {n: [] for n in ("real", "teacher", "mel", "mel_aug", "style", "lengths")}
        for i in parts[k]:
            r = records[i]
            real = motion_to_array(r.motion.resample(teacher.fps) if r.motion.fps != teacher.fps else r.motion)
            n = len(real)
            wav = fit_samples(r.motion.audio, n)
            mode = STYLE_MODES[crng.choice(3, p=STYLE_P)]
            with torch.no_grad():
                if mode == "prompt":
                    style = teacher.style_vector(teacher.encode_prompt(r.prompt.text), None)
                elif mode == "reference":
                    style = g.style_vector(None, real)
                else:
                    style = g.null_style.detach()
            settings = dataclasses.replace(teacher.settings, cfg_style=0.0) if mode == "none" else teacher.settings
            taught = teacher.generate(feats_of(int(i))[:n], style, settings)
            rows["real"].append(real)
            rows["teacher"].append(motion_to_array(taught)[:n])
            rows["mel"].append(log_mel_frames(wav, n))
            rows["mel_aug"].append(log_mel_frames(recording_conditions(wav, crng), n))
            rows["style"].append(style.numpy()[None])
            rows["lengths"].append(np.array([n]))
            bar.update(1)
        save_tensors(paths[k], {name: torch.from_numpy(np.concatenate(v).astype(np.int64 if name == "lengths" else np.float32))
                                for name, v in rows.items()})
    bar.close()
    return paths


@dataclasses.dataclass
class Targets:
    real: np.ndarray            # (F, 55) all clips concatenated
    teacher: np.ndarray         # (F, 55)
    mel: np.ndarray             # (2, F, 320) raw log-mel: clean, other recording conditions
    style: np.ndarray           # (n, 64)
    starts: np.ndarray          # (n,)
    lengths: np.ndarray         # (n,)

    @classmethod
    def load(cls, paths: list[Path]) -> "Targets":
        parts = [load_file(str(p)) for p in paths]
        cat = lambda k: np.concatenate([p[k].numpy() for p in parts])  # noqa: E731
        lengths = cat("lengths")
        return cls(cat("real"), cat("teacher"), np.stack([cat("mel"), cat("mel_aug")]), cat("style"),
                   np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)

    def sample(self, clips: np.ndarray, batch: int, crop: int, lookahead: int, gain_db: float,
               rng: np.random.Generator, warp: float = 0.0, tilt_db: float = 0.0) -> tuple[torch.Tensor, ...]:
        """Crops of `crop` frames: features (B, crop + lookahead, 320) (silence past a clip's end),
        style (B, 64), real and teacher (B, crop, 55), mask (B, crop)."""
        span = crop + lookahead
        feats = np.full((batch, span, DIM), -10.0, np.float32)         # log10 of silence
        real = np.zeros((batch, crop, 55), np.float32)
        taught = np.zeros_like(real)
        mask = np.zeros((batch, crop), bool)
        picks = rng.choice(clips, batch, p=self.lengths[clips] / self.lengths[clips].sum())
        for b, c in enumerate(picks):
            n = int(self.lengths[c])
            off = int(rng.integers(0, max(1, n - crop // 2))) if rng.random() < 0.8 else 0
            a, m = int(self.starts[c]) + off, min(crop, n - off)
            copy_ = int(rng.integers(0, 2))
            f = min(span, n - off)
            feats[b, :f] = voice_change(self.mel[copy_, a:a + f], rng.uniform(1 - warp, 1 + warp),
                                        rng.uniform(-tilt_db, tilt_db)) + rng.uniform(-gain_db, gain_db) / 10
            real[b, :m], taught[b, :m], mask[b, :m] = self.real[a:a + m], self.teacher[a:a + m], True
        style = torch.from_numpy(self.style[picks])
        return (torch.from_numpy(normalise(feats)), style, torch.from_numpy(real),
                torch.from_numpy(taught), torch.from_numpy(mask))


def voice_change(raw: np.ndarray, warp: float, tilt_db: float) -> np.ndarray:
    """Raw features (F, 320) as another voice would give them: the mel axis stretched by `warp`
    (vocal tract length perturbation: the trained voices are few, the users' are not) and a
    spectral tilt of `tilt_db` from the lowest band to the highest (microphones, rooms)."""
    if warp == 1.0 and tilt_db == 0.0:
        return raw
    mels = raw.reshape(len(raw), -1, N_MELS)
    bins = np.arange(N_MELS)
    source = np.clip(bins / warp, 0, N_MELS - 1)
    lo = np.floor(source).astype(int)
    hi, t = np.minimum(lo + 1, N_MELS - 1), source - np.floor(source)
    out = mels[..., lo] * (1 - t) + mels[..., hi] * t + tilt_db / 10 * (bins / (N_MELS - 1) - 0.5)
    return out.reshape(raw.shape).astype(np.float32)


# ------------------------------------------------------------------ stage 2: training
def stream_losses(net: StreamNet, batch: tuple[torch.Tensor, ...], tc: StreamTrainConfig,
                  lip_gap: LipGap) -> dict[str, torch.Tensor]:
    feats, style, real, taught, mask = batch
    L = net.cfg.lookahead
    y, _ = net(feats, style[:, None].expand(-1, feats.shape[1], -1), net.initial_state(len(feats)))
    y = y[:, L:]                                            # output step t + L is frame t
    norm = lambda x: (x - net.motion_mean) / net.motion_std  # noqa: E731
    m = mask[..., None].float()
    frames = m.sum().clamp(min=1) * y.shape[-1]
    mv = m[:, 1:] * m[:, :-1]
    gap_hat = lip_gap(net.denormalise(y)[..., :52].clamp(0, 1))
    out = {}
    for name, target, w in (("teacher", taught, tc.w_teacher), ("real", real, 1 - tc.w_teacher)):
        t = norm(target)
        mse = (((y - t) ** 2) * m).sum() / frames
        vel = (((y.diff(dim=1) - t.diff(dim=1)) ** 2) * mv).sum() / frames
        gap = lip_gap(target[..., :52].clamp(0, 1))
        weight = mask.float() * (1 + tc.lip_sealed_boost * (gap < SEALED_MM).float())
        lips = ((((gap_hat - gap) / 2.0) ** 2) * weight).sum() / mask.sum().clamp(min=1)
        out[f"mse_{name}"], out[f"lips_{name}"] = mse, lips
        out.setdefault("total", torch.zeros(()))
        out["total"] = out["total"] + w * (mse + tc.w_vel * vel + tc.w_lips * lips)
    return out


def train_stream(data: str | Path, out: str | Path, *, steps: int | None = None, clips: int | None = None,
                 teacher: str | Path | None = None, threads: int = 1, lookahead: int = 3, hidden: int = 192,
                 seed: int = 0, warp: float = 0.0, tilt_db: float = 0.0) -> Path:
    """The Python API of `talkstyle train-stream`: targets, then training; resumable (a resumed
    run may raise --steps and change the augmentation: the shipped model was trained in two such
    stages, docs/streaming.md)."""
    data, out = Path(data), Path(out)
    if not data.is_dir():
        raise TalkstyleError(f"dataset folder not found: {data}")
    if threads < 1:
        raise TalkstyleError(f"threads must be at least 1, got {threads}")
    tc = StreamTrainConfig(**{k: v for k, v in dict(steps=steps, clips=clips, seed=seed).items() if v is not None},
                           warp=warp, tilt_db=tilt_db)
    torch.set_num_threads(threads)
    pipe = TalkstylePipeline.from_pretrained(teacher, threads=threads)
    with torch_threads(threads):
        paths = build_targets(data, out, tc, pipe)
    targets = Targets.load(paths)
    cfg = StreamConfig(hidden=hidden, lookahead=lookahead, style_dim=pipe.generator.cfg.style_dim,
                       fps=pipe.fps, teacher="shipped" if teacher is None else str(Path(teacher).resolve()))
    return fit_stream(targets, out, cfg, tc, pipe.generator.motion_mean, pipe.generator.motion_std,
                      {"data": str(data)})


def fit_stream(targets: Targets, out: Path, cfg: StreamConfig, tc: StreamTrainConfig, mean: torch.Tensor,
               std: torch.Tensor, extra: dict) -> Path:
    torch.manual_seed(tc.seed)
    rng = np.random.default_rng([tc.seed, 19])
    net = StreamNet(cfg)
    net.motion_mean.copy_(mean)
    net.motion_std.copy_(std)
    ema = copy.deepcopy(net)
    opt = torch.optim.AdamW(net.parameters(), lr=tc.lr)
    n = len(targets.lengths)
    order = np.random.default_rng([tc.seed, 20]).permutation(n)
    val, train = order[:max(1, n // 20)], order[max(1, n // 20):]
    step = 0
    state_path = out / "train_state.safetensors"
    if state_path.is_file():
        step = resume(out, net, ema, opt, cfg, rng)
    lip_gap = LipGap()
    log = open(out / "log.jsonl", "a")
    bar = tqdm(range(step, tc.steps), initial=step, total=tc.steps, desc="training", unit="step")
    t0 = time.time()
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, tc)
        net.train()
        losses = stream_losses(net, targets.sample(train, tc.batch_size, tc.crop, cfg.lookahead, tc.gain_db, rng,
                                                   tc.warp, tc.tilt_db),
                               tc, lip_gap)
        if not torch.isfinite(losses["total"]):
            raise TalkstyleError(f"training diverged at step {step} (non-finite loss)")
        opt.zero_grad(set_to_none=True)
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        ema_update(ema, net, step, tc.ema_decay)
        done = step + 1
        row = {"step": done, "time": round(time.time() - t0, 1), **{k: round(v.item(), 5) for k, v in losses.items()}}
        bar.set_postfix(loss=f"{row['total']:.4f}")
        if done % tc.save_every == 0 or done == tc.steps:
            with torch.no_grad():
                vrng = np.random.default_rng(1234)
                vl = stream_losses(ema.eval(), targets.sample(val, 32, tc.crop, cfg.lookahead, 0.0, vrng), tc, lip_gap)
            row["val"] = {k: round(v.item(), 5) for k, v in vl.items()}
            bar.write(f"step {done}: val total {row['val']['total']:.4f} lips(real) {row['val']['lips_real']:.4f}")
            tensors = {f"model.{k}": v for k, v in net.state_dict().items()}
            for i, s in opt.state_dict()["state"].items():
                tensors.update({f"opt.{i}.{k}": torch.as_tensor(v) for k, v in s.items()})
            tensors["step"] = torch.tensor(done)
            tensors["np_rng"] = torch.tensor(list(json.dumps(rng.bit_generator.state).encode()), dtype=torch.uint8)
            save_tensors(state_path, tensors)
            save_stream(out, ema, {"train": dataclasses.asdict(tc), "step": done, **extra})
        log.write(json.dumps(row) + "\n")
        log.flush()
    log.close()
    return out


def resume(out: Path, net: StreamNet, ema: StreamNet, opt: torch.optim.Optimizer, cfg: StreamConfig,
           rng: np.random.Generator) -> int:
    from .model.checkpoint import load_weights

    if StreamConfig.from_dict(read_stream_config(out)["model"]) != cfg:
        raise TalkstyleError(f"{out} holds a run of another streaming config; use another --out")
    state = load_file(str(out / "train_state.safetensors"))
    load_weights(net, {k[6:]: v for k, v in state.items() if k.startswith("model.")}, str(out))
    ema.load_state_dict(load_stream(out).state_dict())
    restore_optimizer(opt, state)
    rng.bit_generator.state = json.loads(bytes(state["np_rng"].tolist()).decode())
    return int(state["step"])


def export_stream(run: str | Path, dest: str | Path) -> Path:
    """A run's EMA weights as fp16 with its config (e.g. into assets/stream_model)."""
    run = Path(run)
    config = read_stream_config(run)
    extra = {k: v for k, v in config.items() if k not in ("format", "version", "model")}
    return save_stream(Path(dest), load_stream(run), {**extra, "dtype": "float16"}, torch.float16)



# ------------------------------------------------------------------ lip contact on the stream's features
STREAM_FEATURES = "incremental-log-mel"     # the lip-contact config's name for audio.incremental's features
WHISPER_WINDOW = "whisper-window"           # and for audio.whisper_window's


def _contact_features(records, copies: int, hear, featurize, desc: str) -> ContactData:
    """`featurize(audio, num_frames)` (float16) of each of the `copies` versions of a clip that
    `hear(i, audio)` gives, all clips concatenated per version, and the clips' lip-contact targets."""
    from .face.motion import DEFAULT_FPS

    heard: list[list[np.ndarray]] = [[] for _ in range(copies)]
    lengths = []
    for i, r in enumerate(tqdm(records, desc=desc, unit="clip", leave=False)):
        n = round(r.motion.duration * DEFAULT_FPS)
        for version, audio in zip(heard, hear(i, r.motion.audio)):
            version.append(featurize(audio, n).astype(np.float16))
        lengths.append(n)
    return ContactData(np.stack([np.concatenate(c) for c in heard]), *contact_targets(records, np.array(lengths)))


def contact_data(records, seed: int, conditions: bool) -> ContactData:
    """Raw incremental log-mel of the records' audio (float16; with `conditions`, a second copy in
    other recording conditions) and their lip-contact targets."""
    from .audio.augment import recording_conditions

    rng = np.random.default_rng([seed, 22])
    hear = lambda i, wav: (wav, recording_conditions(wav, rng)) if conditions else (wav,)   # noqa: E731
    return _contact_features(records, 2 if conditions else 1, hear, log_mel_frames, "log-mel features")


def voice_augment(warp: float, tilt_db: float, gain_db: float):
    """fit_contact's `prepare` for raw log-mel crops: the streaming model's own voice, microphone
    and level augmentation on training crops, then its input normalisation."""
    def prepare(raw: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        x = raw.astype(np.float32)
        if rng is not None:
            x = np.stack([voice_change(c, rng.uniform(1 - warp, 1 + warp), rng.uniform(-tilt_db, tilt_db))
                          + rng.uniform(-gain_db, gain_db) / 10 for c in x])
        return normalise(x)
    return prepare


def whisper_window_data(records, seed: int, lookahead: int, both: bool, cache: Path | None = None) -> ContactData:
    """Whisper-window features of the records' audio (audio/whisper_window.py, one pass per two
    frames) and their lip-contact targets. both: every clip clean and in other recording
    conditions (two copies); else one copy, every other clip in other conditions (half the cost).
    With `cache` (a folder), a finished set is kept there: a rerun after a crash in training, or
    with other steps, does not compute it again (14 min for the 3 h set)."""
    from .audio.augment import recording_conditions
    from .audio.whisper_window import WINDOW, compute_type, window_features

    key = json.dumps([[r.clip_id for r in records], seed, lookahead, both, WINDOW, compute_type()])
    path = cache / f"whisper_window_{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz" if cache else None
    if path is not None and path.is_file():
        with np.load(path) as z:
            return ContactData(z["feats"], z["target"], z["known"])
    rng = np.random.default_rng([seed, 23])

    def hear(i: int, wav: np.ndarray) -> tuple[np.ndarray, ...]:
        other = recording_conditions(wav, rng)
        return (wav, other) if both else (wav if i % 2 == 0 else other,)

    data = _contact_features(records, 2 if both else 1, hear,
                             lambda audio, n: window_features(audio, n, lookahead, hop=2), "Whisper-window features")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            np.savez(tmp, feats=data.feats, target=data.target, known=data.known)
    return data


def train_stream_contact(data: str | Path, folder: str | Path, steps: int = 2000, seed: int = 0,
                         threads: int | None = None, warp: float = 0.12, tilt_db: float = 6.0,
                         features: str = "log-mel") -> Path:
    """Add a lip-contact component to the streaming model in `folder`, with the model's look-ahead
    (so it adds no latency), trained on the dataset's train clips (speed copies and a copy in other
    recording conditions) and their phone timings, with the voice augmentation the shipped streaming
    model had in its second stage; the closure ramp is set on the val clips, heard clean and in
    other recording conditions (the offline component's val pack is clean only: users' microphones
    are further from the TTS voices than its Whisper features are).
    features="whisper": the component on Whisper-window features instead (no voice augmentation:
    Whisper has heard more voices than any augmentation makes), saved in `folder`/whisper_contact;
    the stream prefers it, the ONNX graph keeps the log-mel one."""
    from .data.store import Dataset
    from .train import with_speed_copies

    data, folder = Path(data), Path(folder)
    if not data.is_dir():
        raise TalkstyleError(f"dataset folder not found: {data}")
    net = load_stream(folder)
    dataset = Dataset(data)
    val_records = dataset.records("val" if dataset.clip_ids("val") else "test")
    if features == "whisper":      # Whisper hears the voices; the look-ahead is in the window, not the net
        train = whisper_window_data(dataset.records("train"), seed, net.cfg.lookahead, both=False, cache=data / "cache")
        val = whisper_window_data(val_records, seed, net.cfg.lookahead, both=True, cache=data / "cache")
        config = ContactConfig(audio_encoder=WHISPER_WINDOW, audio_dim=WINDOW_DIM, lookahead=0, pad_value=0.0)
        fit_contact(train, val, config, steps, seed, threads).save(folder / WHISPER_CONTACT)
        return folder / WHISPER_CONTACT
    train = contact_data(with_speed_copies(dataset.records("train"), seed), seed, conditions=True)
    val = contact_data(val_records, seed, conditions=True)
    config = ContactConfig(audio_encoder=STREAM_FEATURES, lookahead=net.cfg.lookahead,
                           pad_value=float(normalise(np.float32(SILENCE))))
    model = fit_contact(train, val, config, steps, seed, threads,
                        prepare=voice_augment(warp, tilt_db, StreamTrainConfig.gain_db))
    model.save(folder)
    return folder
