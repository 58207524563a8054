"""Lip sync on real speech: Whisper transcript, pocketsphinx alignment, scores that can tell good from bad."""
from __future__ import annotations


import numpy as np
import pytest

from real_speech import load_speech, transcript
from talkstyle import assets
from talkstyle.audio import load_audio
from talkstyle.errors import TalkstyleError
from talkstyle.eval.lipsync import (
    BILABIALS, OPEN_VOWELS, align_phones, best_lag, lipsync_report, pause_segments, score, speech_envelope,
)
from talkstyle.face.arkit import INDEX
from talkstyle.face.motion import FaceMotion

DEMO = assets.path("demo_speech.wav")       # CMU ARCTIC a0007
DEMO_TEXT = "and you always want to see it in the superlative degree"


def motion_from_phones(phones, num_frames: int, shift_s: float = 0.0) -> FaceMotion:
    """A mouth that opens on vowels (widest on open ones) and shuts on bilabials, `shift_s` late."""
    t = np.arange(num_frames) / 25
    jaw = np.zeros(num_frames)
    closure = np.ones(num_frames)
    for p in phones:
        bump = np.exp(-0.5 * ((t - (p.start + p.end) / 2 - shift_s) / 0.04) ** 2)
        if p.symbol in BILABIALS:
            closure *= 1 - bump
        else:
            jaw += (0.5 if p.symbol in OPEN_VOWELS else 0.2) * bump
    jaw *= closure
    weights = np.zeros((num_frames, 52))
    weights[:, INDEX["jawOpen"]] = np.clip(jaw, 0, 1)
    return FaceMotion(weights, np.zeros((num_frames, 3)))


@pytest.fixture(scope="module")
def demo():
    audio = load_audio(DEMO)
    return audio, align_phones(audio, DEMO_TEXT)


def test_best_lag_recovers_a_known_shift():
    rng = np.random.default_rng(0)
    env = np.convolve(rng.random(400), np.ones(10) / 10, mode="same")          # 4 s at 100 Hz
    opening_25 = np.interp(np.arange(100) / 25 - 0.12, np.arange(400) / 100, env)  # 120 ms late
    lag, corr = best_lag(opening_25, 25.0, env)
    assert lag == pytest.approx(0.12, abs=0.011) and corr > 0.9


def test_speech_envelope_follows_loudness():
    audio = np.zeros(16000, np.float32)
    audio[8000:] = 0.5 * np.sin(np.arange(8000) / 5)
    env = speech_envelope(audio)
    assert len(env) == 100 and env[:45].max() < 0.01 and env[55:].min() > 0.3


def test_long_audio_is_cut_in_pauses():
    rng = np.random.default_rng(0)
    sound = np.concatenate([0.3 * rng.standard_normal(7 * 16000), np.zeros(8000)]).astype(np.float32)
    audio = np.tile(sound, 9)                                     # 67.5 s, a pause every 7.5 s
    cuts = pause_segments(audio, max_seconds=25.0, min_seconds=10.0)
    assert cuts[0][0] == 0 and cuts[-1][1] == len(audio)
    assert all(b - a <= 25 * 16000 for a, b in cuts) and all(cuts[i][1] == cuts[i + 1][0] for i in range(len(cuts) - 1))
    for _, b in cuts[:-1]:                                        # every cut lies in a pause
        assert (b % len(sound)) >= 7 * 16000
    assert pause_segments(audio[:20 * 16000]) == [(0, 20 * 16000)]


def test_alignment_of_real_speech(demo):
    audio, phones = demo
    assert len(phones) >= 30
    starts = [p.start for p in phones]
    assert starts == sorted(starts) and all(p.end > p.start for p in phones)
    assert phones[0].start > 0.2 and phones[-1].end <= len(audio) / 16000 + 1e-6  # leading silence left out
    # "superlative": its P lies between its S and the ER, about two thirds into the clip.
    p = next(ph for ph in phones if ph.symbol == "P")
    assert 2.0 < p.start < 2.6


def test_scores_prefer_in_sync_motion(demo):
    audio, phones = demo
    frames = round(len(audio) / 640)
    good = score(motion_from_phones(phones, frames), audio, phones)
    late = score(motion_from_phones(phones, frames, shift_s=0.2), audio, phones)
    assert good.num_bilabials == 1 and good.num_open_vowels >= 5
    assert good.bilabial_closed_fraction == 1.0 and late.bilabial_closed_fraction == 0.0
    assert good.bilabial_opening_ratio < 0.5 < late.bilabial_opening_ratio
    assert good.vowel_opening_ratio > 2.0 > late.vowel_opening_ratio
    assert abs(good.lag_ms) <= 40 and late.lag_ms == pytest.approx(200, abs=40)


def test_report_transcribes_real_speech():
    """The whole path with no transcript given: Whisper tiny.en, then alignment, then scores."""
    audio = load_speech("beckett")
    phones = align_phones(audio, transcript("beckett"))
    motion = motion_from_phones(phones, round(len(audio) / 640))
    report = lipsync_report(FaceMotion(motion.weights, motion.head, audio=audio, sample_rate=16000))
    words = set(report.transcript.lower().replace(",", " ").replace(".", " ").split())
    assert {"tried", "failed", "again", "better"} <= words
    assert report.num_bilabials >= 2 and report.bilabial_closed_fraction == 1.0
    assert report.vowel_open_fraction > 0.8 and abs(report.lag_ms) <= 60


def test_bad_input(demo):
    audio, _ = demo
    motion = FaceMotion.neutral(round(len(audio) / 640))
    with pytest.raises(TalkstyleError, match="needs the speech audio"):
        lipsync_report(motion)
    with pytest.raises(TalkstyleError, match="differ in length"):
        lipsync_report(FaceMotion.neutral(10), audio, DEMO_TEXT)
    with pytest.raises(TalkstyleError, match="no English words"):
        lipsync_report(motion, audio, "1234 ???")
    # A mouth that never moves: finite numbers, nothing closed-vs-open to credit.
    still = lipsync_report(motion, audio, DEMO_TEXT)
    assert still.vowel_open_fraction == 0.0 and still.lag_correlation == 0.0


def test_procedural_actor_ground_truth_scores_well():
    """The synthetic actor's exact ground truth on its own TTS audio (digital silence included)."""
    from talkstyle.vocab.attributes import Prompt, StyleAttributes
    from talkstyle.data.synth.person import PersonStyle
    from talkstyle.data.synth.procedural import perform

    line = "Bob paid for a pump and a big blue bag."
    clip = perform(Prompt("A person speaks.", StyleAttributes()), line, PersonStyle.from_id("p1", "male"), seed=1)
    assert clip.motion.sample_rate == 16000 and np.mean(clip.motion.audio == 0) > 0.1
    report = lipsync_report(clip.motion, transcript=line)
    assert report.num_bilabials == 9 and report.bilabial_closed_fraction >= 0.85
    assert report.vowel_opening_ratio > 1.5 and abs(report.lag_ms) <= 60
