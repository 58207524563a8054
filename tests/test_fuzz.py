"""Property-based tests (hypothesis) of every loader and numeric option (issue 16).

Whatever the input, each loader gives a valid object or raises TalkstyleError, and each command
exits 2 with one `error:` line: never another exception (a traceback), never a hang, never an
output folder that mixes two runs. Commands run in-process through `talkstyle.cli.main`; the
examples are bounded (max_examples) so that the file takes a minute or two in `make test`.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from talkstyle.errors import TalkstyleError
from talkstyle.face.motion import FaceMotion

SPEECH = Path(__file__).resolve().parents[1] / "src" / "talkstyle" / "assets" / "demo_speech.wav"
# TALKSTYLE_FUZZ_EXAMPLES=500 for a deeper search than `make test` has time for.
EXAMPLES = int(os.environ.get("TALKSTYLE_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
FEW = settings(FUZZ, max_examples=max(5, EXAMPLES // 3))


def cli(*args) -> tuple[int, str, str]:
    """`talkstyle ARGS` in this process: (exit code, stdout, stderr)."""
    from talkstyle.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.argv
    sys.argv = ["talkstyle", *map(str, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = old
    return code, out.getvalue(), err.getvalue()


def assert_user_error(code: int, err: str) -> None:
    lines = [seg for line in err.split("\n") if (seg := line.split("\r")[-1].strip())]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err


# ------------------------------------------------------------------ npz fields of any dtype and shape
DTYPES = st.one_of(hnp.integer_dtypes(), hnp.unsigned_integer_dtypes(), hnp.floating_dtypes(),
                   hnp.boolean_dtypes(), hnp.complex_number_dtypes(), hnp.unicode_string_dtypes(max_len=4),
                   hnp.byte_string_dtypes(max_len=4))
ANY_ARRAY = DTYPES.flatmap(lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, max_side=60)))
FIELDS = ("format_version", "blendshape_names", "weights", "head", "fps", "metadata", "audio", "sample_rate",
          "confidence")


def good_fields(frames: int = 30) -> dict[str, np.ndarray]:
    from talkstyle.face.arkit import ARKIT_NAMES

    return {"format_version": np.array(1), "blendshape_names": np.array(ARKIT_NAMES),
            "weights": np.full((frames, 52), 0.2, np.float32), "head": np.zeros((frames, 3), np.float32),
            "fps": np.array(25.0), "metadata": np.array(json.dumps({"a": 1})),
            "audio": np.zeros(frames * 640, np.float32), "sample_rate": np.array(16000),
            "confidence": np.ones(frames, np.float32)}


@FUZZ
@given(replaced=st.dictionaries(st.sampled_from(FIELDS), ANY_ARRAY, min_size=1, max_size=3),
       dropped=st.sets(st.sampled_from(FIELDS), max_size=2))
def test_motion_loader_any_field(tmp_path, replaced, dropped):
    fields = {**good_fields(), **replaced}
    for key in dropped:
        fields.pop(key, None)
    path = tmp_path / "m.npz"
    np.savez(path, **fields)
    try:
        m = FaceMotion.load(path)
    except TalkstyleError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert m.weights.shape[1] == 52 and np.isfinite(m.weights).all() and 0 < m.fps <= 1000
    assert m.weights.min() >= 0 and m.weights.max() <= 1


@FEW
@given(replaced=st.dictionaries(st.sampled_from(FIELDS), ANY_ARRAY, min_size=1, max_size=2))
def test_export_any_field_exits_2_or_writes(tmp_path, replaced):
    path = tmp_path / "m.npz"
    np.savez(path, **{**good_fields(), **replaced})
    target = tmp_path / "out.csv"
    target.unlink(missing_ok=True)
    code, out, err = cli("export", path, "-o", target)
    if code == 0:
        assert target.read_text().startswith("Timecode,")
    else:
        assert_user_error(code, err)
        assert not target.exists()


@FUZZ
@given(data=st.binary(max_size=400))
def test_motion_loader_random_bytes(tmp_path, data):
    path = tmp_path / "x.npz"
    path.write_bytes(data)
    with pytest.raises(TalkstyleError):
        FaceMotion.load(path)


# ------------------------------------------------------------------ configs with any keys and values
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)


def model_keys():
    from talkstyle.model.config import ModelConfig
    import dataclasses

    return [f.name for f in dataclasses.fields(ModelConfig)]


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(model_keys()) | st.text(max_size=6),
                               JSON | st.integers(-10, 10**9) | st.floats(allow_nan=True), max_size=4))
def test_model_config_any_values(changes):
    from talkstyle.model.config import CONFIGS, ModelConfig

    d = {**CONFIGS["tiny"][0].to_dict(), **changes}
    try:
        cfg = ModelConfig.from_dict(d)
    except TalkstyleError:
        return
    assert cfg.approx_parameters() <= 500_000_000 and cfg.d_model % cfg.heads == 0


@FUZZ
@given(config=JSON | st.fixed_dictionaries({"format": st.just("talkstyle-generator")}, optional={
    "version": JSON, "model": JSON | st.fixed_dictionaries({}, optional={k: JSON for k in ("d_model", "heads", "layers")})}))
def test_checkpoint_config_any_json(tmp_path, config):
    from talkstyle.model.checkpoint import read_config

    (tmp_path / "config.json").write_text(json.dumps(config))
    try:
        read_config(tmp_path)
    except TalkstyleError as e:
        assert "\n" not in str(e)


# ------------------------------------------------------------------ audio with NaN, inf, DC, clipping
@FUZZ
@given(rate=st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000, 96000]),
       channels=st.integers(1, 6), seconds=st.floats(0.001, 1.5),
       kind=st.sampled_from(["speechy", "dc", "clipped", "nan", "inf", "silent", "huge"]),
       share=st.floats(0.0, 1.0), subtype=st.sampled_from(["FLOAT", "DOUBLE", "PCM_16"]))
def test_audio_loader_any_content(tmp_path, rate, channels, seconds, kind, share, subtype):
    from talkstyle.audio.io import load_audio

    n = max(1, int(rate * seconds))
    rng = np.random.default_rng(n)
    x = 0.3 * np.sin(np.arange(n) / 7.0)[:, None] * rng.uniform(0.5, 1, channels)
    if kind == "dc":
        x = x + 0.8
    elif kind in ("clipped", "huge"):
        x = x * (50 if kind == "clipped" else 1e30)
    elif kind == "silent":
        x = x * 0
    elif kind in ("nan", "inf"):
        bad = rng.random(n) < share
        bad[n // 2] = True
        x[bad] = np.nan if kind == "nan" else np.inf
    path = tmp_path / "a.wav"
    sf.write(path, x, rate, subtype=subtype)
    try:
        wav = load_audio(path)
    except TalkstyleError as e:
        assert kind in ("nan", "inf", "huge") or seconds < 0.01, e       # a few samples resample to none
        return
    assert wav.dtype == np.float32 and wav.ndim == 1 and np.isfinite(wav).all() and np.abs(wav).max() <= 1
    assert kind not in ("nan", "inf") or subtype == "PCM_16"       # PCM cannot hold NaN


@FEW
@given(samples=hnp.arrays(np.float32, st.integers(1, 4000),
                          elements=st.floats(width=32, allow_nan=True, allow_infinity=True)))
def test_animate_array_audio_is_checked_before_the_model(samples):
    from talkstyle.animate import Settings, animate

    assume(not np.isfinite(samples).all())
    with pytest.raises(TalkstyleError, match="NaN or infinite"):
        animate(samples, settings=Settings(steps=1), progress=False)


# ------------------------------------------------------------------ numeric options at their limits
HOSTILE = st.sampled_from(["nan", "inf", "-inf", "-1", "0", "-0.0", "1e9", "1e308", str(2**70), str(-2**70),
                           "1e-320", "3.5"]) | st.floats(allow_nan=True).map(repr) | st.integers(-2**80, 2**80).map(str)


def valid(option: str, raw: str) -> bool:
    """Whether talkstyle should accept RAW for OPTION (mirrors the documented ranges)."""
    try:
        v = float(raw)
    except ValueError:
        return False
    integral = option not in ("--hours", "--augment-frac", "--cfg-audio", "--cfg-style")
    if integral and not (math.isfinite(v) and v.is_integer()):     # typer takes "3.0" for an int
        return False
    ranges = {"--hours": (0, 1000), "--augment-frac": (0, 1), "--cfg-audio": (-100, 100), "--cfg-style": (-100, 100),
              "--steps": (1, 1000), "--seed": (0, 2**32 - 1), "--workers": (1, 256), "--persons-per-group": (3, 1000),
              "--batch-size": (1, 4096), "--threads": (1, 1024), "--augmented": (0, 64), "--size": (16, 4096),
              "--n": (1, 1_000_000)}
    lo, hi = ranges[option]
    return math.isfinite(v) and lo <= v <= hi and not (option == "--hours" and v <= 0)


COMMANDS = {
    "animate": (["animate", "--audio", str(SPEECH), "-o", "OUT"], ["--cfg-audio", "--cfg-style", "--steps", "--seed"]),
    "build": (["data", "build", "--hours", "0.001", "--out", "OUT"],
              ["--hours", "--augment-frac", "--workers", "--persons-per-group", "--seed"]),
    "train": (["train", "--data", "DATA", "-o", "OUT"], ["--steps", "--batch-size", "--threads", "--augmented", "--seed"]),
    "prompts": (["data", "prompts", "--n", "2", "-o", "OUT/p.jsonl"], ["--n", "--seed"]),
    "render": (["render", "MOTION", "-o", "OUT/x.mp4"], ["--size"]),
}


@settings(FUZZ, max_examples=EXAMPLES * 3 // 2)
@given(command=st.sampled_from(sorted(COMMANDS)), data=st.data(), raw=HOSTILE)
def test_numeric_options_at_their_limits(tmp_path, command, data, raw):
    base, options = COMMANDS[command]
    option = data.draw(st.sampled_from(options))
    assume(not valid(option, raw))          # valid values would start the real job
    (tmp_path / "DATA" / "rows").mkdir(parents=True, exist_ok=True)
    motion = tmp_path / "m.npz"
    if not motion.exists():
        FaceMotion.neutral(5).save(motion)
    args = [a.replace("OUT", str(tmp_path / "out")).replace("DATA", str(tmp_path / "DATA"))
            .replace("MOTION", str(motion)) for a in base]
    code, _, err = cli(*args, f"{option}={raw}")
    if code == 2 and "Usage:" in err:          # the option parser refused it (not a number): also one error
        assert "Traceback" not in err
        return
    assert_user_error(code, err)
    assert not (tmp_path / "out").exists()


@FUZZ
@given(value=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-2**70, 2**70),
       lo=st.floats(-1e6, 1e6), width=st.floats(0, 1e6))
def test_number_check_accepts_exactly_the_range(value, lo, width):
    from talkstyle.validate import number

    hi = lo + width
    ok = math.isfinite(float(value)) and lo <= float(value) <= hi
    if ok:
        assert number("--x", value, lo, hi) == float(value)
    else:
        with pytest.raises(TalkstyleError, match="--x must be"):
            number("--x", value, lo, hi)


# ------------------------------------------------------------------ output folders never mix runs
@FUZZ
@given(fail_at=st.integers(0, 4), existing=st.booleans(), blocker=st.sampled_from(["", "folder", "file"]))
def test_output_set_is_old_or_new_never_mixed(tmp_path, fail_at, existing, blocker):
    import shutil

    from talkstyle.atomic import atomic_files

    names = ("a.npz", "b.mp4", "c.csv", "d.glb")
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    if existing:
        out.mkdir()
        for n in names:
            (out / n).write_text("old")
        if blocker == "folder":
            (out / "b.mp4").unlink()
            (out / "b.mp4").mkdir()
    before = sorted((p.name, p.read_text() if p.is_file() else None) for p in out.iterdir()) if out.exists() else None
    try:
        with atomic_files(out, names) as stage:
            for i, n in enumerate(names):
                if i == fail_at:
                    raise RuntimeError("writer failed")
                (stage / n).write_text("new")
    except (RuntimeError, TalkstyleError):
        after = sorted((p.name, p.read_text() if p.is_file() else None) for p in out.iterdir()) if out.exists() else None
        assert after == before
    else:
        assert sorted((p.name, p.read_text()) for p in out.iterdir()) == [(n, "new") for n in names]
    assert not [p for p in tmp_path.rglob(".*staging*")]
