"""The speech lines written for the project, which the synthetic actor speaks."""
from __future__ import annotations

import functools

from .. import assets


@functools.cache
def load_lines() -> tuple[str, ...]:
    """The speech lines written for the project (assets/lines.txt, one a line, # comments)."""
    text = assets.path("lines.txt", "talkstyle.data").read_text("utf-8")
    return tuple(ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))
