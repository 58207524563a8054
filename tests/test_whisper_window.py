"""Whisper on a short sliding window (the stream's lip-contact features): pushed in any chunks,
a stream gets exactly the whole-clip computation that training reads."""
import numpy as np
import pytest

from talkstyle import assets
from talkstyle.audio import load_audio
from talkstyle.audio.whisper_window import DIM, WhisperWindow, encode_window, window_features

SR = 16000


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return load_audio(assets.path("demo_speech.wav"))[:SR]


def test_stream_in_random_chunks_equals_the_whole_clip(speech):
    whole = window_features(speech, 25, lookahead=3, window=20)
    ww, rng, rows, i = WhisperWindow(lookahead=3, window=20), np.random.default_rng(0), [], 0
    while len(rows) < 25:
        n = int(rng.integers(1, 1500))
        chunk = speech[i:i + n] if i < len(speech) else np.zeros(n, np.float32)   # silence past the end
        ww.push(chunk)
        i += n
        while len(rows) < min(25, ww.ready()):
            rows.append(ww.features(len(rows)))
    assert whole.shape == (25, DIM) and np.abs(np.stack(rows) - whole).max() < 1e-4
    assert len(ww._audio) <= (20 + 2) * 640 + 1500      # only the window is kept
    with pytest.raises(ValueError, match="not in the window"):
        ww.features(0)


def test_a_frame_hears_its_look_ahead_and_nothing_later(speech):
    base = window_features(speech, 20, lookahead=3, window=20)
    changed = speech.copy()
    changed[15 * 640:] = 0                 # frames 15 on: silence
    after = window_features(changed, 20, lookahead=3, window=20)
    assert np.array_equal(base[:12], after[:12])           # frame 11's window ends with frame 14
    assert not np.allclose(base[12], after[12])             # frame 12's holds frame 15


def test_hop_keeps_the_rows_of_each_pass(speech):
    """Training data encodes once per two frames: even frames then hear one frame further ahead."""
    hop1 = window_features(speech, 12, lookahead=3, window=20)
    hop2 = window_features(speech, 12, lookahead=3, window=20, hop=2)
    assert np.allclose(hop1[1::2], hop2[1::2], atol=1e-4)
    assert encode_window(speech[:640 * 5]).shape == (5, DIM)
