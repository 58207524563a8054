"""`talkstyle data` commands: capture."""
from __future__ import annotations

from ..cli import data_app  # noqa: F401
