"""`talkstyle data build`: plan balanced jobs, synthesize them in worker processes, store them.

The plan is a pure function of the seed: balanced prompts (stage I) x lines x persons whose
gender and age group match the prompt's subject. Clip ids follow the plan, so a rerun (after
Ctrl-C, kill -9 or a failed job) skips the clips that have a manifest row and does the rest;
more hours with the same seed extend the same plan. Workers write their clips into the store
themselves (atomic files, row last); the parent only counts and compacts the manifest.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import itertools
import os
import random
import signal
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import TalkstyleError
from .augment import augment_clip
from .prompts import iter_prompts
from .store import SPLIT_FRACTIONS, Dataset
from .synth.base import SynthBackend, SynthJob
from .lines import load_lines

BACKENDS = {"procedural": "talkstyle.data.synth.procedural:ProceduralBackend"}
AGE_GROUPS = ("child", "young", "adult", "senior")
WORDS_PER_SECOND = 3.2          # the procedural actor, measured; plans hours before anything is spoken
COMPACT_EVERY = 100             # clips between manifest compactions
PLAN_VERSION = 3                # bump when the same seed would plan different clips (resume must not mix)
LONG_TAKE_SHARE = 0.06          # jobs that are long takes: several lines in one breath, 30-60 s
LONG_TAKE_LINES = (4, 8)
MAX_HOURS = 1000.0              # a plan is made up front: more would take hours of planning and GBs
MAX_PERSONS_PER_GROUP = 1000
MAX_WORKERS = 256


@dataclasses.dataclass(frozen=True)
class Person:
    id: str
    gender: str
    age_group: str
    split: str


def person_pool(seed: int, per_group: int = 8) -> list[Person]:
    """`per_group` synthetic persons per gender x age group, split 80/10/10 inside every group
    (at least one val and one test person each), so every split holds every kind of subject."""
    if per_group < 3:
        raise TalkstyleError("a build needs at least 3 persons per group (train, val, test)")
    if per_group > MAX_PERSONS_PER_GROUP:
        raise TalkstyleError(f"--persons-per-group must be at most {MAX_PERSONS_PER_GROUP}, got {per_group}")
    rng = random.Random(f"persons-{seed}")
    n_val = n_test = max(1, round(per_group * SPLIT_FRACTIONS[2]))
    splits = ["test"] * n_test + ["val"] * n_val + ["train"] * (per_group - n_val - n_test)
    pool = []
    for gender, age in itertools.product(("female", "male"), AGE_GROUPS):
        order = splits[:]
        rng.shuffle(order)
        pool += [Person(f"s{seed}-{gender[0]}{age[:2]}{i:02d}", gender, age, order[i]) for i in range(per_group)]
    return pool


@dataclasses.dataclass(frozen=True)
class PlannedClip:
    job: SynthJob
    split: str
    augment: str                 # "" or "nod" / "shake": also store an augmented copy
    estimated_s: float


def plan(hours: float, seed: int, persons: list[Person], augment_frac: float = 0.2) -> list[PlannedClip]:
    """Jobs until the estimated speech reaches `hours`. A prefix of the plan for more hours."""
    from ..validate import number

    # `hours <= 0` alone lets NaN through (and NaN or inf never ends the loop below).
    hours = number("--hours", hours, 0.0, MAX_HOURS, lo_open=True)
    augment_frac = number("--augment-frac", augment_frac, 0.0, 1.0)
    by_kind = {(g, a): [p for p in persons if (p.gender, p.age_group) == (g, a)]
               for g, a in itertools.product(("female", "male"), AGE_GROUPS)}
    # Independent seeded streams, so each sequence is the same whatever the plan's length.
    line_rng, person_rng, aug_rng = (random.Random(f"{name}-{seed}") for name in ("lines", "persons", "augment"))
    lines = _cycle_shuffled(load_lines(), line_rng)
    turns = {k: _cycle_shuffled(v, random.Random(f"{k}-{seed}-{person_rng.random()}")) for k, v in by_kind.items()}
    out, total = [], 0.0
    for i, prompt in enumerate(iter_prompts(seed)):
        if total >= hours * 3600:
            break
        a = prompt.attributes
        person = next(turns[(a.gender, a.age_group)])
        long_take = line_rng.random() < LONG_TAKE_SHARE
        line = " ".join(next(lines) for _ in range(line_rng.randint(*LONG_TAKE_LINES) if long_take else 1))
        est = len(line.split()) / WORDS_PER_SECOND + 0.5
        roll, kind = aug_rng.random(), aug_rng.choice(("nod", "shake"))
        augment = kind if roll < augment_frac and a.head_motion in ("still", "natural") else ""
        job = SynthJob(clip_id=f"c{i:06d}", prompt=prompt, line=line, person=person.id, seed=seed * 1_000_003 + i)
        out.append(PlannedClip(job, person.split, augment, est))
        total += est
    return out


def _cycle_shuffled(items, rng: random.Random) -> Iterator:
    """Endless passes over `items`, each in a fresh shuffled order (balanced use of every item)."""
    items = list(items)
    while True:
        rng.shuffle(items)
        yield from items


# ------------------------------------------------------------------ running jobs
def load_backend(spec: str, voices: tuple[str, ...] | None = None) -> SynthBackend:
    """A backend from a short name ("procedural") or "module:Class"; `voices` go to backends
    that take them (the procedural actor)."""
    path = BACKENDS.get(spec, spec)
    module, _, cls = path.partition(":")
    try:
        factory = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError, ValueError) as e:
        raise TalkstyleError(f"unknown synthesis backend {spec!r} ({e})") from None
    takes_voices = voices is not None and "voices" in inspect.signature(factory).parameters
    return factory(voices=voices) if takes_voices else factory()


_worker: dict = {}   # this process's dataset, backend and options (one per worker process)


def _setup(root: str, backend: str, voices: tuple[str, ...], render: bool) -> None:
    if _worker.get("key") != (root, backend, voices):
        _worker.update(key=(root, backend, voices), dataset=Dataset(root), backend=load_backend(backend, voices))
    _worker["render"] = render


def _init_worker(root: str, backend: str, voices: tuple[str, ...], render: bool) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it, letting running clips finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _setup(root, backend, voices, render)
    parent = os.getppid()

    def watch_parent() -> None:  # a build killed with -9 must not leave its workers running
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch_parent, daemon=True).start()


def run_clip(item: PlannedClip) -> float:
    """Synthesize, store and (if planned) augment one clip. Returns seconds of data stored."""
    ds, backend = _worker["dataset"], _worker["backend"]
    job = item.job
    with tempfile.TemporaryDirectory(prefix="talkstyle-synth-") as tmp:
        tmp = Path(tmp)
        result = backend.synthesize(job, tmp)
        if result.clip is None:
            raise TalkstyleError(f"backend {backend.name!r} returned no motion for {job.clip_id}; "
                                 "video-only backends go through `talkstyle data synth` (capture)")
        clip = result.clip
        stored = clip.motion.duration
        if item.augment:
            # The augmented copy first: the source's row marks the pair as done.
            rng = np.random.default_rng([job.seed, 7])
            aug = augment_clip(clip, item.augment, rng)
            ds.add(aug, f"{job.clip_id}-{item.augment}", backend.name, augmented=item.augment,
                   source_clip=job.clip_id, split=item.split, video=_preview(aug, tmp / "augmented.mp4"))
            stored += aug.motion.duration
        video = result.video or _preview(clip, tmp / "preview.mp4")
        ds.add(clip, job.clip_id, backend.name, split=item.split, video=video)
    return stored


def _preview(clip, path: Path) -> Path | None:
    """With --render: the clip's preview mp4 (rig render with its audio and prompt), else None."""
    if not _worker["render"]:
        return None
    from .synth.procedural import render_clip

    return render_clip(clip, path)


@dataclasses.dataclass
class BuildSummary:
    planned: int
    skipped: int
    done: int
    failed: list[str]
    seconds_stored: float
    wall_s: float
    voices: tuple[str, ...] = ()
    damaged: list[str] = dataclasses.field(default_factory=list)   # found on resume, remade


def build(out: str | Path, hours: float, seed: int = 0, workers: int = 1, backend: str = "procedural",
          augment_frac: float = 0.2, persons_per_group: int = 8, render: bool = False,
          progress: bool = True, voices: str = "all") -> BuildSummary:
    """Build (or resume, or extend) a dataset folder. Safe to interrupt at any moment.
    `render` also writes a preview mp4 per clip (clips/<id>.mp4; much slower). `voices`: 'all'
    (every installed voice), 'espeak', or a comma list (voices.py); a resumed build keeps the
    voices it started with."""
    from .synth.voices import resolve_voices

    from ..validate import integer, number, seed as check_seed

    integer("--workers", workers, 1, MAX_WORKERS)
    check_seed(seed)
    number("--hours", hours, 0.0, MAX_HOURS, lo_open=True)
    out = Path(out)
    previous = Dataset(out).config() if (out / "dataset.json").is_file() else {}
    # Fail on bad settings before anything is written.
    voice_set = resolve_voices(",".join(previous["voices"]) if "voices" in previous else voices)
    load_backend(backend, voice_set)
    persons = person_pool(seed, persons_per_group)
    items = plan(hours, seed, persons, augment_frac)
    if out.exists() and not out.is_dir():
        raise TalkstyleError(f"output folder is a file: {out}")
    if out.is_dir() and any(out.iterdir()) and not (out / "dataset.json").is_file() and not (out / "rows").is_dir():
        raise TalkstyleError(f"{out} exists and is not a talkstyle dataset; choose an empty or new folder")
    ds = Dataset(out, create=True)
    config = ds.config()
    settings = {"plan_version": PLAN_VERSION, "seed": seed, "backend": backend,
                "persons_per_group": persons_per_group, "augment_frac": augment_frac, "voices": list(voice_set)}
    for key, value in settings.items():
        if config and config.get(key) != value:
            raise TalkstyleError(f"{out} was built with {key}={config.get(key)!r}, not {value!r}: "
                                 "use the same settings to resume or extend it, or another folder")
    ds.write_config({**settings, "format": 1, "hours": max(hours, config.get("hours", 0)),
                     "persons": {p.id: {"gender": p.gender, "age_group": p.age_group, "split": p.split}
                                 for p in persons}})
    ds.clean_partial()
    todo, damaged = _still_to_do(ds, items, progress)
    summary = BuildSummary(len(items), len(items) - len(todo), 0, [], 0.0, 0.0, voice_set, damaged)
    t0 = time.perf_counter()
    from tqdm import tqdm

    bar = tqdm(total=len(items), initial=summary.skipped, desc="build", unit="clip", disable=not progress,
               dynamic_ncols=True)
    try:
        for clip_id, stored, error in _execute(todo, str(out), backend, voice_set, workers, render):
            if error:
                summary.failed.append(f"{clip_id}: {error}")
                bar.write(f"failed {clip_id}: {error}")
            else:
                summary.done += 1
                summary.seconds_stored += stored
            bar.update()
            if summary.done and summary.done % COMPACT_EVERY == 0:
                ds.compact()
    finally:
        bar.close()
        ds.compact()
    summary.wall_s = time.perf_counter() - t0
    return summary


def _still_to_do(ds: Dataset, items: list[PlannedClip], progress: bool) -> tuple[list[PlannedClip], list[str]]:
    """The planned clips not stored intact. A stored clip is skipped only when its row reads and
    its files match the row (size, checksum); a damaged one (a truncated file, a broken row) is
    removed and made again."""
    from tqdm import tqdm

    todo, damaged = [], []
    for it in tqdm(items, desc="checking stored clips", unit="clip", disable=not progress, leave=False):
        ids = [it.job.clip_id] + ([f"{it.job.clip_id}-{it.augment}"] if it.augment else [])
        if not ds.has(ids[0]):
            todo.append(it)
            continue
        problems = [f"{cid}: {p}" for cid in ids if (p := ds.problem(cid))]
        if problems:
            damaged += problems
            for cid in ids:
                ds.remove(cid)
            todo.append(it)
    return todo, damaged


def _execute(todo: list[PlannedClip], root: str, backend: str, voices: tuple[str, ...], workers: int,
             render: bool) -> Iterator[tuple[str, float, str]]:
    """(clip id, seconds stored, error or "") per job, in this process or in spawned workers."""
    if workers == 1:
        _setup(root, backend, voices, render)
        for it in todo:
            yield it.job.clip_id, *_guarded(it)
        return
    # One core per worker: the machine is shared. Spawned workers read these before numpy loads.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    queue = iter(todo)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker,
                             initargs=(root, backend, voices, render)) as pool:
        try:
            # A few jobs per worker in flight: an interrupt loses little and memory stays flat.
            running = {pool.submit(_guarded, it): it.job.clip_id for it in itertools.islice(queue, 4 * workers)}
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for f in finished:
                    yield running.pop(f), *f.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        running[pool.submit(_guarded, nxt)] = nxt.job.clip_id
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _guarded(item: PlannedClip) -> tuple[float, str]:
    """Run one clip; a failure is reported, not raised, so one bad job does not stop the build."""
    try:
        return run_clip(item), ""
    except TalkstyleError as e:
        return 0.0, str(e)
    except Exception as e:  # a backend bug: record it and go on; the clip is retried on the next run
        return 0.0, f"{e.__class__.__name__}: {e}"
