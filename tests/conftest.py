"""Setup shared by the tests: the `talkstyle` command as a user runs it, in a subprocess."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

# The entry point of the console script, with this interpreter (and its PYTHONPATH).
TALKSTYLE = [sys.executable, "-c", "from talkstyle.cli import main; main()"]


def run_talkstyle(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*TALKSTYLE, *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def talkstyle() -> Callable[..., subprocess.CompletedProcess]:
    """Run `talkstyle ARGS...` in a subprocess; returns the CompletedProcess (stdout, stderr, returncode)."""
    return run_talkstyle
