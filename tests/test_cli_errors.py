"""Bad input through the real `talkstyle` command: exit code 2, one line on stderr, no partial output."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from talkstyle.face.motion import FaceMotion


def raw_npz(path: Path, weights: np.ndarray, head: np.ndarray) -> Path:
    """A FaceMotion-shaped npz written without validation, as a buggy producer would."""
    np.savez(path, format_version=np.array(1), weights=weights, head=head, fps=np.array(25.0))
    return path


@pytest.fixture
def good(tmp_path) -> Path:
    return FaceMotion.neutral(10).save(tmp_path / "good.npz")


@pytest.fixture
def out_dir(tmp_path) -> Path:
    d = tmp_path / "out"
    d.mkdir()
    return d


def bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(os.urandom(512))
    nan_w = np.zeros((10, 52), np.float32)
    nan_w[3, 17] = np.nan
    return {
        "missing": (tmp_path / "missing.npz", "not found"),
        "corrupt": (garbage, "not a readable FaceMotion"),
        "wrong_shape": (raw_npz(tmp_path / "shape.npz", np.zeros((10, 51)), np.zeros((10, 3))), "shape"),
        "nan": (raw_npz(tmp_path / "nan.npz", nan_w, np.zeros((10, 3))), "NaN"),
        "degrees": (raw_npz(tmp_path / "deg.npz", np.zeros((10, 52)), np.full((10, 3), 30.0)), "radians"),
    }


@pytest.mark.parametrize("case, fmt", [("missing", "csv"), ("corrupt", "csv"), ("wrong_shape", "csv"),
                                       ("nan", "csv"), ("degrees", "csv"), ("nan", "glb"), ("corrupt", "npz")])
def test_export_bad_motion(tmp_path, out_dir, case, fmt, talkstyle, user_error):
    path, message = bad_inputs(tmp_path)[case]
    user_error(talkstyle("export", path, "-o", out_dir / f"x.{fmt}"), message)
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("target, message", [
    ("no_such_folder/x.csv", "does not exist"),
    ("a_folder", "unknown export format"),
    ("a_folder.csv", "is a folder"),
    ("a_file.txt/x.csv", "does not exist"),
    ("x.fbx", "unknown export format"),
])
def test_export_bad_output(good, out_dir, target, message, talkstyle, user_error):
    (out_dir / "a_folder").mkdir()
    (out_dir / "a_folder.csv").mkdir()
    (out_dir / "a_file.txt").write_text("x")
    before = sorted(p.name for p in out_dir.iterdir())
    user_error(talkstyle("export", good, "-o", out_dir / target), message)
    assert sorted(p.name for p in out_dir.iterdir()) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_export_read_only_folder(good, out_dir, talkstyle, user_error):
    out_dir.chmod(0o555)
    try:
        user_error(talkstyle("export", good, "-o", out_dir / "x.csv"), "not writable")
        assert list(out_dir.iterdir()) == []
    finally:
        out_dir.chmod(0o755)


@pytest.mark.parametrize("fmt", ["csv", "glb", "npz"])
def test_export_each_format(good, out_dir, fmt, talkstyle):
    target = out_dir / f"take.{fmt}"
    result = talkstyle("export", good, "-o", target)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {target}")
    head = target.read_bytes()[:16]
    assert head.startswith({"csv": b"Timecode,", "glb": b"glTF", "npz": b"PK"}[fmt])
    assert [p.name for p in out_dir.iterdir()] == [target.name]


def test_export_format_option_overrides_extension(good, out_dir, talkstyle, user_error):
    result = talkstyle("export", good, "--format", "csv", "-o", out_dir / "take.txt")
    assert result.returncode == 0, result.stderr
    assert (out_dir / "take.txt").read_text().startswith("Timecode,BlendShapeCount,")
    user_error(talkstyle("export", good, "--format", "fbx", "-o", out_dir / "x.csv"), "unknown export format")


def test_export_existing_output_survives_a_failed_export(tmp_path, out_dir, talkstyle, user_error):
    target = out_dir / "x.csv"
    target.write_text("previous take")
    path, _ = bad_inputs(tmp_path)["nan"]
    user_error(talkstyle("export", path, "-o", target), "NaN")
    assert target.read_text() == "previous take"
    assert [p.name for p in out_dir.iterdir()] == ["x.csv"]
