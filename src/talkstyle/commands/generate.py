"""`talkstyle animate`, `train`, `evaluate`: the style generator commands."""
from __future__ import annotations

from ..cli import app  # noqa: F401
