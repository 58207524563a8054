"""Run stage II (text-to-video) and stage IV (capture) over many jobs: a local loop, or Ray.

On Ray, each synthesis actor loads one pipeline once and keeps it (one actor per GPU); videos
travel back as bytes, so no shared file system is needed, and capture runs as CPU tasks while
the GPUs go on sampling. The driver alone writes to the dataset, through `on_done`, one clip at
a time: an interrupted run leaves only finished clips, and the caller skips those on the next run.
"""
from __future__ import annotations

import dataclasses
import random
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..atomic import write_bytes
from ..errors import TalkstyleError
from .records import SynthClip
from ..vocab.attributes import Prompt
from .synth.base import SynthJob
from .synth.video_models import DiffusersVideoBackend, VideoModelOptions

# video path, job, whether the video carries speech audio -> captured motion (raise TalkstyleError
# when the video cannot be captured). A module-level function, so that Ray can ship it to workers.
CaptureFn = Callable[[Path, SynthJob, bool], SynthClip]


@dataclasses.dataclass
class SynthDone:
    """One finished job: its video in the dataset and, when capture ran and succeeded, its motion."""
    job: SynthJob
    video: Path
    has_speech_audio: bool
    clip: SynthClip | None = None
    capture_error: str | None = None


def plan_jobs(backend: str, n: int, seed: int, prompts: Sequence[Prompt] | None = None) -> list[SynthJob]:
    """n jobs: balanced stage I prompts (or the given ones) with the project's lines.

    A pure function of its arguments, and the plan for n is a prefix of the plan for more, so a
    rerun or a longer run finds the clips already made under the same ids. Each generated video
    shows a new face, so each clip is its own person.
    """
    from .prompts import sample_prompts
    from .lines import load_lines

    if n < 1:
        raise TalkstyleError(f"--n must be at least 1, got {n}")
    if prompts is not None and len(prompts) < n:
        raise TalkstyleError(f"--n {n} asks for more clips than the {len(prompts)} prompts given")
    prompts = list(prompts[:n]) if prompts is not None else sample_prompts(n, seed)
    lines = load_lines()
    rng = random.Random(f"video-lines-{seed}")
    jobs = []
    for i, prompt in enumerate(prompts):
        clip_id = f"{backend}-s{seed}-{i:06d}"
        jobs.append(SynthJob(clip_id, prompt, lines[rng.randrange(len(lines))], clip_id, seed * 1_000_003 + i))
    return jobs


def capture_generated(video: Path, job: SynthJob, has_speech_audio: bool) -> SynthClip:
    """Stage IV then III on one generated video: its motion (with the video's speech, if any)
    when it passes the filter; else a TalkstyleError saying why it was rejected."""
    from .capture import capture_video
    from .filter import check_clip

    try:
        motion = capture_video(video).motion
    except TalkstyleError:
        raise
    except Exception as e:  # noqa: BLE001 - one odd video must not stop a run of thousands
        raise TalkstyleError(f"capture failed: {e.__class__.__name__}: {e}") from None
    verdict = check_clip(motion)
    # Video-only models (Wan) have no speech by design: their clips serve upper face and head.
    reasons = [r for r in verdict.reasons if has_speech_audio or r != "no audio"]
    if reasons:
        raise TalkstyleError("; ".join(reasons))
    motion = dataclasses.replace(motion, metadata={**motion.metadata, "filter": verdict.measures})
    return SynthClip(motion, job.prompt, job.line if has_speech_audio else "", job.person,
                     has_speech_audio=has_speech_audio)


def _progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc="synth", unit="clip", dynamic_ncols=True)


def _capture(capture_fn: CaptureFn | None, video: Path, job: SynthJob, has_audio: bool
             ) -> tuple[SynthClip | None, str | None]:
    if capture_fn is None:
        return None, None
    try:
        return capture_fn(video, job, has_audio), None
    except TalkstyleError as e:
        return None, str(e)


def run_local(jobs: Sequence[SynthJob], options: VideoModelOptions, video_dir: Path,
              on_done: Callable[[SynthDone], None], capture_fn: CaptureFn | None = None) -> int:
    """Synthesize (and capture) the jobs one after another in this process. Returns clips done."""
    if not jobs:
        return 0
    backend = DiffusersVideoBackend(options)
    with _progress(len(jobs)) as bar:
        for job in jobs:
            video = backend.synthesize(job, video_dir).video
            clip, error = _capture(capture_fn, video, job, backend.has_speech_audio)
            on_done(SynthDone(job, video, backend.has_speech_audio, clip, error))
            bar.update()
    return len(jobs)


def capture_pending(pending: Sequence[SynthDone], capture_fn: CaptureFn,
                    on_done: Callable[[SynthDone], None]) -> int:
    """Capture videos made earlier without capture (`pending` carry job, video, audio flag)."""
    with _progress(len(pending)) as bar:
        for item in pending:
            clip, error = _capture(capture_fn, item.video, item.job, item.has_speech_audio)
            on_done(dataclasses.replace(item, clip=clip, capture_error=error))
            bar.update()
    return len(pending)


# ---------------------------------------------------------------------------------------- Ray
class _SynthWorker:
    """A Ray actor holding one loaded pipeline for its whole life."""

    def __init__(self, options: VideoModelOptions) -> None:
        import torch

        torch.set_num_threads(1)  # each actor holds one CPU; the heavy work is on its GPU
        # A failed load is kept and raised by the first call: a Ray task error carries the
        # TalkstyleError itself, an actor that died in __init__ only its text.
        self.backend, self.error = None, None
        try:
            self.backend = DiffusersVideoBackend(options)
        except TalkstyleError as e:
            self.error = e

    def synthesize(self, job: SynthJob) -> bytes:
        if self.error is not None:
            raise self.error
        with tempfile.TemporaryDirectory() as tmp:
            return self.backend.synthesize(job, Path(tmp)).video.read_bytes()


def _capture_task(capture_fn: CaptureFn, data: bytes, job: SynthJob, has_audio: bool
                  ) -> tuple[SynthClip | None, str | None]:
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / f"{job.clip_id}.mp4"
        video.write_bytes(data)
        return _capture(capture_fn, video, job, has_audio)


def _unwrap(e: Exception) -> Exception:
    """A TalkstyleError raised inside a Ray worker, as itself; anything else unchanged."""
    cause = getattr(e, "cause", None)
    return cause if isinstance(cause, TalkstyleError) else e


def run_ray(jobs: Sequence[SynthJob], options: VideoModelOptions, video_dir: Path,
            on_done: Callable[[SynthDone], None], capture_fn: CaptureFn | None = None,
            address: str | None = None, workers: int | None = None, num_cpus: int | None = None) -> int:
    """Synthesize on Ray actors (one per GPU, or `workers` CPU actors) and capture on CPU tasks.

    Joins the cluster at `address` ("auto" for `ray start` clusters), or reuses a running Ray
    session, or starts a local one with `num_cpus`. Returns the number of clips done.
    """
    try:
        import ray
    except ImportError:
        raise TalkstyleError("--ray needs Ray: pip install 'talkstyle[scale]'") from None
    if not jobs:
        return 0
    has_audio = options.spec.has_speech_audio
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                 log_to_driver=False)
    try:
        gpus = int(ray.cluster_resources().get("GPU", 0))
        if options.cpu_offload and not gpus:
            raise TalkstyleError("--cpu-offload needs CUDA GPUs; this Ray cluster has none")
        count = workers or max(gpus, 1)
        actor_cls = ray.remote(num_gpus=1 if gpus else 0, num_cpus=1)(_SynthWorker)
        actors = [actor_cls.remote(options) for _ in range(min(count, len(jobs)))]
        capture_remote = ray.remote(num_cpus=1)(_capture_task)
        return _drive(jobs, actors, capture_remote, capture_fn, has_audio, video_dir, on_done)
    except Exception as e:  # noqa: BLE001 - re-raised, TalkstyleErrors from workers unwrapped
        raise _unwrap(e) from None
    finally:
        if started:
            ray.shutdown()


def _drive(jobs: Sequence[SynthJob], actors: list, capture_remote, capture_fn: CaptureFn | None, has_audio: bool,
           video_dir: Path, on_done: Callable[[SynthDone], None]) -> int:
    """Keep every actor busy with one job; store each video as it arrives; collect captures."""
    import ray

    queue: Iterable[SynthJob] = iter(jobs)
    synth: dict = {}      # ref -> (actor, job)
    capture: dict = {}    # ref -> (job, video path)

    def feed(actor) -> None:
        job = next(queue, None)
        if job is not None:
            synth[actor.synthesize.remote(job)] = (actor, job)

    for actor in actors:
        feed(actor)
    done = 0
    with _progress(len(jobs)) as bar:
        while synth or capture:
            ready, _ = ray.wait(list(synth) + list(capture), num_returns=1)
            ref = ready[0]
            if ref in synth:
                actor, job = synth.pop(ref)
                data = ray.get(ref)
                feed(actor)
                video = video_dir / f"{job.clip_id}.mp4"
                write_bytes(video, data)
                if capture_fn is None:
                    on_done(SynthDone(job, video, has_audio))
                else:
                    capture[capture_remote.remote(capture_fn, data, job, has_audio)] = (job, video)
                    continue
            else:
                job, video = capture.pop(ref)
                clip, error = ray.get(ref)
                on_done(SynthDone(job, video, has_audio, clip, error))
            done += 1
            bar.update()
    return done
