"""The stage II video log of a dataset folder: one row per generated video, with its status.

    DIR/videos/<id>.mp4     the generated clip (H.264, + AAC speech for LTX-2)
    DIR/videos/<id>.json    its row, written last: prompt, attributes, line, seed, backend, status

A generated video is only training data once capture (stage IV) has turned it into motion and the
filter (stage III) has passed it; then it gets a row in the dataset manifest (Dataset.add), its
mp4 moves to DIR/clips/ beside the motion and its row here points there. The log keeps every
video, also those waiting for capture and those rejected (with the reason), so a rerun neither
samples a video twice nor retries a rejected one.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ...atomic import write_text
from ..prompts import prompt_to_dict
from ..store import Dataset, file_sha256
from .base import SynthJob

if TYPE_CHECKING:
    from ..scale import SynthDone

PENDING, CAPTURED, REJECTED = "pending_capture", "captured", "rejected"


@dataclasses.dataclass(frozen=True)
class VideoRow:
    clip_id: str
    backend: str
    person: str
    seed: int
    prompt: dict                 # prompt text and attributes (prompts.prompt_to_dict)
    line: str                    # the line asked for ("" for video-only models)
    video_path: str              # relative to the dataset folder
    sha256: str
    has_speech_audio: bool
    status: str                  # pending_capture | captured | rejected
    reason: str = ""             # why it was rejected


class VideoLog:
    """Rows and files under DIR/videos/."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.dir = self.root / "videos"
        self.dir.mkdir(parents=True, exist_ok=True)

    def clean_partial(self) -> int:
        """Remove temporary files a killed writer left behind (atomic writes name them .<name>.*)."""
        leftovers = list(self.dir.glob(".*"))
        for p in leftovers:
            p.unlink()
        return len(leftovers)

    def video_path(self, clip_id: str) -> Path:
        return self.dir / f"{clip_id}.mp4"

    def get(self, clip_id: str) -> VideoRow | None:
        """The row of a clip, if it has one and its video is in place."""
        path = self.dir / f"{clip_id}.json"
        if not path.is_file():
            return None
        row = VideoRow(**json.loads(path.read_text()))
        return row if (self.root / row.video_path).is_file() else None

    def put(self, job: SynthJob, backend: str, has_speech_audio: bool, status: str, reason: str = "",
            video: Path | None = None) -> VideoRow:
        """Write the row of a clip whose video (default: videos/<id>.mp4) is already in place."""
        video = video or self.video_path(job.clip_id)
        row = VideoRow(clip_id=job.clip_id, backend=backend, person=job.person, seed=job.seed,
                       prompt=prompt_to_dict(job.prompt), line=job.line if has_speech_audio else "",
                       video_path=str(video.relative_to(self.root)), sha256=file_sha256(video),
                       has_speech_audio=has_speech_audio, status=status, reason=reason)
        write_text(self.dir / f"{job.clip_id}.json", json.dumps(dataclasses.asdict(row), sort_keys=True))
        return row

    def rows(self) -> list[VideoRow]:
        return [r for r in (self.get(p.stem) for p in sorted(self.dir.glob("*.json"))) if r is not None]


def store_done(done: "SynthDone", dataset: Dataset, log: VideoLog, backend: str) -> VideoRow:
    """Record one finished job: captured clips into the manifest (mp4 moved beside the motion),
    the others in the log as waiting for capture or rejected with the reason."""
    job = done.job
    if done.clip is None:
        status = REJECTED if done.capture_error else PENDING
        return log.put(job, backend, done.has_speech_audio, status, done.capture_error or "")
    # The manifest row first: once it exists the clip counts as done, whatever happens next.
    dataset.add(done.clip, job.clip_id, backend, video=done.video)
    row = log.put(job, backend, done.has_speech_audio, CAPTURED, video=dataset.root / "clips" / f"{job.clip_id}.mp4")
    done.video.unlink(missing_ok=True)
    return row
