"""The capture refiner: its training examples (rendered, tracked, resumable), training, the
shipped refiner on a take it never saw, and its file format."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow           # trains models or builds datasets


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """Two examples built, one deleted and the build run again (a resumed build)."""
    from talkstyle.data.capture.examples import build

    folder = tmp_path_factory.mktemp("examples")
    build(folder, 2, workers=1)
    first = folder / "example00000.npz"
    second = folder / "example00001.npz"
    before = np.load(second)["points"].copy()
    stamp = first.stat().st_mtime_ns
    second.unlink()
    build(folder, 2, workers=1)
    return folder, stamp, before


def test_example_build_resumes_and_is_deterministic(examples):
    from talkstyle.data.capture.examples import Example

    folder, stamp, before = examples
    assert (folder / "example00000.npz").stat().st_mtime_ns == stamp      # kept, not rebuilt
    again = Example.load(folder / "example00001.npz")
    assert np.allclose(again.track.points, before, equal_nan=True)     # rebuilt the same
    assert again.track.found.all() and again.truth.num_frames == again.track.num_frames
    assert not list(folder.glob("*.tmp.npz"))


def test_training_learns_its_examples(examples, tmp_path):
    """On the examples it trains on, the refiner ends closer to the truth than the MAP fit."""
    from talkstyle.data.capture.refine import Refiner, fit_examples, train

    fitted = fit_examples(examples[0])
    result = train(fitted, tmp_path / "refiner.npz", epochs=60, val_share=0.5, threads=1)
    assert result["train_mae"] < 0.8 * result["train_mae_map"], result
    refiner = Refiner.load(tmp_path / "refiner.npz")
    fit, angles, fps, truth = fitted[0]
    w = refiner(fit, angles, fps)
    assert w.shape == fit.weights.shape and w.min() >= 0 and w.max() <= 1


def test_shipped_refiner_beats_the_map_fit_on_an_unseen_take():
    """An example index far beyond the training set's: another prompt, person, face, light, pose."""
    from talkstyle.data.capture import OBSERVABLE, fit_track
    from talkstyle.data.capture.examples import make_example
    from talkstyle.data.capture.refine import default_refiner
    from talkstyle.face.arkit import INDEX

    ex = make_example(100_000)
    tf = fit_track(ex.track)
    truth = ex.truth.weights[ex.track.found]
    refined = default_refiner()(tf.fit, tf.angles, ex.track.fps)
    mae = lambda w: np.abs(w - truth)[:, OBSERVABLE].mean()           # noqa: E731
    assert mae(refined) < mae(tf.fit.weights), (mae(refined), mae(tf.fit.weights))
    jaw = INDEX["jawOpen"]
    assert np.corrcoef(refined[:, jaw], truth[:, jaw])[0, 1] > 0.85
    unobservable = np.setdiff1d(np.arange(52), OBSERVABLE)
    assert (refined[:, unobservable] == 0).all()


def test_refiner_file_round_trip(tmp_path):
    from talkstyle.data.capture.fit import Fit
    from talkstyle.data.capture.refine import Refiner, default_refiner

    rng = np.random.default_rng(0)
    fit = Fit(rng.uniform(0, 0.5, (7, 52)), np.zeros((468, 3)),
              rng.normal(0, 2, (7, 468, 3)))
    angles = rng.normal(0, 0.2, (7, 3))
    default_refiner().save(tmp_path / "r.npz")
    again = Refiner.load(tmp_path / "r.npz")
    assert np.allclose(again(fit, angles, 25.0), default_refiner()(fit, angles, 25.0), atol=1e-5)


def test_refiner_context_is_in_seconds():
    """A video at 50 fps with every frame shown twice gets the refined weights of the 25 fps one."""
    from talkstyle.data.capture.fit import Fit
    from talkstyle.data.capture.refine import default_refiner

    rng = np.random.default_rng(1)
    fit = Fit(rng.uniform(0, 0.5, (20, 52)), np.zeros((468, 3)), rng.normal(0, 2, (20, 468, 3)))
    angles = rng.normal(0, 0.2, (20, 3))
    doubled = Fit(np.repeat(fit.weights, 2, 0), fit.neutral, np.repeat(fit.rest, 2, 0))
    slow = default_refiner()(fit, angles, 25.0)
    fast = default_refiner()(doubled, np.repeat(angles, 2, 0), 50.0)
    assert np.allclose(fast[::2], slow, atol=1e-6)
