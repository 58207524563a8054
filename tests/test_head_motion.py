"""The generated head, finished: smoothing, and the prompt's head-motion words."""
from __future__ import annotations

import numpy as np
import pytest

from talkstyle.face.motion import FaceMotion
from talkstyle.head_motion import apply_head_words, smooth_head


def generated(frames: int = 250) -> FaceMotion:
    rng = np.random.default_rng(0)
    t = np.arange(frames) / 25
    head = np.stack([0.05 + 0.02 * np.sin(2 * np.pi * 0.3 * t), 0.02 * np.sin(2 * np.pi * 0.2 * t + 1),
                     0.01 * rng.standard_normal(frames)], 1)
    return FaceMotion(rng.random((frames, 52)).astype(np.float32) * 0.3, head.astype(np.float32), 25.0)


def std_deg(m: FaceMotion) -> np.ndarray:
    return np.degrees(m.head.std(0))


def test_nod_and_shake_add_oscillation_on_their_axis():
    base = generated()
    nod, shake = apply_head_words(base, "nod", 0.5), apply_head_words(base, "shake", 0.5)
    assert std_deg(nod)[0] > 2 * std_deg(base)[0] and std_deg(nod)[1] == pytest.approx(std_deg(base)[1])
    assert std_deg(shake)[1] > 2 * std_deg(base)[1] and std_deg(shake)[0] == pytest.approx(std_deg(base)[0])
    assert np.array_equal(nod.weights, base.weights)
    # Nods are 1.5-2.5 Hz: most of the added pitch energy lies in that band.
    added = nod.head[:, 0] - base.head[:, 0]
    spectrum = np.abs(np.fft.rfft(added)) ** 2
    freqs = np.fft.rfftfreq(len(added), 1 / 25)
    assert spectrum[(freqs >= 1.2) & (freqs <= 2.8)].sum() > 0.7 * spectrum.sum()


def test_still_damps_motion_but_keeps_the_posture():
    base = generated()
    still = apply_head_words(base, "still")
    assert np.all(std_deg(still) < 0.1 * std_deg(base) + 1e-6)
    np.testing.assert_allclose(still.head.mean(0), base.head.mean(0), atol=1e-6)


def test_natural_leaves_the_motion_and_seed_repeats():
    base = generated()
    assert apply_head_words(base, "natural") is base
    a, b = apply_head_words(base, "nod", seed=3), apply_head_words(base, "nod", seed=3)
    assert np.array_equal(a.head, b.head)
    assert not np.array_equal(a.head, apply_head_words(base, "nod", seed=4).head)


def test_smoothing_removes_frame_jitter_and_keeps_slow_motion():
    base = generated()
    rng = np.random.default_rng(1)
    jittery = FaceMotion(base.weights, base.head + rng.normal(0, 0.01, base.head.shape).astype(np.float32), 25.0)
    smooth = smooth_head(jittery)
    second = lambda m: np.abs(np.diff(m.head, 2, axis=0)).mean()          # noqa: E731
    assert second(smooth) < 0.3 * second(jittery)
    # Nearer the clean slow (0.2-0.3 Hz) motion than the jittery input was; weights untouched.
    assert np.abs(smooth.head - base.head)[:, :2].mean() < 0.7 * np.abs(jittery.head - base.head)[:, :2].mean()
    assert np.array_equal(smooth.weights, jittery.weights)
