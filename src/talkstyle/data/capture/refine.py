"""A learned correction of the MAP fit: weights from the fit's answer and what the landmarks show.

The MAP fit (fit.py) is linear in targets measured one at a time, with Gaussian priors: it cannot
know that MediaPipe answers some combinations non-linearly (a smile while the jaw opens), and it
splits what a clip holds throughout between expression and identity only as well as its priors
describe faces. The refiner is a small MLP trained on procedural takes rendered on varied faces
(examples.py: perturbed rig shapes, painted and shaded textures, lights, head poses; nothing of
the benchmark's texture, persons or lines), tracked and fitted exactly as a capture is, to predict
the true weights. Per frame it sees

- the MAP weights and their deviation from the clip's mean,
- the landmark residual (frontalised landmarks minus the pose-dependent neutral) in a PCA basis,
  as the frame's deviation from the clip's average frame,
- the head angles (MediaPipe's errors grow with yaw),
- how the MAP weights change over the neighbouring frames (a blink or a jaw opening is a shape in
  time that one frame's landmarks show only in part).

Clip-level inputs (the clip-average weights, the average frame) were tried and dropped: they let
the network recognise the training faces and lowered its training error, but raised the error on
faces it had not seen (docs/capture_accuracy.md). The refiner

outputs a correction added to the MAP weights (clipped to [0, 1]); unobservable targets stay 0.
Inference is numpy (a few matrix products a frame). Trained by

    .venv/bin/python -m talkstyle.data.capture.refine runs/refine_examples

which writes assets/refiner.npz (float32 arrays, loaded without pickle).
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
from pathlib import Path

import numpy as np

from .fit import OBSERVABLE, Fit
from ... import assets

ASSET = assets.path("refiner.npz", "talkstyle.data.capture")
NUM_COMPONENTS = 32        # PCA components of the frame deviation
CONTEXT_S = (-0.12, -0.04, 0.04, 0.12)   # neighbours (seconds) whose MAP weights the refiner sees
HIDDEN = 256



@dataclasses.dataclass(frozen=True)
class Refiner:
    basis_dev: np.ndarray      # (P, N*3) PCA basis of rest_t - mean_t(rest)
    feat_mean: np.ndarray      # (F,) feature normalisation
    feat_std: np.ndarray       # (F,)
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]   # (W (in, out), b (out,)) per layer, GELU between

    def features(self, fit: Fit, angles: np.ndarray, fps: float) -> np.ndarray:
        """(T, F) normalised features of each frame."""
        return (self.raw_features(fit, angles, fps) - self.feat_mean) / self.feat_std

    def raw_features(self, fit: Fit, angles: np.ndarray, fps: float) -> np.ndarray:
        obs = OBSERVABLE
        w = fit.weights[:, obs]
        rest = fit.rest.reshape(len(w), -1)
        frames = np.arange(len(w))
        # In seconds, so that a 60 fps video shows the refiner the same stretch of motion as 25 fps.
        context = [w[np.clip(frames + round(s * fps), 0, len(w) - 1)] - w for s in CONTEXT_S]
        return np.concatenate([w, w - w.mean(0), (rest - rest.mean(0)) @ self.basis_dev.T, angles, *context], 1)

    def __call__(self, fit: Fit, angles: np.ndarray, fps: float) -> np.ndarray:
        """(T, 52) refined weights of frames at `fps`."""
        x = self.features(fit, angles, fps)
        for i, (W, b) in enumerate(self.layers):
            x = x @ W + b
            if i < len(self.layers) - 1:
                x = _gelu(x)
        obs = OBSERVABLE
        out = np.zeros_like(fit.weights)
        out[:, obs] = np.clip(fit.weights[:, obs] + x, 0.0, 1.0)
        return out

    def save(self, path: Path) -> None:
        arrays = {"basis_dev": self.basis_dev, "feat_mean": self.feat_mean, "feat_std": self.feat_std}
        for i, (W, b) in enumerate(self.layers):
            arrays[f"W{i}"], arrays[f"b{i}"] = W, b
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **{k: np.asarray(v, np.float32) for k, v in arrays.items()})
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Refiner":
        with np.load(path, allow_pickle=False) as z:
            f = {k: z[k].astype(np.float64) for k in z.files}
        n = sum(1 for k in f if k.startswith("W"))
        return cls(f["basis_dev"], f["feat_mean"], f["feat_std"],
                   tuple((f[f"W{i}"], f[f"b{i}"]) for i in range(n)))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


@functools.lru_cache(maxsize=1)
def default_refiner() -> Refiner:
    return Refiner.load(ASSET)


# ---------------------------------------------------------------------------------------- training

def _pca(x: np.ndarray, k: int) -> np.ndarray:
    """(k, D) leading principal directions of rows x (already centred)."""
    return np.linalg.svd(x, full_matrices=False)[2][:k]


def fit_examples(folder: Path) -> list[tuple[Fit, np.ndarray, float, np.ndarray]]:
    """(MAP fit, head angles, fps, true weights of the observable targets) of each example in
    folder, frames with a face only: what the refiner sees and should answer."""
    from tqdm import tqdm

    from .examples import Example, example_paths
    from .track_fit import fit_track

    out = []
    for path in tqdm(example_paths(folder), desc="fitting examples"):
        ex = Example.load(path)                  # one at a time: 2000 examples' landmarks are ~1 GB
        tf = fit_track(ex.track)
        out.append((tf.fit, tf.angles, ex.track.fps, ex.truth.weights[ex.track.found][:, OBSERVABLE].astype(np.float64)))
    return out


def train(examples: list[tuple[Fit, np.ndarray, float, np.ndarray]], out: Path = ASSET, epochs: int = 20,
          val_share: float = 0.1, seed: int = 0, threads: int = 2) -> dict[str, float]:
    """Fit the refiner on fitted examples (fit_examples); returns training and validation MAEs."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    obs = OBSERVABLE
    fits = [(f, a, fps) for f, a, fps, _ in examples]
    targets = [t for *_, t in examples]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(fits))
    n_val = max(1, int(val_share * len(fits)))
    val, trn = order[:n_val], order[n_val:]

    # PCA bases and feature statistics from the training examples only.
    dev = np.concatenate([(f.rest.reshape(len(f.rest), -1) - f.rest.reshape(len(f.rest), -1).mean(0))
                          for f, *_ in (fits[i] for i in trn)])
    stub = Refiner(_pca(dev[::4], NUM_COMPONENTS), np.zeros(1), np.ones(1), ())
    raw = [stub.raw_features(f, a, fps) for f, a, fps in fits]
    allx = np.concatenate([raw[i] for i in trn])
    feat_mean, feat_std = allx.mean(0), allx.std(0) + 1e-6
    X = [torch.tensor((r - feat_mean) / feat_std, dtype=torch.float32) for r in raw]
    B = [torch.tensor(f.weights[:, obs], dtype=torch.float32) for f, *_ in fits]
    Y = [torch.tensor(t, dtype=torch.float32) for t in targets]
    cat = lambda idx, L: torch.cat([L[i] for i in idx])          # noqa: E731
    Xt, Bt, Yt = cat(trn, X), cat(trn, B), cat(trn, Y)
    Xv, Bv, Yv = cat(val, X), cat(val, B), cat(val, Y)

    net = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(Xt.shape[1], HIDDEN), torch.nn.GELU(),
                              torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.GELU(), torch.nn.Linear(HIDDEN, len(obs)))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    steps_per_epoch = max(1, len(Xt) // 512)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-3, total_steps=epochs * steps_per_epoch)
    mae = lambda x, b, y: (torch.clamp(b + net(x), 0, 1) - y).abs().mean().item()   # noqa: E731
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(Xt))
        for s in range(steps_per_epoch):
            idx = perm[s * 512:(s + 1) * 512]
            loss = (torch.clamp(Bt[idx] + net(Xt[idx]), 0, 1) - Yt[idx]).abs().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            if epoch % 5 == 4 or epoch == epochs - 1:
                print(f"epoch {epoch + 1}: train MAE {mae(Xt, Bt, Yt):.4f}, val MAE {mae(Xv, Bv, Yv):.4f} "
                      f"(MAP alone {(torch.clamp(Bv, 0, 1) - Yv).abs().mean().item():.4f})", flush=True)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    layers = tuple((m.weight.detach().numpy().T.astype(np.float64), m.bias.detach().numpy().astype(np.float64))
                   for m in linears)
    refiner = dataclasses.replace(stub, feat_mean=feat_mean, feat_std=feat_std, layers=layers)
    out.parent.mkdir(parents=True, exist_ok=True)
    refiner.save(out)
    with torch.no_grad():
        result = {"train_mae": mae(Xt, Bt, Yt), "train_mae_map": (torch.clamp(Bt, 0, 1) - Yt).abs().mean().item(),
                  "val_mae": mae(Xv, Bv, Yv), "val_mae_map": (torch.clamp(Bv, 0, 1) - Yv).abs().mean().item()}
    print(f"wrote {out}: {len(trn)} training and {len(val)} validation examples; {result}")
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Train the capture refiner on examples (examples.py).")
    ap.add_argument("examples", type=Path)
    ap.add_argument("-o", "--out", type=Path, default=ASSET)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    train(fit_examples(args.examples), args.out, args.epochs, threads=args.threads)
