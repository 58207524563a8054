"""Setup shared by the tests.

- `talkstyle`: the `talkstyle` command as a user runs it (the console script's entry point, in a
  subprocess with this interpreter); `user_error`: the check that a result is a user error (exit
  code 2, one `error:` line on stderr, no traceback).
- `tiny_dataset`, `tiny_checkpoint`, `tiny_workdir`: a tiny real dataset and a tiny trained
  generator (tiny_model.py), built once per session by the first test that asks.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

# The entry point of the console script, with this interpreter (and its PYTHONPATH).
TALKSTYLE = [sys.executable, "-c", "from talkstyle.cli import main; main()"]


def run_talkstyle(*args: str | Path, timeout: float = 300, cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*TALKSTYLE, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def check_user_error(result: subprocess.CompletedProcess, message: str = "") -> None:
    """Exit code 2 and one line `error: ...` containing `message` on stderr, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture
def talkstyle() -> Callable[..., subprocess.CompletedProcess]:
    """Run `talkstyle ARGS...` (keywords: timeout, cwd) in a subprocess; returns the CompletedProcess."""
    return run_talkstyle


@pytest.fixture
def user_error() -> Callable[[subprocess.CompletedProcess, str], None]:
    """`user_error(result, message)`: assert that a `talkstyle` run failed as a user error."""
    return check_user_error


@pytest.fixture(scope="session")
def tiny_workdir() -> Path:
    from tiny_model import workdir

    return workdir()


@pytest.fixture(scope="session")
def tiny_dataset() -> Path:
    """8 procedural clips: 6 train (3 persons), 2 val (1 person)."""
    from tiny_model import tiny_dataset

    return tiny_dataset()


@pytest.fixture(scope="session")
def tiny_checkpoint() -> Path:
    """A tiny generator trained 4 steps on `tiny_dataset` (mel audio encoder)."""
    from tiny_model import tiny_checkpoint

    return tiny_checkpoint()
