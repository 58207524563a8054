"""The `talkstyle` command. Subcommands live in talkstyle/commands/, one module per area.

Errors the user can fix (TalkstyleError) print as one line and exit with code 2.
Heavy imports happen inside the commands so that `talkstyle --help` is instant.
"""
from __future__ import annotations

import sys

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Speech-driven 3D facial animation with style control.")
data_app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                       help="The data engine: prompts, synthesis, capture, filter, store.")
app.add_typer(data_app, name="data")

# Importing these modules registers their commands on `app` / `data_app`.
from .commands import media, export, data, capture, synth, generate, evaluate  # noqa: E402,F401


def main() -> None:
    from .errors import TalkstyleError

    try:
        app()
    except TalkstyleError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)

