"""Plain data (JSON) <-> frozen dataclasses, with one policy for every config and record.

Unknown keys are an error that names them: a file written by another talkstyle version must say
so instead of silently losing a setting. A missing key takes the dataclass default, so files
written before a field was added keep loading.
"""
from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from .errors import TalkstyleError

T = TypeVar("T")


def to_plain(obj: Any) -> dict[str, Any]:
    return dataclasses.asdict(obj)


def from_plain(cls: type[T], d: dict[str, Any], what: str) -> T:
    """`cls(**d)`, with a one-line error for keys `cls` does not have (`what` names the source)."""
    unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise TalkstyleError(f"{what} has unknown keys {sorted(unknown)}: made by another talkstyle version?")
    return cls(**d)
