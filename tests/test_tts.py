"""The speech engines (espeak-ng, piper) and the actor's voice rules: prosody by style words, singing."""
import os
import signal
import threading

import numpy as np
import pytest

from talkstyle.audio.tts import Prosody, speak
from talkstyle.data.synth.voice_rules import hold_vowels, is_vowel, shape_prosody, voice_name
from talkstyle.errors import TalkstyleError

LINE = "Maybe a big apple pie would make Bob happy."


@pytest.fixture(scope="module")
def speech():
    return speak(LINE, "en-us+m3", Prosody())


def test_audio_and_contiguous_phones_cover_the_audio(speech):
    assert speech.sample_rate == 16000 and speech.audio.dtype == np.float32
    assert 1.5 < speech.duration < 5 and np.abs(speech.audio).max() <= 1
    ph = speech.phones
    assert ph[0].start == 0 and abs(ph[-1].end - speech.duration) < 0.02
    assert all(a.end == pytest.approx(b.start) for a, b in zip(ph, ph[1:]))
    assert all(p.end > p.start for p in ph)
    spoken = "".join(p.symbol for p in ph)
    assert spoken.count("b") >= 3 and spoken.count("p") >= 2 and "m" in spoken


def vowel_contrast(speech) -> float:
    """Median loudness of the vowels over that of the pauses and p/b closures."""
    a, sr = speech.audio, speech.sample_rate

    def rms(p):
        mid, half = (p.start + p.end) / 2, min(0.02, (p.end - p.start) / 2)
        seg = a[int((mid - half) * sr):int((mid + half) * sr)]
        return float(np.sqrt((seg ** 2).mean())) if seg.size else 0.0

    vowels = [rms(p) for p in speech.phones if is_vowel(p.symbol)]
    quiet = [rms(p) for p in speech.phones if p.symbol in ("", "p", "b")]
    return float(np.median(vowels) / np.median(quiet))


def test_phone_times_follow_the_energy(speech):
    """Vowels are loud, pauses and stop closures quiet: the timings line up with the audio."""
    assert vowel_contrast(speech) > 3


def test_rate_and_text_length_set_the_duration():
    short = speak("Hello there.", "en-us+f2", Prosody(rate=170)).duration
    long = speak("Hello there, and welcome back to the morning show.", "en-us+f2", Prosody(rate=170)).duration
    slow = speak("Hello there, and welcome back to the morning show.", "en-us+f2", Prosody(rate=110)).duration
    assert long > 2 * short and slow > 1.3 * long


def test_prosody_follows_emotion_and_delivery():
    base = Prosody(rate=170, pitch=50, range=50, volume=100)
    sad, happy = shape_prosody(base, "sad", 1.0, "speaks"), shape_prosody(base, "happy", 1.0, "speaks")
    assert sad.rate < base.rate < happy.rate and sad.pitch < happy.pitch and sad.range < happy.range
    assert shape_prosody(base, "sad", 0.2, "speaks").rate > sad.rate          # intensity scales it
    assert shape_prosody(base, "neutral", 0.5, "shouts").volume > base.volume
    assert voice_name("f3", "female", "whispers") == "en-us+whisperf"
    loud = speak(LINE, "en-us+m3", shape_prosody(base, "angry", 1.0, "shouts")).audio
    whisper = speak(LINE, "en-us+whisper", shape_prosody(base, "neutral", 0.5, "whispers")).audio
    assert np.sqrt((loud ** 2).mean()) > 1.5 * np.sqrt((whisper ** 2).mean())


def test_singing_holds_vowels(speech):
    held = hold_vowels(speech, 2.0)
    vowel = [(a.end - a.start, b.end - b.start) for a, b in zip(speech.phones, held.phones) if is_vowel(a.symbol)]
    cons = [(a.end - a.start, b.end - b.start) for a, b in zip(speech.phones, held.phones) if not is_vowel(a.symbol)]
    assert sum(b for _, b in vowel) > 1.6 * sum(a for a, _ in vowel)
    assert sum(b for _, b in cons) == pytest.approx(sum(a for a, _ in cons), rel=0.01)
    assert abs(held.phones[-1].end - held.duration) < 0.01


def test_bad_input_is_a_clear_error():
    with pytest.raises(TalkstyleError):
        speak("   ")
    with pytest.raises(TalkstyleError):
        speak("hello", voice="no-such-voice+zz")
    with pytest.raises(TalkstyleError, match="nothing to pronounce"):
        speak("...")
    assert speak('Tom & "Jerry" <3').duration > 0.5   # SSML special characters are escaped


def test_threads_are_serialised_and_deterministic(speech):
    out = [None] * 4

    def run(i):
        out[i] = speak(LINE, "en-us+m3", Prosody()).audio

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert all(np.array_equal(o, speech.audio) for o in out)


def test_piper_voice_gives_aligned_reproducible_speech():
    from talkstyle.audio.tts import speak_piper

    a = speak_piper(LINE)
    assert a.sample_rate == 16000 and 1.5 < a.duration < 5
    assert a.phones[0].start == 0 and a.phones[-1].end == pytest.approx(a.duration)
    assert all(x.end == pytest.approx(y.start) for x, y in zip(a.phones, a.phones[1:]))
    assert not any(p.symbol in ("ˈ", "ː", " ") for p in a.phones)   # marks merged into phones
    assert sum(p.symbol == "b" for p in a.phones) >= 3
    assert vowel_contrast(a) > 3
    assert np.array_equal(a.audio, speak_piper(LINE).audio)
    assert speak_piper(LINE, rate_factor=0.7).duration > 1.25 * a.duration


def test_output_does_not_depend_on_what_was_spoken_before():
    """espeak-ng keeps synthesis state and seeds its noise from the clock; speak() resets both."""
    first = speak(LINE, "en-us+whisperf", Prosody()).audio
    speak("Something else entirely, spoken slowly.", "en-us+f2", Prosody(rate=100))
    assert np.array_equal(first, speak(LINE, "en-us+whisperf", Prosody()).audio)


def test_ctrl_c_during_synthesis_is_not_lost(monkeypatch):
    """espeak calls back into Python for each audio block; a KeyboardInterrupt raised inside that
    callback was printed and dropped by ctypes, and `data build` went on after Ctrl-C (seen on CI).
    Here every callback presses Ctrl-C: the interrupt must reach the caller."""
    from talkstyle.audio import tts

    on_audio = tts._Espeak._on_audio

    def pressing_ctrl_c(self, wav, n, events):
        os.kill(os.getpid(), signal.SIGINT)
        return on_audio(self, wav, n, events)

    monkeypatch.setattr(tts._Espeak, "_on_audio", pressing_ctrl_c)
    # Python's own Ctrl-C handler, as in a fresh `talkstyle` process (libraries that earlier tests
    # ran in this process, e.g. ray, may have installed theirs).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            speak(LINE)
    finally:
        signal.signal(signal.SIGINT, previous)
