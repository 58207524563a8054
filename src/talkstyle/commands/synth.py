"""`talkstyle data` commands: synth."""
from __future__ import annotations

from ..cli import data_app  # noqa: F401
