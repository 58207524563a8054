"""Training under torchrun: 2 CPU processes (gloo) train exactly like one at the same global
batch, and a distributed run resumed after an interruption equals an uninterrupted one."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from talkstyle.errors import TalkstyleError
from talkstyle.model.config import ModelConfig, TrainConfig, get_config
from talkstyle.model.shard import Shard
from talkstyle.train import fit, load_packs

pytestmark = pytest.mark.slow           # starts two torchrun jobs of two processes each

HERE = Path(__file__).parent



def configs() -> tuple[ModelConfig, TrainConfig]:
    """The tiny config with 200-frame window pairs, longer than most clips: the processes' shares
    hold different numbers of real frames, which the batch means must count over the whole batch."""
    mc, tc = get_config("tiny")
    return (dataclasses.replace(mc, audio_encoder="mel", audio_dim=160, window=100, context=10),
            dataclasses.replace(tc, steps=6, threads=1))


# One distributed session for several runs: argv = DATA, then OUT:UNTIL ...
SCRIPT = """
import sys
from pathlib import Path
from talkstyle.distributed import session
from talkstyle.train import fit, load_packs
from test_distributed import configs
mc, tc = configs()
with session() as shard:
    train_pack, val_pack = load_packs(Path(sys.argv[1]), mc, 1, 0)
    for run in sys.argv[2:]:
        out, until = run.split(":")
        fit(train_pack, val_pack, Path(out), mc, tc, until=int(until), shard=shard)
"""
# Losses are logged rounded to 5 decimals; the weights differ by float rounding in the sums only
# (measured: losses within 1e-6 relative, weights within 2e-5 after 6 steps; batch means taken
# per process instead of over the whole batch: 5 % and 2e-3).
LOSS_TOL = dict(rel=1e-5, abs=2e-5)
WEIGHT_ATOL = 1e-4


def torchrun(tmp_path: Path, *args: str | Path) -> None:
    script = tmp_path / "runs.py"
    script.write_text(SCRIPT)
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             str(script), *map(str, args)], capture_output=True, text=True, timeout=600,
                            env={**os.environ, "OMP_NUM_THREADS": "1",
                                 "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])})
    assert result.returncode == 0, result.stderr[-3000:]


def log(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def tensors(run: Path) -> dict[str, np.ndarray]:
    """The EMA weights and the whole training state (weights, AdamW moments, RNG states)."""
    return {**{f"ema.{k}": v for k, v in load_file(str(run / "model.safetensors")).items()},
            **load_file(str(run / "train_state.safetensors"))}


def test_two_processes_train_like_one_and_resume_exactly(tiny_dataset, tmp_path):
    mc, tc = configs()
    packs = load_packs(tiny_dataset, mc, 1, 0)
    with pytest.raises(TalkstyleError, match="does not split evenly over 3 processes"):
        fit(*packs, tmp_path / "three", mc, tc, shard=Shard(world=3))
    one = fit(*packs, tmp_path / "one", mc, tc)
    two, cut = tmp_path / "two", tmp_path / "cut"
    torchrun(tmp_path, tiny_dataset, f"{two}:6", f"{cut}:3")       # the pack cache is written by now
    torchrun(tmp_path, tiny_dataset, f"{cut}:6")                   # resumes at step 3

    assert json.loads((two / "config.json").read_text())["processes"] == 2
    assert "processes" not in json.loads((one / "config.json").read_text())
    for a, b in zip(log(one), log(two), strict=True):
        assert a["step"] == b["step"]
        for key in ("total", "simple", "vel", "lips", "kl", "vq", "contrast"):
            assert b[key] == pytest.approx(a[key], **LOSS_TOL), (a["step"], key)
        if "val" in a:
            assert b["val"] == pytest.approx(a["val"], **LOSS_TOL)
    w1, w2 = tensors(one), tensors(two)
    assert w1.keys() == w2.keys()
    for k in w1:
        assert np.allclose(w1[k], w2[k], rtol=0, atol=WEIGHT_ATOL), k

    resumed = tensors(cut)
    assert [r["step"] for r in log(cut)] == list(range(1, 7))
    assert all(np.array_equal(resumed[k], w2[k]) for k in w2)
    assert [{k: v for k, v in r.items() if k != "time"} for r in log(cut)] == \
           [{k: v for k, v in r.items() if k != "time"} for r in log(two)]
