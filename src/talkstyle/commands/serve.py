"""`talkstyle serve`: the live page and the playback of `animate` takes."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def serve(
    port: int = typer.Option(8765, help="Port to listen on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on. The default serves this machine only."),
    takes: Optional[Path] = typer.Option(None, help="A folder of `animate` output folders (or one) to play back on the page."),
    refs: Optional[Path] = typer.Option(None, help="A folder of motion .npz style references for the page (the takes' "
                                                  "motion.npz are references too)."),
    checkpoint: Optional[Path] = typer.Option(None, help="Streaming model folder; default: the bundled one."),
    threads: int = typer.Option(1, help="CPU threads for torch per live stream."),
) -> None:
    """Serve a page: speak into the microphone and watch the face move live, switch styles while
    speaking, and play back `animate` outputs (face.glb with the audio, the curves beneath)."""
    from ..errors import TalkstyleError
    from ..validate import integer

    integer("--port", port, 0, 65535)
    integer("--threads", threads, 1, 64)
    for name, folder in (("--takes", takes), ("--refs", refs)):
        if folder is not None and not folder.is_dir():
            raise TalkstyleError(f"{name} folder not found: {folder}")
    from ..server import serve as run

    typer.echo("loading the streaming model...", err=True)
    try:
        run(host, port, takes, refs, checkpoint, threads,
            ready=lambda url: typer.echo(f"talkstyle serve: open {url} in a browser (Ctrl-C stops)", err=True))
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)
