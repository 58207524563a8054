"""Atomic writes: all or nothing, with ordinary file permissions."""
import os
import stat

import pytest

from talkstyle.atomic import atomic_path, write_text
from talkstyle.errors import TalkstyleError


def test_success_renames_with_umask_permissions(tmp_path):
    write_text(tmp_path / "a.txt", "hello")
    assert (tmp_path / "a.txt").read_text() == "hello"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_failure_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "b.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer crashed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["b.txt"]


def test_bad_destinations_are_user_errors(tmp_path):
    with pytest.raises(TalkstyleError, match="does not exist"):
        write_text(tmp_path / "missing" / "c.txt", "x")
    with pytest.raises(TalkstyleError, match="folder"):
        write_text(tmp_path, "x")
