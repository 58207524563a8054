"""`talkstyle data capture` (video -> FaceMotion) and `talkstyle data import` (a video folder -> dataset)."""
from __future__ import annotations

from pathlib import Path

import typer


def capture(video: Path = typer.Argument(..., help="A video of a face (mp4, mov, webm...)."),
            out: Path = typer.Option(..., "-o", "--out", help="Output FaceMotion .npz."),
            preview: Path = typer.Option(None, "--preview", help="Also write an mp4: the video beside the rig."),
            ) -> None:
    """Capture ARKit-52 weights and head rotation from a video (MediaPipe landmarks + the FaceRig)."""
    from ..data.capture import capture_video
    from ..errors import TalkstyleError

    from ..validate import input_file, output_file

    if out.suffix != ".npz":
        raise TalkstyleError(f"output must be a .npz file, got {out.name}")
    input_file(video, "video")
    output_file(out)                       # before the capture, not after it
    if preview is not None:
        output_file(preview)
    result = capture_video(video)
    result.motion.save(out)
    for note in result.notes:
        print(f"note: {note}")
    m = result.motion
    print(f"wrote {out}: {m.num_frames} frames at {m.fps:g} fps ({m.duration:.1f} s), "
          f"face tracked in {100 * float((m.confidence > 0).mean()):.0f}% of frames")
    if preview is not None:
        from ..data.capture.preview import write_preview

        write_preview(video, m, preview)
        print(f"wrote {preview}")


def import_(folder: Path = typer.Argument(..., help="Folder of videos, each with a prompt sidecar (same name, .txt)."),
            out: Path = typer.Option(..., "--out", help="Dataset folder (created; an existing one is resumed)."),
            workers: int = typer.Option(1, "--workers", help="Worker processes."),
            ) -> None:
    """Import videos into a dataset: capture, filter (rejections listed with a reason), store."""
    from ..data.importer import import_folder
    from ..validate import integer

    integer("--workers", workers, 1, 256)
    outcomes = import_folder(folder, out, workers)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("added", "rejected", "skipped")}
    for o in outcomes:
        if o.status != "added" or o.reason:
            print(f"{o.status:9s} {o.video}: {o.reason}")
    print(f"{counts['added']} added, {counts['rejected']} rejected, {counts['skipped']} skipped -> {out}")
