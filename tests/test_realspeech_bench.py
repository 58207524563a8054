"""The real-speech benchmark's parts: viseme AUC, pooling over phones, degradations that keep time,
the two baselines, the alignment cache and the transcript list."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from talkstyle import assets
from talkstyle.audio import load_audio
from talkstyle.audio.degrade import (
    FarField, apply_room, babble, distant_mic, far_field, lossy_codec, room_impulse_response, street_noise,
)
from talkstyle.audio.samples import PACKAGED
from talkstyle.vocab.attributes import Phone
from talkstyle.eval import realspeech
from talkstyle.eval.lipsync import CLOSED_MM, PhoneGaps, phone_gaps, pooled, viseme_auc
from talkstyle.eval.realspeech import (
    AlignmentCache, envelope_jaw, load_recordings, phone_mouth, speaking_rate, with_silences,
)
from talkstyle.face.arkit import INDEX
from talkstyle.face.rig import FaceRig

DEMO = assets.path("demo_speech.wav")
TSV = Path(__file__).resolve().parent.parent / "benchmarks" / "realspeech" / "transcripts.tsv"


@pytest.fixture(scope="module")
def demo() -> np.ndarray:
    return load_audio(DEMO)


def lag_of(reference: np.ndarray, other: np.ndarray, max_lag: int = 800) -> int:
    """Samples by which `other` lags `reference` (peak of the cross-correlation within +-max_lag)."""
    n = len(reference)
    xc = np.fft.irfft(np.fft.rfft(other, 2 * n) * np.conj(np.fft.rfft(reference, 2 * n)), 2 * n)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    return int(lags[np.argmax(xc[lags])])


# ---------------------------------------------------------------------- metrics
def test_viseme_auc_on_known_cases():
    assert viseme_auc([0.1, 0.2], [3.0, 4.0]) == 1.0          # every bilabial tighter than every vowel
    assert viseme_auc([3.0, 4.0], [0.1, 0.2]) == 0.0          # backwards
    assert viseme_auc([1.0, 3.0], [2.0, 4.0]) == 0.75         # 3 of the 4 pairs in order
    assert viseme_auc([2.0, 2.0], [2.0]) == 0.5               # ties count half
    assert np.isnan(viseme_auc([], [1.0]))
    rng = np.random.default_rng(0)                            # separable by 1 sd: AUC = Phi(1/sqrt 2) = 0.76
    assert viseme_auc(rng.normal(0, 1, 4000), rng.normal(1, 1, 4000)) == pytest.approx(0.76, abs=0.02)


def test_pooled_counts_phones_not_recordings():
    def gaps(bilabial, vowel_open, duration, lag):
        b = np.array(bilabial, float)
        return PhoneGaps(b, np.full(len(vowel_open), 5.0), np.array(vowel_open), b, np.full(3, 5.0),
                         2.0, lag, 0.5, duration)

    p = pooled([gaps([0.5], [True], 1.0, 0.0), gaps([3.0, 3.0, 3.0], [False, False, False], 3.0, 0.04)])
    assert p["num_bilabials"] == 4 and p["bilabial_closed_fraction"] == 0.25     # not (1 + 0) / 2
    assert p["vowel_open_fraction"] == 0.25
    assert p["lag_ms"] == pytest.approx(30.0)                                   # duration-weighted
    assert p["viseme_auc"] == pytest.approx((3 * 1.0 + 9 * 1.0) / 12)           # all gaps < 5 mm


def test_phone_gaps_reads_the_gap_at_phone_centres(demo):
    phones = [Phone("AA", 0.0, 0.2), Phone("M", 0.2, 0.3), Phone("AA", 0.3, 0.5)]
    fps = 1000.0                  # fine frames: the 10 ms grid never straddles a step
    t = np.arange(500) / fps
    opening = np.where((t >= 0.2) & (t < 0.3), 0.0, 8.0)
    g = phone_gaps(opening, fps, phones, demo[:8000])
    assert list(g.bilabial) == [0.0] and list(g.vowel) == [8.0, 8.0]
    assert len(g.bilabial_frames) == 10 and len(g.vowel_frames) == 40
    assert viseme_auc(g.bilabial_frames, g.vowel_frames) == 1.0


# ---------------------------------------------------------------------- degradations
def test_room_impulse_response_starts_at_the_direct_path():
    rir = room_impulse_response(np.random.default_rng(1), rt60=0.6, distance=3.0)
    assert rir[0] == 1.0 and np.argmax(np.abs(rir)) == 0
    assert len(rir) > 0.1 * 16000                        # a real tail, not just the direct sound


@pytest.mark.parametrize("codec", ["mp3", "opus"])
def test_lossy_codec_keeps_length_and_timing(demo, codec):
    out = lossy_codec(demo, codec, 24000)
    assert out.shape == demo.shape and out.dtype == np.float32
    assert lag_of(demo, out) == 0
    assert 0.0 < np.mean((out - demo) ** 2) < 0.2 * np.mean(demo ** 2)     # lossy, yet the same sound


def test_each_degradation_keeps_length_and_timing(demo):
    rng = np.random.default_rng(2)
    for out in (apply_room(demo, room_impulse_response(rng, 0.8, 3.5)),
                distant_mic(demo, -15.0, 250.0, 3400.0, rng)):
        assert out.shape == demo.shape and out.dtype == np.float32
        assert abs(lag_of(demo, out)) <= 2          # 0.1 ms; an uncompensated room at 3.5 m is 200 samples
    noise = street_noise(len(demo), rng)
    assert noise.shape == demo.shape and np.sqrt(np.mean(noise ** 2)) == pytest.approx(1.0, rel=1e-3)
    mix = babble([demo[::-1].copy(), demo[:5000]], len(demo), rng)
    assert mix.shape == demo.shape and np.isfinite(mix).all()


def test_far_field_keeps_timing_and_is_deterministic(demo):
    other = load_audio(DEMO)[::-1].copy()           # a "voice" that is not the speech itself
    a, pa = far_field(demo, 7, [other])
    b, pb = far_field(demo, 7, [other])
    c, _ = far_field(demo, 8, [other])
    assert a.shape == demo.shape and a.dtype == np.float32
    assert np.array_equal(a, b) and pa == pb and not np.array_equal(a, c)
    # The peak sits on the direct path; now and then a cluster of early reflections outweighs it by
    # a few ms. Uncompensated, the room alone would add 7-13 ms (110-200 samples), mp3 ~30 ms more.
    lags = [lag_of(demo, far_field(demo, seed, [other])[0]) for seed in range(6)]
    assert np.median(lags) == 0 and max(map(abs, lags)) <= 80
    quiet = np.sqrt(np.mean(a ** 2)) / np.sqrt(np.mean(demo ** 2))
    assert quiet < 0.5                              # a distant microphone is quieter
    # Fixed parameters are used as given (no draw).
    p = FarField(0.3, 1.0, 30.0, 30.0, 0.0, 100.0, 7000.0, "opus", 32000)
    assert far_field(demo, 0, None, p)[1] == p


# ---------------------------------------------------------------------- baselines
def test_envelope_jaw_baseline(demo):
    audio = np.concatenate([np.zeros(8000, np.float32), demo])
    n = round(len(audio) / 16000 * 25)
    m = envelope_jaw(audio, n)
    assert m.weights.shape == (n, 52) and m.fps == 25.0
    jaw = m.weights[:, INDEX["jawOpen"]]
    others = np.delete(m.weights, INDEX["jawOpen"], axis=1)
    assert not others.any() and jaw.max() == pytest.approx(0.5) and jaw[:10].max() == 0.0   # shut in the silence
    assert jaw[15:].std() > 0.05


def test_phone_mouth_baseline_shuts_on_bilabials_and_opens_on_vowels():
    phones = [Phone("AA", 0.2, 0.4), Phone("M", 0.4, 0.5), Phone("AA", 0.5, 0.7), Phone("P", 0.8, 0.88)]
    n = 30
    m = phone_mouth(phones, n)
    assert m.weights.shape == (n, 52)
    gap = FaceRig.default().mouth_opening(m)
    assert gap[int(0.45 * 25)] < CLOSED_MM and gap[int(0.84 * 25)] < CLOSED_MM
    assert gap[int(0.3 * 25)] > 4.0 and gap[int(0.6 * 25)] > 4.0
    assert gap[0] < CLOSED_MM and gap[-1] < CLOSED_MM          # rests in the filled silences


def test_with_silences_and_speaking_rate():
    phones = [Phone("B", 0.1, 0.2), Phone("AA", 0.2, 0.4), Phone("T", 0.6, 0.7)]
    filled = with_silences(phones, 1.0)
    assert [p.symbol for p in filled] == ["", "B", "AA", "", "T", ""]
    assert filled[0].start == 0.0 and filled[-1].end == 1.0
    assert speaking_rate(phones) == pytest.approx(1 / 0.6)


# ---------------------------------------------------------------------- cache and transcripts
def test_alignment_cache_aligns_once(tmp_path, monkeypatch, demo):
    calls = []

    def fake_align(audio, text):
        calls.append(text)
        return [Phone("M", 0.1, 0.2)]

    monkeypatch.setattr(realspeech, "align_phones", fake_align)
    cache = AlignmentCache(tmp_path)
    assert cache.phones(demo, "hello") == ([Phone("M", 0.1, 0.2)], False)
    assert cache.phones(demo, "hello") == ([Phone("M", 0.1, 0.2)], True)
    assert cache.phones(demo, "hello there")[1] is False                 # another text, another key
    assert cache.phones(demo[1:], "hello")[1] is False                    # another audio, another key
    assert calls == ["hello", "hello there", "hello"]
    (tmp_path / f"{cache.key(demo, 'hello')}.json").write_text("not json")   # a broken entry is redone
    assert cache.phones(demo, "hello")[1] is False and len(calls) == 4


def test_transcripts_list_every_recording_with_licence_and_alignable_text():
    from talkstyle.eval.lipsync import _words

    recs = load_recordings(TSV)
    ids = [r.id for r in recs]
    assert len(ids) == len(set(ids)) and sum(i.startswith("LJ001-") for i in ids) == 32
    assert {"jfk", "arctic_a0007", *PACKAGED} <= set(ids)
    for r in recs:
        assert r.licence and r.source and r.text, r.id
        assert r.location.split(":")[0] in ("realspeech", "sample"), r.id
        if r.location.startswith("sample:"):
            assert r.location[7:] in PACKAGED or r.location[7:] == "arctic_a0007"
        # Every word of the aligner's text is in its dictionary (an unknown word is dropped and shifts the rest).
        import re

        words = re.findall(r"[a-z]+(?:'[a-z]+)?", (r.align_text or r.text).lower())
        assert _words(r.align_text or r.text) == words, r.id
