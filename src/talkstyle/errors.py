"""User-facing errors: the CLI prints them as one line and exits with code 2."""
from __future__ import annotations


class TalkstyleError(Exception):
    """Bad input or an unusable resource, reported to the user without a traceback."""
