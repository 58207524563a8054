"""`talkstyle` commands: export."""
from __future__ import annotations

from ..cli import app  # noqa: F401
