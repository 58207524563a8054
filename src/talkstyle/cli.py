"""The `talkstyle` command. Subcommands are plain functions in talkstyle/commands/, one module
per area, registered here in the order `talkstyle --help` lists them.

Errors the user can fix (TalkstyleError) print as one line and exit with code 2.
Heavy imports happen inside the commands so that `talkstyle --help` is instant.
"""
from __future__ import annotations

import os
import sys

import typer

# Native libraries (MediaPipe, TensorFlow Lite, absl/glog) read these when they load: warnings
# and info lines of theirs are no business of the user's terminal. Set before any import of them.
for _var, _value in (("GLOG_minloglevel", "2"), ("TF_CPP_MIN_LOG_LEVEL", "3"), ("ABSL_MIN_LOG_LEVEL", "2")):
    os.environ.setdefault(_var, _value)

from .commands import capture, data, evaluate, export, generate, media, retarget, serve, stream, synth  # noqa: E402
from .errors import TalkstyleError  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Speech-driven 3D facial animation with style control.")
data_app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                       help="The data engine: prompts, synthesis, capture, filter, store.")
app.add_typer(data_app, name="data")

app.command()(media.render)
app.command()(media.demo)
app.command()(export.export)
app.command()(retarget.retarget)
data_app.command()(data.prompts)
data_app.command()(data.parse)
data_app.command()(data.report)
data_app.command()(data.build)
data_app.command()(data.verify)
data_app.command()(capture.capture)
data_app.command(name="import")(capture.import_)
data_app.command()(synth.synth)
app.command(context_settings={"allow_extra_args": True})(generate.animate)   # --style-at TIME STYLE
app.command()(serve.serve)
app.command()(generate.train)
app.command("train-contact")(generate.train_contact)
app.command("export-checkpoint")(generate.export_checkpoint)
app.command()(evaluate.evaluate)
app.command("train-variant")(evaluate.train_variant)
app.command("train-stream")(stream.train_stream)
app.command("export-stream")(stream.export_stream)
app.command("export-onnx")(stream.export_onnx)


INTERRUPTED = "interrupted (Ctrl-C): rerun the same command to resume"


def main() -> None:
    try:
        app()
    except TalkstyleError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"\n{INTERRUPTED}", file=sys.stderr)
        sys.exit(130)
    except SystemExit as e:
        # Typer turns Ctrl-C into a silent exit 130 (typer.core._main): say what happened.
        if e.code == 130:
            print(f"\n{INTERRUPTED}", file=sys.stderr)
        raise


if __name__ == "__main__":
    main()
