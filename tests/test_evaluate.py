"""`talkstyle evaluate` end to end on tiny real data, the variants' switches, and bad input.

Everything is real and small: two datasets built by the data engine with different seeds (the
second trains the style evaluator), two variants of the tiny config trained for a few steps
with the mel encoder, the whole protocol, and the report files.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch

from talkstyle.cli import main
from talkstyle.eval.baselines import VARIANTS, variant_configs
from talkstyle.eval.statistics import paired_test, seed_comparisons, seed_groups, seed_spreads
from talkstyle.model.generator import Batch, StyleGenerator

pytestmark = pytest.mark.slow           # trains models or builds datasets


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("evaluate")


@functools.cache
def built(root: Path, seed: int) -> Path:
    from talkstyle.data.engine import build

    out = root / f"data{seed}"
    build(out, hours=0.02, seed=seed, persons_per_group=3, progress=False)
    return out


def cli(*args: str | Path) -> tuple[int, str]:
    """Run the real `talkstyle` entry point in-process; (exit code, stderr)."""
    import contextlib
    import io

    err = io.StringIO()
    with mock.patch.object(sys, "argv", ["talkstyle", *map(str, args)]), contextlib.redirect_stderr(err):
        with pytest.raises(SystemExit) as e:
            main()
    return e.value.code or 0, err.getvalue()


@pytest.fixture(scope="module")
def report(work) -> Path:
    from talkstyle.eval.baselines import train_variant

    data, eval_data = built(work, 5), built(work, 8)
    runs = {v: train_variant(v, data, work / v, steps=4, size="tiny", audio_encoder="mel", augmented=0,
                             threads=1, pretrain_steps=3) for v in ("talkstyle", "diffposetalk")}
    code, err = cli(*evaluate_args(work, data, eval_data, runs))
    assert code == 0, err
    return work / "report"


def evaluate_args(work: Path, data: Path, eval_data: Path, runs: dict[str, Path]) -> list:
    return ["evaluate", "--data", data, "--eval-data", eval_data, "-o", work / "report",
            "-c", f"talkstyle={runs['talkstyle']},diffposetalk={runs['diffposetalk']}",
            "--steps", "2", "--evaluator-steps", "10", "--edit-clips", "2"]


def test_report_files_and_tables(report):
    for name in ("report.md", "report.json", "metrics.png", "alpha.png", "frames.png"):
        assert (report / name).stat().st_size > 100, name
    md = (report / "report.md").read_text()
    for heading in ("Table 1: baselines", "Text vs reference vs both", "Paired significance", "## Style",
                    "Reference following", "One-word edits", "Where talkstyle stands"):
        assert heading in md, heading
    assert "| MSE (mm²) ↓ | LVE (mm²) ↓ | \\|FDD\\| (mm²) ↓ | MOD (mm) ↓ |" in md
    assert "| diffposetalk | diffposetalk |" in md and "(+3 encoder pre-training)" in md


def test_report_json_numbers_and_p_values(report):
    r = json.loads((report / "report.json").read_text())
    n = len(r["clips"])
    assert n >= 2 and len({c["person"] for c in r["clips"]}) >= 2
    for model in ("talkstyle", "diffposetalk"):
        for mode in ("text", "reference", "both"):
            values = r["per_clip"][model][mode]
            assert all(len(v) == n and np.all(np.isfinite(v)) for v in values.values())
            assert min(values["mse"]) > 0                       # generated motion is not the ground truth
    tests = r["significance"]
    assert len(tests) == 3 * 8                                  # modes x metrics, one other model
    assert all(0 < t["p_value"] <= 1 and t["n"] == n for t in tests)
    assert r["models"]["diffposetalk"]["model"]["basis"] == 0
    assert len(r["alpha"]["talkstyle"][0]) == r["models"]["talkstyle"]["model"]["basis"]
    style = r["style"]
    assert style["rows"][0]["model"] == "ground truth" and len(style["rows"]) == 1 + 2 * 3
    assert all(0 <= f["auc"] <= 1 for f in style["following"])


def test_rerun_reuses_cached_generations(report, work):
    cached = sorted((report / "cache").glob("*.npz"))
    assert [p.name.split("-")[0] for p in cached] == ["diffposetalk", "talkstyle"]
    before = json.loads((report / "report.json").read_text())["per_clip"]
    stamps = [p.stat().st_mtime_ns for p in cached]
    runs = {v: work / v for v in ("talkstyle", "diffposetalk")}
    code, err = cli(*evaluate_args(work, built(work, 5), built(work, 8), runs))
    assert code == 0, err
    assert [p.stat().st_mtime_ns for p in cached] == stamps
    assert json.loads((report / "report.json").read_text())["per_clip"] == before


def test_paired_test_finds_a_real_difference_and_none_in_equal_samples():
    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 0.1, 30)
    assert paired_test(a, a + 0.05 + rng.normal(0, 0.01, 30)) < 1e-4
    assert paired_test(a, a.copy()) == 1.0
    assert paired_test(a, a + rng.normal(0, 0.1, 30)) > 0.01


def _run(name: str, lve: np.ndarray):
    from talkstyle.eval.metrics import MotionMetrics
    from talkstyle.eval.protocol import Checkpoint, ModelRun

    metrics = [MotionMetrics(mve=1.0, mse=1.0, lve=float(v), lve_l2=1.0, fdd=0.0, mod=1.0, weights_mae=0.1,
                             head_mae_deg=1.0) for v in lve]
    return ModelRun(Checkpoint(name, Path(name), None, {}), {}, {"reference": metrics})


def test_designs_over_seeds(tmp_path):
    rng = np.random.default_rng(0)
    clips = rng.uniform(20, 30, 40)                     # clip difficulty, shared by every run
    runs = [_run("talkstyle", clips), _run("vae", clips + 2), _run("diffposetalk", clips + 1),
            _run("talkstyle-s1", clips + 0.5), _run("vae-s1", clips + 1.5), _run("vae-s2", clips + 2.5),
            _run("orphan-s1", clips)]                   # no "orphan" run: a design of its own name
    groups = seed_groups(runs)
    assert list(groups) == ["talkstyle", "vae"]         # single-seed designs are left out
    assert [r.checkpoint.name for r in groups["vae"]] == ["vae", "vae-s1", "vae-s2"]
    spread = {x.design: x for x in seed_spreads(groups, "reference", ("lve",))}
    assert spread["vae"].seeds == 3 and spread["vae"].mean == pytest.approx(clips.mean() + 2)
    assert spread["vae"].std == pytest.approx(0.5) and spread["vae"].high - spread["vae"].low == pytest.approx(1)
    (c,) = seed_comparisons(groups, "reference", ("lve",))
    assert (c.design, c.other) == ("talkstyle", "vae")
    assert c.mean_diff == pytest.approx(0.25 - 2) and c.relative == pytest.approx(-1.75 / (clips.mean() + 2))
    assert c.wins == 6 and c.pairs == 6 and c.p_value < 1e-6
    from types import SimpleNamespace

    from talkstyle.eval.report import seeds_section

    for r in runs:                                      # the report's tables read every paper metric, both modes
        r.metrics["reference"] = [dataclasses.replace(m, mse=m.lve / 10) for m in r.metrics["reference"]]
        r.metrics["text"] = [dataclasses.replace(m, lve=m.lve + 5) for m in r.metrics["reference"]]
    md = "\n".join(seeds_section(SimpleNamespace(runs=runs, style=None)))
    assert md.count("| vae | 3 |") == 2 and md.count("| talkstyle | 2 |") == 2 and "diffposetalk" not in md
    assert "**Conditioned on the reference**" in md and "**Conditioned on the prompt**" in md
    assert "| vae | -0.175 (-6.4%, p=" in md and "6/6)" in md and "![seeds](seeds.png)" in md
    import matplotlib

    from talkstyle.eval.report import plot_seeds

    matplotlib.use("Agg")
    plot_seeds(SimpleNamespace(runs=runs, style=None), tmp_path / "seeds.png")
    assert (tmp_path / "seeds.png").stat().st_size > 5000


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_trains_and_generates(name):
    torch.manual_seed(0)
    mc, tc = variant_configs(name, size="tiny")
    if name == "base":                      # the base size itself is too slow here: check its switches only
        assert mc.d_model > variant_configs("talkstyle")[0].d_model
        return
    model = StyleGenerator(dataclasses.replace(mc, audio_dim=8))
    b, n = 3, 2 * model.cfg.window
    batch = Batch(torch.randn(b, n, 55), torch.randn(b, n, 8), torch.ones(b, n, dtype=torch.bool),
                  torch.randn(b, 384), torch.zeros(b, 4))
    model.losses(batch, tc)["total"].backward()
    encoder_grads = [p.grad is not None for p in model.motion_style.parameters()]
    assert not any(encoder_grads) if tc.freeze_style_encoder else any(encoder_grads)
    model.eval()
    torch.nn.init.normal_(model.denoiser.out.weight, std=0.05)    # an untrained output layer may be all zeros
    style = model.style_vector(torch.randn(384))
    if not mc.style_conditioned:
        assert torch.equal(style, model.null_style)
    feats = np.random.default_rng(0).normal(size=(30, 8)).astype(np.float32)
    x0, x1 = (model.generate(feats, style, steps=2, seed=s) for s in (0, 1))
    assert x0.shape == (30, 55) and np.isfinite(x0).all()
    assert np.allclose(x0, x1) == mc.regression              # only the regression model ignores the seed


def test_bad_inputs_exit_2_without_a_report(tmp_path, work, report):
    data = built(work, 5)
    out = tmp_path / "rep"
    cases = [
        (["--data", tmp_path / "missing", "-c", f"a={work / 'talkstyle'}"], "dataset folder not found"),
        (["--data", data, "-c", f"a={tmp_path / 'nope'}"], "checkpoint 'a' not found"),
        (["--data", data, "-c", "just-a-path"], "NAME=DIR"),
        (["--data", data, "-c", f"a={tmp_path}"], "not a talkstyle checkpoint"),
        (["--data", data, "-c", f"a={work / 'talkstyle'}", "--eval-data", data], "another dataset"),
    ]
    for args, message in cases:
        code, err = cli("evaluate", *args, "-o", out)
        assert code == 2 and message in err and "Traceback" not in err, (args, err)
        assert not out.exists()
    code, err = cli("train-variant", "nonsense", "--data", data, "-o", out, "--steps", "1")
    assert code == 2 and "unknown variant" in err and not out.exists()


def test_generation_code_is_part_of_the_cache_key(tmp_path):
    """A cached generation made before a change to the post-processing (blink shaping, the lip
    seal) must not be reused after it; a change elsewhere (the data engine) keeps the cache."""
    from talkstyle.eval.cache import GENERATION_CODE, code_digest

    for name in (*GENERATION_CODE, "data"):
        path = tmp_path / (name if name.endswith(".py") else f"{name}/x.py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n")
    before = code_digest(tmp_path)
    (tmp_path / "data" / "x.py").write_text("# the data engine changed\n")
    assert code_digest(tmp_path) == before
    (tmp_path / "face" / "x.py").write_text("# blinks are shaped now\n")
    changed = code_digest(tmp_path)
    assert changed != before and code_digest(tmp_path) == changed
