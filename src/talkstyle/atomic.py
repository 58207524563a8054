"""Atomic file writes: write to a temporary sibling, then rename over the target.

A crash or an error half way never leaves a partial output file behind.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, Sequence

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
            # Writers that recreate the file (safetensors does) leave it 0600: others on a shared
            # machine could not read it.
            os.chmod(tmp_path, 0o666 & ~_UMASK)
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


STAGING = ".talkstyle-staging-"


@contextlib.contextmanager
def atomic_files(folder: str | os.PathLike, names: Sequence[str]) -> Iterator[Path]:
    """Write a set of files that belong together (one run's outputs) into `folder` as a set.

    Yields a staging folder; write every file of `names` there. On success they replace the
    files of those names in `folder` together; on an error or Ctrl-C nothing in `folder`
    changes. A new `folder` appears by one rename, complete. An existing one gets the new set
    by renames, the old files put back if one fails, so it never mixes two runs' outputs.
    Staging folders left by a killed run are removed by the next one.
    """
    folder = Path(folder)
    parent = folder.parent if str(folder.parent) else Path(".")
    try:
        if folder.exists() and not folder.is_dir():
            raise TalkstyleError(f"output folder is a file: {folder}")
        fresh = not folder.exists()
        home = parent if fresh else folder
        prefix = f".{folder.name}{STAGING}" if fresh else STAGING
        home.mkdir(parents=True, exist_ok=True)
        for stale in home.glob(prefix + "*"):
            shutil.rmtree(stale, ignore_errors=True)
        stage = Path(tempfile.mkdtemp(prefix=prefix, dir=home))
    except OSError as e:
        raise TalkstyleError(f"cannot write into {folder}: {e.strerror or e}") from None
    try:
        yield stage
        missing = [n for n in names if not (stage / n).is_file()]
        if missing:
            raise TalkstyleError(f"internal: {', '.join(missing)} not written")
        os.chmod(stage, 0o777 & ~_UMASK)
        if fresh:
            try:
                os.rename(stage, folder)          # the whole set appears at once
                return
            except OSError:
                if not folder.is_dir():
                    raise TalkstyleError(f"cannot write into {folder}") from None
        _commit(stage, folder, names)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _commit(stage: Path, folder: Path, names: Sequence[str]) -> None:
    backup = stage / ".previous"
    backup.mkdir()
    old, new = [], []
    try:
        for n in names:
            target = folder / n
            if target.is_dir() and not target.is_symlink():
                raise TalkstyleError(f"{target} is a folder: remove it or choose another output folder")
            if target.exists() or target.is_symlink():
                os.replace(target, backup / n)
                old.append(n)
        for n in names:
            os.replace(stage / n, folder / n)
            new.append(n)
    except (OSError, TalkstyleError) as e:
        for n in new:                          # put the folder back as it was
            with contextlib.suppress(OSError):
                os.replace(folder / n, stage / n)
        for n in old:
            with contextlib.suppress(OSError):
                os.replace(backup / n, folder / n)
        if isinstance(e, TalkstyleError):
            raise
        raise TalkstyleError(f"cannot write into {folder}: {e.strerror or e}") from None
