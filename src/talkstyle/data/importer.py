"""The folder backend: a directory of videos, each with a prompt sidecar, into a dataset store.

    DIR/talk1.mp4 + DIR/talk1.txt      first line: the style prompt; optional lines
                                       "person: NAME" (default: the video's name) and
                                       "line: TRANSCRIPT"
Each video goes through capture (stage IV) and the filter (stage III) in a worker process;
accepted clips are stored with Dataset.add (with a copy of the video), rejected ones get a
reason in DATASET/rejected/<clip id>.json. Clip ids come from the video's bytes, so a rerun
skips every video already added or rejected: an interrupted import resumes where it stopped.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from ..atomic import write_text
from ..errors import TalkstyleError
from .filter import FilterConfig

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")


@dataclasses.dataclass(frozen=True)
class ImportJob:
    video: Path
    clip_id: str
    prompt_text: str
    person: str
    line: str


@dataclasses.dataclass(frozen=True)
class Outcome:
    video: str
    clip_id: str
    status: str            # added | rejected | skipped
    reason: str = ""


def clip_id_of(video: Path) -> str:
    h = hashlib.sha256()
    with open(video, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "v" + h.hexdigest()[:15]


def read_sidecar(video: Path) -> tuple[str, str, str]:
    """(prompt, person, line) from VIDEO.txt. Raises TalkstyleError when missing or empty."""
    sidecar = video.with_suffix(".txt")
    if not sidecar.is_file():
        raise TalkstyleError(f"no prompt sidecar {sidecar.name}")
    lines = [ln.strip() for ln in sidecar.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    if not lines:
        raise TalkstyleError(f"prompt sidecar {sidecar.name} is empty")
    fields = {k.strip().lower(): v.strip() for k, sep, v in (ln.partition(":") for ln in lines[1:]) if sep}
    return lines[0], fields.get("person", video.stem), fields.get("line", "")


def rejected_path(dataset_root: Path, clip_id: str) -> Path:
    return dataset_root / "rejected" / f"{clip_id}.json"


def record_rejection(dataset_root: Path, outcome: Outcome) -> Outcome:
    (dataset_root / "rejected").mkdir(exist_ok=True)
    write_text(rejected_path(dataset_root, outcome.clip_id), json.dumps(dataclasses.asdict(outcome)))
    return outcome


def import_one(job: ImportJob, dataset_root: Path, config: FilterConfig) -> Outcome:
    """Capture, filter and store one video; any failure becomes a recorded rejection."""
    from .capture import capture_video
    from .filter import check_clip
    from ..text.parse import parse_prompt
    from .records import SynthClip
    from ..vocab.attributes import Prompt
    from .store import Dataset

    try:
        prompt = Prompt(job.prompt_text, parse_prompt(job.prompt_text))
        cap = capture_video(job.video)
        verdict = check_clip(cap.motion, config)
        if not verdict.passed:
            return record_rejection(dataset_root, Outcome(job.video.name, job.clip_id, "rejected", verdict.reason))
        motion = dataclasses.replace(cap.motion, metadata={**cap.motion.metadata, "filter": verdict.measures})
        clip = SynthClip(motion=motion, prompt=prompt, line=job.line, person=job.person,
                         has_speech_audio=motion.audio is not None)
        Dataset(dataset_root).add(clip, clip_id=job.clip_id, backend="folder", video=job.video)
        note = "; ".join(cap.notes)
        return Outcome(job.video.name, job.clip_id, "added", note)
    except TalkstyleError as e:
        return record_rejection(dataset_root, Outcome(job.video.name, job.clip_id, "rejected", str(e)))
    except Exception as e:  # noqa: BLE001 - one bad video must never stop the import
        # Not recorded: an unexpected failure may not be the video's fault; a rerun retries it.
        return Outcome(job.video.name, job.clip_id, "rejected", f"capture failed: {e.__class__.__name__}: {e}")


def _run(args: tuple[ImportJob, Path, FilterConfig]) -> Outcome:
    return import_one(*args)


def _worker_init() -> None:
    import signal

    import torch

    torch.set_num_threads(1)
    # Ctrl-C is the parent's to handle: a worker finishes (or loses) its clip as a whole.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def plan(folder: Path, dataset_root: Path) -> tuple[list[ImportJob], list[Outcome]]:
    """Jobs still to run, and the outcomes known without running (skipped, no sidecar)."""
    from .store import Dataset

    dataset = Dataset(dataset_root)
    jobs, known, seen = [], [], {}
    for video in sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()):
        clip_id = clip_id_of(video)
        if clip_id in seen:
            known.append(Outcome(video.name, clip_id, "skipped", f"same file as {seen[clip_id]}"))
            continue
        seen[clip_id] = video.name
        if dataset.has(clip_id):
            known.append(Outcome(video.name, clip_id, "skipped", "already in the dataset"))
            continue
        if rejected_path(dataset_root, clip_id).is_file():
            earlier = json.loads(rejected_path(dataset_root, clip_id).read_text())
            known.append(Outcome(video.name, clip_id, "skipped", f"rejected earlier: {earlier['reason']}"))
            continue
        try:
            prompt, person, line = read_sidecar(video)
        except TalkstyleError as e:
            # Not recorded: a sidecar written later is picked up by the next run.
            known.append(Outcome(video.name, clip_id, "rejected", str(e)))
            continue
        jobs.append(ImportJob(video, clip_id, prompt, person, line))
    return jobs, known


def import_folder(folder: str | Path, out: str | Path, workers: int = 1,
                  config: FilterConfig = FilterConfig(), progress: bool = True) -> list[Outcome]:
    """Import every video of `folder` into the dataset `out` (created, or resumed)."""
    import multiprocessing

    from tqdm import tqdm

    from .store import Dataset

    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise TalkstyleError(f"not a folder: {folder}")
    dataset = Dataset(out, create=True)
    dataset.clean_partial()
    jobs, outcomes = plan(folder, out)
    if not jobs and not outcomes:
        raise TalkstyleError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) in {folder}")
    bar = tqdm(total=len(jobs), desc="import", unit="video", disable=not progress)
    if workers <= 1:
        for job in jobs:
            outcomes.append(import_one(job, out, config))
            bar.update()
    else:
        # spawn: MediaPipe and torch threads do not survive fork.
        pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_worker_init)
        try:
            for outcome in pool.imap_unordered(_run, [(job, out, config) for job in jobs]):
                outcomes.append(outcome)
                bar.update()
        except KeyboardInterrupt:
            # Stop at once; a clip cut off mid-write leaves only temporary files, removed on resume.
            pool.terminate()
            raise
        finally:
            pool.close()
            pool.join()
    bar.close()
    dataset.compact()
    return sorted(outcomes, key=lambda o: o.video)
