"""Issue 16: one regression test per reproduction of the hostile-input sweep, through the real
entry point (the `talkstyle` command in a subprocess). See docs/bad_inputs.md for the table."""
from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from talkstyle.face.motion import FaceMotion

# Most of these start the real command in a process (and many load torch): 5 s or more each.
pytestmark = pytest.mark.slow

SPEECH = Path(__file__).resolve().parents[1] / "src" / "talkstyle" / "assets" / "demo_speech.wav"
BUNDLED = Path(__file__).resolve().parents[1] / "src" / "talkstyle" / "assets" / "model"
TALKSTYLE = [sys.executable, "-c", "from talkstyle.cli import main; main()"]      # as conftest's


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*TALKSTYLE, *map(str, args)], capture_output=True, text=True, timeout=300)


def shown(stderr: str) -> list[str]:
    """The lines a terminal shows: progress bars redraw with \\r, so only the last redraw counts."""
    return [seg for line in stderr.split("\n") if (seg := line.split("\r")[-1].strip())]


def assert_one_error(result: subprocess.CompletedProcess, message: str) -> None:
    lines = shown(result.stderr)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


# ------------------------------------------------------------------ 1. --hours NaN / inf / huge
@pytest.mark.parametrize("hours, message", [("nan", "finite"), ("inf", "finite"), ("1e9", "at most"),
                                            ("-1", "must be positive"), ("0", "must be positive")])
def test_1_build_hours_are_checked(talkstyle, tmp_path, hours, message):
    t0 = time.perf_counter()
    result = talkstyle("data", "build", "--hours", hours, "--out", tmp_path / "d")
    assert_one_error(result, "--hours must be")
    assert message in result.stderr
    assert time.perf_counter() - t0 < 30 and not (tmp_path / "d").exists()


# ------------------------------------------------------------------ 2. outputs checked before the work
@pytest.mark.parametrize("args", [["animate", "--audio", SPEECH, "--style", "A happy man", "-o"],
                                  ["demo", "-o"],
                                  ["train", "--data", "DATA", "-o"]])
def test_2_unusable_output_fails_before_the_work(talkstyle, tmp_path, args):
    (tmp_path / "f").write_text("hi")
    (tmp_path / "DATA" / "rows").mkdir(parents=True)
    args = [str(tmp_path / "DATA") if a == "DATA" else a for a in args]
    t0 = time.perf_counter()
    assert_one_error(talkstyle(*args, tmp_path / "f"), "output folder is a file")
    assert time.perf_counter() - t0 < 15, "the check must come before the work"
    assert (tmp_path / "f").read_text() == "hi"


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs sysfs")
def test_2_unwritable_output_place(talkstyle, tmp_path):
    assert_one_error(talkstyle("animate", "--audio", SPEECH, "-o", "/sys/kernel/talkstyle-x"), "cannot write into")


# ------------------------------------------------------------------ 3. one run's outputs, never a mix
def test_3_failed_rerun_leaves_the_previous_set_whole(talkstyle, tmp_path, tiny_checkpoint):
    out = tmp_path / "out"
    ok = talkstyle("animate", "--audio", SPEECH, "--style", "A happy man", "--steps", "2", "--checkpoint",
             tiny_checkpoint, "-o", out)
    assert ok.returncode == 0, ok.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"motion.npz", "preview.mp4", "livelink.csv", "face.glb"}
    (out / "preview.mp4").unlink()
    (out / "preview.mp4").mkdir()                     # the reproduction: a folder in the way
    before["preview.mp4"] = None
    bad = talkstyle("animate", "--audio", SPEECH, "--style", "A sad man", "--seed", "7", "--steps", "2",
              "--checkpoint", tiny_checkpoint, "-o", out)
    assert_one_error(bad, "preview.mp4 is in the way")
    after = {p.name: (p.read_bytes() if p.is_file() else None) for p in out.iterdir()}
    assert after == before                              # untouched: no new motion.npz beside old files


def test_3_interrupted_write_commits_nothing(tmp_path):
    """atomic_files: an error while writing the set leaves the folder exactly as it was."""
    from talkstyle.atomic import atomic_files

    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("old a")
    (out / "b.txt").write_text("old b")
    with pytest.raises(KeyboardInterrupt):
        with atomic_files(out, ("a.txt", "b.txt")) as stage:
            (stage / "a.txt").write_text("new a")
            raise KeyboardInterrupt
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a.txt": "old a", "b.txt": "old b"}
    with atomic_files(out, ("a.txt", "b.txt")) as stage:
        (stage / "a.txt").write_text("new a")
        (stage / "b.txt").write_text("new b")
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a.txt": "new a", "b.txt": "new b"}
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError):
        with atomic_files(fresh, ("a.txt",)) as stage:
            raise RuntimeError
    assert not fresh.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ------------------------------------------------------------------ 4. malformed npz fields
def malformed(tmp_path: Path) -> dict[str, Path]:
    good = dict(np.load(FaceMotion.neutral(10).save(tmp_path / "good.npz")))
    cases = {"metadata": ("metadata", np.array("{x"), "not valid JSON"),
             "version": ("format_version", np.array("abc"), "'format_version' must be one number"),
             "fps_vector": ("fps", np.array([25.0, 25.0]), "'fps' must be one number"),
             "string_weights": ("weights", np.full((10, 52), "a"), "'weights' must hold numbers"),
             "metadata_list": ("metadata", np.array("[1, 2]"), "must be a JSON object"),
             "names_scalar": ("blendshape_names", np.array("jawOpen"), "list of names"),
             "rate_nan": ("sample_rate", np.array(np.nan), "'sample_rate' must be a finite")}
    out = {}
    for name, (key, value, message) in cases.items():
        fields = dict(good)
        fields[key] = value
        np.savez(tmp_path / f"{name}.npz", **fields)
        out[name] = (tmp_path / f"{name}.npz", message)
    return out


def test_4_malformed_npz_fields_are_named(talkstyle, tmp_path):
    for name, (path, message) in malformed(tmp_path).items():
        assert_one_error(talkstyle("export", path, "-o", tmp_path / "t.csv"), message)
        assert not (tmp_path / "t.csv").exists(), name


def test_4_malformed_style_reference(talkstyle, tmp_path):
    path, message = malformed(tmp_path)["metadata"]
    assert_one_error(talkstyle("animate", "--audio", SPEECH, "--style-ref", path, "-o", tmp_path / "o"), message)
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ 5. seeds out of range, at the start
@pytest.mark.parametrize("seed", ["-1", str(2**70)])
@pytest.mark.parametrize("command", [["animate", "--audio", str(SPEECH), "-o", "OUT"], ["data", "build",
                                     "--hours", "0.001", "--out", "OUT"], ["data", "prompts", "--n", "3", "-o", "OUT"]])
def test_5_seed_checked_first(talkstyle, tmp_path, command, seed):
    t0 = time.perf_counter()
    args = [str(tmp_path / "o") if a == "OUT" else a for a in command]
    assert_one_error(talkstyle(*args, "--seed", seed), "--seed must be")
    assert time.perf_counter() - t0 < 15 and not (tmp_path / "o").exists()


# ------------------------------------------------------------------ 6. checkpoint config.json checked
def checkpoint_with(tmp_path: Path, name: str, edit) -> Path:
    folder = tmp_path / name
    shutil.copytree(BUNDLED, folder)
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("name, edit, message", [
    ("no_model", lambda c: c.pop("model"), "no model configuration"),
    ("heads_text", lambda c: c["model"].update(heads="four"), "'heads' must be int"),
    ("huge", lambda c: c["model"].update(d_model=1_000_000), "'d_model' = 1000000 is outside"),
    ("many_params", lambda c: c["model"].update(d_model=8192, layers=128), "parameters"),
    ("version_text", lambda c: c.update(version="x"), "'version' must be a whole number"),
    ("model_list", lambda c: c.update(model=[1]), "no model configuration"),
    ("bad_heads", lambda c: c["model"].update(heads=3), "multiple of 'heads'"),
])
def test_6_checkpoint_config_is_validated(talkstyle, tmp_path, name, edit, message):
    ckpt = checkpoint_with(tmp_path, name, edit)
    t0 = time.perf_counter()
    assert_one_error(talkstyle("animate", "--audio", SPEECH, "--checkpoint", ckpt, "-o", tmp_path / "o"), message)
    assert time.perf_counter() - t0 < 30 and not (tmp_path / "o").exists()


# ------------------------------------------------------------------ 7, 12. dataset bookkeeping, resume
@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "d"
    result = _run("data", "build", "--hours", "0.003", "--out", out, "--voices", "espeak", "--augment-frac", "0")
    assert result.returncode == 0, result.stderr
    return out


def test_7_damaged_bookkeeping_is_named_and_recoverable(talkstyle, small_dataset, tmp_path):
    d = tmp_path / "d"
    shutil.copytree(small_dataset, d)
    rows = sorted((d / "rows").glob("*.json"))
    (d / "manifest.parquet").write_bytes(b"garbage")      # a cache of rows/: rebuilt, no error
    assert talkstyle("data", "report", d, "-o", tmp_path / "r1").returncode == 0
    rows[0].write_text('{"x')
    assert_one_error(talkstyle("data", "report", d, "-o", tmp_path / "r2"), f"{rows[0].name} is damaged")
    assert "--repair" in talkstyle("data", "report", d, "-o", tmp_path / "r2").stderr
    (d / "dataset.json").write_text("{")
    assert_one_error(talkstyle("data", "build", "--hours", "0.003", "--out", d, "--voices", "espeak",
                         "--augment-frac", "0"), "dataset.json is damaged")
    (d / "dataset.json").unlink()                          # the recovery the message gives
    rebuilt = talkstyle("data", "build", "--hours", "0.003", "--out", d, "--voices", "espeak", "--augment-frac", "0")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"remade {rows[0].stem}: damaged row" in rebuilt.stdout
    assert talkstyle("data", "verify", d).returncode == 0


def test_12_resume_remakes_a_truncated_clip_and_verify_finds_it(talkstyle, small_dataset, tmp_path):
    d = tmp_path / "d"
    shutil.copytree(small_dataset, d)
    clip = sorted((d / "clips").glob("*.npz"))[0]
    good = clip.read_bytes()
    clip.write_bytes(good[: len(good) // 2])
    found = talkstyle("data", "verify", d)
    assert found.returncode == 1 and f"damaged {clip.stem}: size mismatch" in found.stdout
    again = talkstyle("data", "build", "--hours", "0.003", "--out", d, "--voices", "espeak", "--augment-frac", "0")
    assert again.returncode == 0, again.stderr
    assert "1 clips made" in again.stdout and f"remade {clip.stem}" in again.stdout
    assert FaceMotion.load(clip).num_frames > 0
    assert talkstyle("data", "verify", d).returncode == 0
    clip.write_bytes(b"x")
    repaired = talkstyle("data", "verify", d, "--repair")
    assert repaired.returncode == 0 and "1 damaged clips removed" in repaired.stdout
    assert not clip.exists() and talkstyle("data", "verify", d).returncode == 0


# ------------------------------------------------------------------ 8. training numbers
@pytest.mark.parametrize("option, value, message", [("--batch-size", "0", "--batch-size must be at least 1"),
                                                     ("--threads", "0", "--threads must be at least 1"),
                                                     ("--steps", "0", "--steps must be at least 1"),
                                                     ("--steps", "-5", "--steps must be at least 1"),
                                                     ("--augmented", "-1", "--augmented must be at least 0")])
def test_8_training_numbers(talkstyle, small_dataset, tmp_path, option, value, message):
    assert_one_error(talkstyle("train", "--data", small_dataset, "-o", tmp_path / "run", option, value), message)
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------ 9. NaN / inf named at the source
def test_9_nan_audio_and_guidance_and_weights(talkstyle, tmp_path):
    x = (0.1 * np.sin(np.arange(32000) / 10)).astype(np.float32)
    x[::3] = np.nan
    sf.write(tmp_path / "third.wav", x, 16000, subtype="FLOAT")
    sf.write(tmp_path / "all.wav", np.full(16000, np.nan, np.float32), 16000, subtype="FLOAT")
    out = tmp_path / "o"
    assert_one_error(talkstyle("animate", "--audio", tmp_path / "third.wav", "-o", out), "33.3%): the file is damaged")
    result = talkstyle("animate", "--audio", tmp_path / "all.wav", "-o", out)
    assert_one_error(result, "100.0%)")
    assert "silent" not in result.stderr
    assert_one_error(talkstyle("animate", "--audio", SPEECH, "--cfg-style", "nan", "-o", out), "--cfg-style must be a finite")
    assert_one_error(talkstyle("animate", "--audio", SPEECH, "--cfg-audio", "inf", "-o", out), "--cfg-audio must be a finite")
    from safetensors.torch import load_file, save_file

    ckpt = checkpoint_with(tmp_path, "nan_weights", lambda c: None)
    weights = load_file(str(ckpt / "model.safetensors"))
    name = next(k for k, v in weights.items() if v.is_floating_point())
    weights[name][...] = float("nan")
    save_file(weights, str(ckpt / "model.safetensors"))
    assert_one_error(talkstyle("animate", "--audio", SPEECH, "--checkpoint", ckpt, "-o", out), "contain NaN or infinite")
    assert not out.exists()


# ------------------------------------------------------------------ 10. native log lines
def test_10_no_native_log_lines_from_capture(talkstyle, tmp_path):
    from talkstyle.data.capture.footage import write_photo_video

    video = write_photo_video(tmp_path / "photo.mp4", seconds=1.0, size=192)
    result = talkstyle("data", "capture", video, "-o", tmp_path / "m.npz")
    assert result.returncode == 0, result.stderr
    assert shown(result.stderr) == [], result.stderr
    result = talkstyle("data", "capture", video, "-o", tmp_path / "m.txt")
    assert_one_error(result, "must be a .npz")


# ------------------------------------------------------------------ 11. Ctrl-C and early progress
def test_11_ctrl_c_says_so(tmp_path):
    # Long enough (216 clips, ~9 s here) that the build cannot finish between the first row and the signal.
    # The signal lands while espeak synthesises: test_tts.py checks that it is not lost there.
    proc = subprocess.Popen([*TALKSTYLE, "data", "build", "--hours", "0.5", "--out", str(tmp_path / "d"),
                             "--voices", "espeak"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    while time.time() < deadline and not list((tmp_path / "d" / "rows").glob("*.json")):
        time.sleep(0.05)
    assert proc.poll() is None, "the build ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert any(line.startswith("interrupted (Ctrl-C)") for line in shown(err)[-3:]), repr(err[-800:])
    assert "Traceback" not in err


def test_11_animate_shows_progress_at_once(tmp_path):
    """On a terminal (TALKSTYLE_PROGRESS=1 stands in for one) the first stage line comes at once."""
    proc = subprocess.Popen([*TALKSTYLE, "animate", "--audio", str(SPEECH), "-o", str(tmp_path / "o")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TALKSTYLE_PROGRESS": "1"})
    t0 = time.perf_counter()
    first = proc.stderr.readline()
    waited = time.perf_counter() - t0
    proc.kill()
    proc.communicate()
    assert first.startswith("loading the model") and waited < 10, (first, waited)


# ------------------------------------------------------------------ 13. one warning, once
def test_13_vague_prompt_warns_once(talkstyle, tmp_path, tiny_checkpoint):
    result = talkstyle("animate", "--audio", SPEECH, "--style", "Der Mann spricht", "--steps", "1",
                 "--checkpoint", tiny_checkpoint, "-o", tmp_path / "o")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in shown(result.stderr) if line.startswith("warning:")]
    assert len(warnings) == 1 and "no style words" in warnings[0], result.stderr


# ------------------------------------------------------------------ 14. sync test on footage-like clips
def test_14_sync_holds_with_an_offset_and_a_parted_mouth_in_pauses():
    """In sync but 0.2 s late (a container offset) with the mouth left open in the pauses: what
    real footage does and the old score (all frames, +-2 frames) refused. The same clip with the
    audio half a second off is still refused."""
    import dataclasses

    from talkstyle.data.filter import check_clip
    from talkstyle.text.parse import parse_prompt
    from talkstyle.vocab.attributes import Prompt
    from talkstyle.data.synth.person import PersonStyle
    from talkstyle.data.synth.procedural import perform
    from talkstyle.face.arkit import ARKIT_NAMES

    text = "A man speaks with a calm expression."
    m = perform(Prompt(text, parse_prompt(text, use_encoder=False)),
                "We walked along the river, and then we talked. About the old days, mostly.",
                PersonStyle.from_id("f1"), 1).motion
    w = m.weights.copy()
    jaw = ARKIT_NAMES.index("jawOpen")
    w[:, jaw] = np.clip(w[:, jaw] + 0.12 * (w[:, jaw] < 0.05), 0, 1)    # parted lips in the pauses
    parted = dataclasses.replace(m, weights=w)
    footage = dataclasses.replace(parted, weights=np.roll(w, 5, axis=0))     # and the video 0.2 s late
    for clip in (parted, footage):
        assert check_clip(clip).passed, check_clip(clip).reason
    late = np.concatenate([np.zeros(8000, np.float32), m.audio])[: len(m.audio)]
    assert "does not follow" in check_clip(dataclasses.replace(parted, audio=late)).reason


# ------------------------------------------------------------------ 15. file modes, folder as input
def test_15_checkpoints_readable_by_others_and_folder_inputs(talkstyle, tmp_path):
    import torch

    from talkstyle.model.checkpoint import save_tensors

    old = os.umask(0o022)
    try:
        save_tensors(tmp_path / "m.safetensors", {"a": torch.zeros(2)})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.safetensors").stat().st_mode) == 0o644
    # A folder as --audio is a batch (issue 18): one without audio files says so.
    assert_one_error(talkstyle("animate", "--audio", tmp_path, "-o", tmp_path / "o"), "no audio files")
    assert_one_error(talkstyle("export", tmp_path, "-o", tmp_path / "x.csv"), "is a folder, not a file")


def test_15_trained_checkpoint_mode(tiny_checkpoint):
    umask = os.umask(0)
    os.umask(umask)
    for name in ("model.safetensors", "train_state.safetensors", "config.json"):
        mode = stat.S_IMODE((tiny_checkpoint / name).stat().st_mode)
        assert mode == 0o666 & ~umask, (name, oct(mode))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
