"""`talkstyle retarget`: a FaceMotion onto the user's own glTF / VRM avatar."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def retarget(
    motion_path: Path = typer.Argument(..., metavar="MOTION.npz", help="FaceMotion file to play."),
    avatar: Path = typer.Option(..., "--avatar", help="The character: .glb, .gltf or .vrm with ARKit-named "
                                                     "morph targets (or VRM expressions)."),
    output: Path = typer.Option(..., "-o", "--output", help="Output .glb or .vrm (the avatar plus an "
                                                           "animation named 'talkstyle')."),
    map_path: Optional[Path] = typer.Option(None, "--map", help="JSON {\"jawOpen\": \"MouthOpen\", "
                                                               "\"tongueOut\": null, ...} for custom names."),
    head_bone: Optional[str] = typer.Option(None, "--head-bone", help="Node that takes the head rotation "
                                                                     "(default: the head or neck bone)."),
    allow_missing: bool = typer.Option(False, "--allow-missing", help="Animate what matches even if some "
                                                                     "ARKit shapes are missing."),
    no_head: bool = typer.Option(False, "--no-head", help="Leave the head still."),
) -> None:
    """Put a performance on any ARKit-ready glTF / VRM character (morph targets + head bone)."""
    from ..export.retarget import load_map, retarget_file
    from ..face.motion import FaceMotion

    motion = FaceMotion.load(motion_path)
    mapping = load_map(map_path) if map_path is not None else None
    p = retarget_file(motion, avatar, output, mapping, head_bone, allow_missing, head=not no_head)
    driven = f"{len(p.presets)} VRM presets (approximated from ARKit)" if p.mode == "vrm-presets" \
        else f"{len(p.channels)} of 52 ARKit shapes"
    missing = f"; missing: {', '.join(p.missing)}" if p.missing else ""
    typer.echo(f"wrote {output} ({motion.num_frames} frames at {motion.fps:g} fps; {driven}{missing})")
