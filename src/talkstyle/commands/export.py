"""`talkstyle export`: a FaceMotion .npz to Live Link Face CSV, GLB or npz."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import TalkstyleError

FORMATS = ("csv", "glb", "npz")


def export(
    motion_path: Path = typer.Argument(..., metavar="MOTION.npz", help="FaceMotion file to export."),
    output: Path = typer.Option(..., "-o", "--output", help="Output file."),
    format: Optional[str] = typer.Option(
        None, "--format", "-f", help="csv (Live Link Face), glb (mesh + morph animation) or npz; "
                                     "default: the output's extension."),
) -> None:
    """Export a motion to Live Link Face CSV, animated GLB or FaceMotion npz."""
    from ..face.motion import FaceMotion

    fmt = (format or output.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise TalkstyleError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    motion = FaceMotion.load(motion_path)
    if fmt == "csv":
        from ..export.livelink import write_csv
        write_csv(motion, output)
    elif fmt == "glb":
        from ..export.gltf import write_glb
        write_glb(motion, output)
    else:
        motion.save(output)
    typer.echo(f"wrote {output} ({motion.num_frames} frames at {motion.fps:g} fps)")
