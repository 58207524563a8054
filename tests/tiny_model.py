"""A tiny real dataset (procedural actor) and a tiny trained generator, built once per test session.

Shared by test_train.py and test_animate.py; everything is real (espeak-ng speech, the dataset
store, the mel audio encoder, MiniLM prompts, the training loop), only small.
"""
from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

LINES = ["Papa bought a big blue boat by the bay.", "Open the window and wait for me.",
         "What a marvellous morning it is.", "Bob made maps of the harbour."]


@functools.cache
def workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="talkstyle-tiny-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def tiny_dataset() -> Path:
    """8 clips: 6 train (3 persons), 2 val (1 person)."""
    from talkstyle.data.prompts import sample_prompts
    from talkstyle.data.store import Dataset
    from talkstyle.data.synth.base import SynthJob
    from talkstyle.data.synth.procedural import ProceduralBackend

    root = workdir() / "data"
    ds = Dataset(root, create=True)
    backend = ProceduralBackend()
    for i, prompt in enumerate(sample_prompts(8, seed=3)):
        job = SynthJob(f"t{i}", prompt, LINES[i % len(LINES)], f"person{i // 2}", seed=i)
        ds.add(backend.synthesize(job, root).clip, clip_id=job.clip_id, split="val" if i >= 6 else "train")
    return root


@functools.cache
def tiny_checkpoint() -> Path:
    """The tiny config trained for a few steps on the tiny dataset, with the mel encoder."""
    from talkstyle.train import train

    return train(tiny_dataset(), workdir() / "run", config="tiny", steps=4, audio_encoder="mel", seed=0)
