"""Stage III filter: every check passes a good clip and fails with its own reason."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from talkstyle.data.filter import FilterConfig, best_lag_correlation, check_clip


@pytest.fixture(scope="module")
def clips():
    from talkstyle.text.parse import parse_prompt
    from talkstyle.vocab.attributes import Prompt
    from talkstyle.data.synth.person import PersonStyle
    from talkstyle.data.synth.procedural import perform

    text = "A man speaks with a calm expression."
    prompt = Prompt(text, parse_prompt(text, use_encoder=False))
    a = perform(prompt, "We walked along the river and talked about the old days.", PersonStyle.from_id("f1"), 1)
    b = perform(prompt, "Shh.", PersonStyle.from_id("f2"), 2)
    return a.motion, b.motion


def test_good_clip_passes(clips):
    res = check_clip(clips[0])
    assert res.passed, res.reason
    assert res.reason == "ok" and res.measures["sync_correlation"] > FilterConfig().min_sync


def test_lost_tracking_fails(clips):
    m = clips[0]
    conf = np.ones(m.num_frames, np.float32)
    conf[: m.num_frames // 10] = 0.0
    res = check_clip(dataclasses.replace(m, confidence=conf))
    assert not res.passed and "tracked in 90%" in res.reason


def test_turned_head_and_jumps_fail(clips):
    m = clips[0]
    turned = m.head.copy()
    turned[:, 1] = np.deg2rad(50)
    assert "head turned 50 deg" in check_clip(dataclasses.replace(m, head=turned)).reason
    jumpy = m.head.copy()
    jumpy[m.num_frames // 2:, 0] += np.deg2rad(20)
    res = check_clip(dataclasses.replace(m, head=jumpy))
    assert "jumps" in res.reason and "turned" not in res.reason


def test_duration_bounds(clips):
    m = clips[0]
    assert "duration" in check_clip(m, FilterConfig(max_seconds=1.0)).reason
    assert "duration" in check_clip(m.slice(0, 10)).reason


def test_mouth_must_follow_the_audio(clips):
    m = clips[0]
    silent = dataclasses.replace(m, audio=np.zeros_like(m.audio))
    assert "mouth does not follow the audio" in check_clip(silent).reason
    # Audio from another time correlates less than the clip's own. (One clip only: whether it
    # falls under the calibrated threshold is a matter of rates, see scripts/calibrate_sync.py.)
    reversed_audio = dataclasses.replace(m, audio=m.audio[::-1].copy())
    own = check_clip(m).measures["sync_correlation"]
    assert check_clip(reversed_audio).measures["sync_correlation"] < own
    assert "no audio" in check_clip(dataclasses.replace(m, audio=None, sample_rate=None)).reason
    still = dataclasses.replace(m, weights=np.zeros_like(m.weights))
    assert "mouth barely moves" in check_clip(still).reason


def test_best_lag_finds_the_shift():
    rng = np.random.default_rng(0)
    x = np.convolve(rng.standard_normal(200), np.ones(5), "same")
    r, lag = best_lag_correlation(x[2:], x[:-2], 2)          # b[t] leads: a[t] = b[t + 2]
    assert lag == 2 and r > 0.99
