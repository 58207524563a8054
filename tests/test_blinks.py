"""face/blinks.py: generated blinks get the duration of a real one, and nothing else changes."""
from __future__ import annotations

import numpy as np

from talkstyle.face.blinks import EYES, BlinkShaper, blink_peaks, shape_blinks

FPS = 25.0


def lids(n: int = 60) -> np.ndarray:
    return np.zeros((n, 52), np.float32)


def above(curve: np.ndarray, level: float = 0.2) -> float:
    """Seconds the lid is more than `level` closed."""
    return float((curve > level).sum() / FPS)


def test_a_one_frame_blink_lasts_as_long_as_a_real_one():
    w = lids()
    w[20, list(EYES)] = 1.0                                  # the model's 40 ms flicker
    shaped = shape_blinks(w, FPS)
    for eye in EYES:
        assert 0.1 <= above(shaped[:, eye]) <= 0.16          # people: about 100-150 ms
        assert shaped[20, eye] == 1.0 and np.argmax(shaped[:, eye]) == 20
        rise, fall = np.flatnonzero(shaped[:20, eye] > 0.05), np.flatnonzero(shaped[21:, eye] > 0.05)
        assert len(rise) < len(fall)                         # falls fast, rises slowly
    other = np.delete(np.arange(52), list(EYES))
    assert np.array_equal(shaped[:, other], w[:, other])


def test_winks_long_closures_and_small_twitches_are_kept():
    w = lids()
    w[10, EYES[0]] = 0.9                                     # a wink: the left eye only
    w[30:45, list(EYES)] = 1.0                               # eyes shut for 0.6 s
    w[52, list(EYES)] = 0.3                                  # a twitch, not a blink
    shaped = shape_blinks(w, FPS)
    assert shaped[:, EYES[1]][:25].max() == 0.0 and above(shaped[:25, EYES[0]]) >= 0.1
    assert np.array_equal(shaped[30:45], w[30:45]) and above(shaped[25:50, EYES[0]]) <= 0.6 + 0.12
    assert np.array_equal(shaped[50:], w[50:])
    assert (shaped >= w).all()                               # closure is only ever added


def test_peaks_close_together_are_one_blink():
    w = lids()
    w[20, list(EYES)], w[22, list(EYES)] = 0.8, 1.0          # 80 ms apart: one blink with a dip
    w[40, list(EYES)] = 0.7                                  # 0.8 s later: another
    assert blink_peaks(w, FPS).tolist() == [22, 40]
    assert blink_peaks(lids(2), FPS).tolist() == []


def test_the_stream_shaper_gives_the_same_rise_without_looking_ahead():
    rng = np.random.default_rng(0)
    w = lids(80) + rng.uniform(0, 0.05, (80, 52)).astype(np.float32)   # small noise everywhere
    w[20, list(EYES)] = 1.0
    w[50, EYES[1]] = 0.8                                               # a wink
    shaper = BlinkShaper(FPS)
    streamed = np.stack([shaper(row) for row in w])
    offline = shape_blinks(w, FPS)
    for peak in (20, 50):                                              # from each peak on, as offline
        assert np.allclose(streamed[peak:peak + 6], offline[peak:peak + 6])
    assert np.array_equal(streamed[:20], w[:20])                       # before a peak: as generated
    assert above(streamed[:40, EYES[0]]) >= 0.12
    shaper.reset()
    assert np.array_equal(np.stack([shaper(row) for row in w[:20]]), w[:20])
