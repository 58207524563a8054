"""Metrics on hand-made vertex sequences with answers worked out by hand."""
import numpy as np
import pytest

from talkstyle.eval import metrics as M


def _seq(T=4, V=5):
    rng = np.random.default_rng(0)
    return rng.normal(size=(T, V, 3))


def test_mve_and_mse_of_a_constant_offset():
    gt = _seq()
    pred = gt + np.array([3.0, 4.0, 0.0])  # every vertex 5 mm away
    assert M.mve(pred, gt) == pytest.approx(5.0)
    assert M.vertex_mse(pred, gt) == pytest.approx(25.0)
    assert M.mve(gt, gt) == 0.0


def test_lve_takes_the_worst_lip_vertex_per_frame():
    gt = np.zeros((2, 4, 3))
    pred = gt.copy()
    pred[0, 1, 0] = 2.0   # frame 0: lip vertex 1 off by 2 mm
    pred[0, 2, 0] = 1.0   # smaller error on another lip vertex: ignored by the max
    pred[1, 3, 1] = 10.0  # frame 1: vertex 3 is not a lip vertex
    lips = np.array([1, 2])
    # frame 0: max squared = 4, frame 1: 0 -> mean 2
    assert M.lve(pred, gt, lips) == pytest.approx(2.0)
    assert M.lve_euclidean(pred, gt, lips) == pytest.approx(1.0)


def test_fdd_is_zero_for_identical_dynamics_and_signed():
    template = np.zeros((3, 3))
    t = np.linspace(0, 2 * np.pi, 50)
    gt = np.zeros((50, 3, 3))
    gt[:, 0, 1] = np.sin(t)           # upper vertex 0 moves
    still = np.zeros_like(gt)
    upper = np.array([0, 1])
    assert M.fdd(gt, gt, template, upper) == pytest.approx(0.0)
    # gt moves, prediction is still: positive deviation equal to gt's dynamics
    expected = np.std(np.sin(t) ** 2) / 2  # vertex 0 has the dynamics, vertex 1 none, mean of 2
    assert M.fdd(still, gt, template, upper) == pytest.approx(expected)
    assert M.fdd(gt, still, template, upper) == pytest.approx(-expected)


def test_mod_measures_the_inner_lip_gap_difference():
    gt = np.zeros((3, 2, 3))
    gt[:, 1, 1] = [-2.0, -4.0, -6.0]  # lower lip (1) below the upper lip (0): gaps 2, 4, 6
    pred = np.zeros((3, 2, 3))
    pred[:, 1, 1] = [-1.0, -4.0, -9.0]  # gaps 1, 4, 9 -> |diff| 1, 0, 3
    assert M.mod(pred, gt, 0, 1) == pytest.approx(4.0 / 3.0)


def test_diversity_zero_for_copies_positive_otherwise():
    a = _seq()
    assert M.diversity([a, a.copy()]) == 0.0
    assert M.diversity([a, a + 1.0]) == pytest.approx(np.sqrt(a[0].size))  # every coordinate +1
    with pytest.raises(ValueError):
        M.diversity([a])
