"""`talkstyle data synth`: stage II with text-to-video models (LTX-2, Wan) into a dataset, locally or on Ray."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import TalkstyleError


def synth(
    backend: str = typer.Option(..., "--backend", help="ltx2 (video with speech audio) or wan (video only)."),
    model_dir: Path = typer.Option(..., "--model-dir", help="Local diffusers folder (model_index.json)."),
    out: Path = typer.Option(..., "-o", "--out", help="Dataset folder (created; an existing one is resumed)."),
    n: Optional[int] = typer.Option(None, "--n", help="Clips to make (default: 10, or every prompt of --prompts)."),
    seed: int = typer.Option(0, "--seed", help="Seeds the prompts, the lines and every clip's noise."),
    prompts: Optional[Path] = typer.Option(
        None, "--prompts", help="Prompts .jsonl from `talkstyle data prompts` (default: balanced, from --seed)."),
    dtype: str = typer.Option("bfloat16", "--dtype", help="float32, bfloat16 or float16."),
    cpu_offload: bool = typer.Option(False, "--cpu-offload", help="Keep idle components in CPU memory (GPU only)."),
    height: Optional[int] = typer.Option(None, "--height", help="Pixels (ltx2: 512, wan: 480)."),
    width: Optional[int] = typer.Option(None, "--width", help="Pixels (ltx2: 512, wan: 480)."),
    num_frames: Optional[int] = typer.Option(None, "--num-frames", help="Frames (ltx2: 121 (8k+1), wan: 81 (4k+1))."),
    fps: Optional[float] = typer.Option(None, "--fps", help="Frame rate (ltx2: 25, wan: 16)."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Denoising steps (ltx2: 40, wan: 50)."),
    guidance: Optional[float] = typer.Option(None, "--guidance", help="Guidance scale (ltx2: 3, wan: 5)."),
    capture: bool = typer.Option(True, "--capture/--no-capture",
                                 help="Capture and filter each video now; --no-capture leaves them pending."),
    ray: bool = typer.Option(False, "--ray", help="Run on Ray: one pipeline per GPU, capture on CPU tasks."),
    ray_address: Optional[str] = typer.Option(
        None, "--ray-address", help="Join this Ray cluster ('auto' on a `ray start` node) (default: a local one)."),
    workers: Optional[int] = typer.Option(None, "--workers",
                                          help="Synthesis actors with --ray (default: one per GPU)."),
) -> None:
    """Generate talking clips with a local text-to-video model, capture them, store them. Resumable."""
    from ..data.prompts import load_prompts
    from ..data.scale import SynthDone, capture_generated, capture_pending, plan_jobs, run_local, run_ray
    from ..data.store import Dataset
    from ..data.synth.video_models import VideoModelOptions, check_model_dir
    from ..data.synth.video_rows import CAPTURED, PENDING, REJECTED, VideoLog, store_done

    options = VideoModelOptions(backend, model_dir, dtype, cpu_offload, height, width, num_frames, fps, steps,
                                guidance).resolved()
    check_model_dir(options.model_dir, options.spec.pipeline_class)  # before anything is written
    if workers is not None and workers < 1:
        raise TalkstyleError(f"--workers must be at least 1, got {workers}")
    given = load_prompts(prompts) if prompts is not None else None
    jobs = plan_jobs(backend, n or (len(given) if given else 10), seed, given)
    if out.exists() and any(out.iterdir()) and not (out / "rows").is_dir():
        raise TalkstyleError(f"{out} exists and is not a talkstyle dataset; choose an empty or new folder")

    dataset = Dataset(out, create=True)
    dataset.clean_partial()
    log = VideoLog(out)
    log.clean_partial()
    capture_fn = capture_generated if capture else None
    todo, pending = [], []
    for job in jobs:
        if dataset.has(job.clip_id):
            continue
        row = log.get(job.clip_id)
        if row is None:
            todo.append(job)
        elif row.status == PENDING and capture_fn is not None:
            pending.append(SynthDone(job, out / row.video_path, row.has_speech_audio))

    def on_done(done: SynthDone) -> None:
        store_done(done, dataset, log, backend)

    try:
        if pending:
            capture_pending(pending, capture_fn, on_done)
        if ray:
            run_ray(todo, options, log.dir, on_done, capture_fn, address=ray_address, workers=workers)
        else:
            run_local(todo, options, log.dir, on_done, capture_fn)
    finally:
        dataset.compact()
    statuses = [row.status for row in map(log.get, (job.clip_id for job in jobs)) if row is not None]
    skipped = len(jobs) - len(todo) - len(pending)
    typer.echo(f"{len(todo)} videos made, {len(pending)} captured from earlier, {skipped} already done; "
               f"{statuses.count(CAPTURED)} in the manifest, {statuses.count(REJECTED)} rejected, "
               f"{statuses.count(PENDING)} pending capture -> {out}")

