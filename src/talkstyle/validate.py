"""Checks of user input at the entry points, before any work: numbers, seeds, files and outputs.

Each raises TalkstyleError with a message naming the option, so the CLI prints one line and
exits 2. They are plain functions so that the Python API and the commands share them.
"""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from .errors import TalkstyleError

MAX_SEED = 2**32 - 1                 # numpy's and torch's seeds both take this range


def number(name: str, value: float, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False) -> float:
    """A finite number in [lo, hi] ((lo, hi] with lo_open). NaN and inf are refused by name."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TalkstyleError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise TalkstyleError(f"{name} must be a finite number, got {value}")
    if lo is not None and (value <= lo if lo_open else value < lo):
        bound = ("positive" if lo == 0 else f"greater than {lo:g}") if lo_open else f"at least {lo:g}"
        raise TalkstyleError(f"{name} must be {bound}, got {value:g}")
    if hi is not None and value > hi:
        raise TalkstyleError(f"{name} must be at most {hi:g}, got {value:g}")
    return value


def integer(name: str, value: int, lo: int | None = None, hi: int | None = None) -> int:
    """An integer (not a bool or a float) in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TalkstyleError(f"{name} must be a whole number, got {value!r}")
    if lo is not None and value < lo:
        raise TalkstyleError(f"{name} must be at least {lo}, got {value}")
    if hi is not None and value > hi:
        raise TalkstyleError(f"{name} must be at most {hi}, got {value}")
    return value


def seed(value: int, name: str = "--seed") -> int:
    return integer(name, value, 0, MAX_SEED)


def input_file(path: str | Path, what: str) -> Path:
    """An existing regular file; a folder is named as such (not 'not found')."""
    path = Path(path)
    if path.is_dir():
        raise TalkstyleError(f"{what} is a folder, not a file: {path}")
    if not path.exists():
        raise TalkstyleError(f"{what} not found: {path}")
    if not path.is_file():
        raise TalkstyleError(f"{what} is not a regular file: {path}")
    if not os.access(path, os.R_OK):
        raise TalkstyleError(f"{what} is not readable: {path}")
    return path


def _existing_ancestor(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _probe_writable(folder: Path, shown: Path) -> None:
    """Create and remove a temporary folder: os.access says yes to root on read-only mounts."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".talkstyle-probe-", dir=folder))
    except OSError as e:
        raise TalkstyleError(f"cannot write into {shown}: {e.strerror or e}") from None


def output_folder(path: str | Path, files: tuple[str, ...] = ()) -> Path:
    """Check that `path` can be (or already is) an output folder holding `files`, without
    creating anything: every problem is found before a long job starts, not after it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise TalkstyleError(f"output folder is a file: {path}")
    ancestor = _existing_ancestor(path)
    if not ancestor.is_dir():
        raise TalkstyleError(f"cannot make output folder {path}: {ancestor} is a file")
    _probe_writable(ancestor, ancestor)
    for name in files:
        target = path / name
        if target.exists() and not target.is_file():
            raise TalkstyleError(f"{target} is in the way: it is a folder or a special file, "
                                 "remove it or choose another output folder")
    return path


def output_file(path: str | Path) -> Path:
    """Check that a file can be written at `path` (its folder exists and is writable)."""
    path = Path(path)
    if path.is_dir():
        raise TalkstyleError(f"output path is a folder: {path}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise TalkstyleError(f"output folder does not exist: {parent}")
    _probe_writable(parent, parent)
    return path


def train_options(out: str | Path, *, steps: int | None = None, batch_size: int | None = None,
                  threads: int | None = None, augmented: int = 1, seed: int = 0) -> None:
    """The numbers of `talkstyle train` / `train-variant` and the run folder, before torch loads."""
    if steps is not None:
        integer("--steps", steps, 1, 10_000_000)
    if batch_size is not None:
        integer("--batch-size", batch_size, 1, 4096)
    if threads is not None:
        integer("--threads", threads, 1, 1024)
    integer("--augmented", augmented, 0, 64)
    globals()["seed"](seed)
    output_folder(out)
