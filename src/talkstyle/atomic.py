"""Atomic file writes: write to a temporary sibling, then rename over the target.

A crash or an error half way never leaves a partial output file behind.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import TalkstyleError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it is renamed to `path`.

    The temporary name keeps the target's suffix so that writers choosing a format by
    extension (PyAV, numpy) behave as for the real name.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise TalkstyleError(f"output folder does not exist: {parent}")
    if not os.access(parent, os.W_OK):
        raise TalkstyleError(f"output folder is not writable: {parent}")
    if path.is_dir():
        raise TalkstyleError(f"output path is a folder: {path}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix, dir=parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)   # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield tmp_path
        try:
            os.replace(tmp_path, path)
        except OSError as e:
            raise TalkstyleError(f"cannot write {path}: {e.strerror}") from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
