"""`talkstyle` commands: evaluate."""
from __future__ import annotations

from ..cli import app  # noqa: F401
