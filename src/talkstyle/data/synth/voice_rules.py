"""The actor's voice rules: how a prompt's emotion and delivery shape what the speech engines say.

The engines themselves (espeak-ng, piper, Festival / Flite) live in audio/; this is the data
engine's use of them: prosody moved by emotion family, intensity and delivery (`shape_prosody`),
the espeak-ng voice for a person and delivery (`voice_name`), singing (a pentatonic `melody` line,
one note per word, and `hold_vowels`), and the silence around a take (`pad_silence`).
"""
from __future__ import annotations

import numpy as np

from ...audio.tts import Prosody, Speech
from ...vocab.attributes import Phone


def pad_silence(speech: Speech, before: float, after: float) -> Speech:
    """Silence around the speech (a pause phone each side), so that a face can move before the
    first sound and settle after the last."""
    sr = speech.sample_rate
    nb, na = int(round(before * sr)), int(round(after * sr))
    audio = np.concatenate([np.zeros(nb, np.float32), speech.audio, np.zeros(na, np.float32)])
    shift = nb / sr
    phones = [Phone(p.symbol, p.start + shift, p.end + shift) for p in speech.phones]
    if nb:
        phones.insert(0, Phone("", 0.0, shift))
    if na:
        phones.append(Phone("", phones[-1].end, len(audio) / sr))
    return Speech(audio, phones, sr)


# ---------------------------------------------------------------- prosody from style words
# Per emotion family at full intensity: rate factor, pitch offset, range offset, volume factor
# (the usual acoustic correlates: sad slow/low/flat/quiet, angry loud/fast, surprise high/wide...).
_EMOTION_PROSODY = {
    "neutral": (1.00, 0, 0, 1.00),
    "happy": (1.08, 10, 20, 1.10),
    "sad": (0.80, -12, -25, 0.80),
    "angry": (1.10, 4, 20, 1.35),
    "fearful": (1.15, 14, -10, 0.95),
    "surprised": (1.05, 15, 30, 1.15),
    "disgusted": (0.88, -8, 5, 1.00),
    "contempt": (0.90, -6, -10, 0.95),
}
_DELIVERY_PROSODY = {
    "speaks": (1.00, 0, 0, 1.00),
    "whispers": (0.90, 0, -10, 0.80),
    "shouts": (1.05, 15, 15, 1.70),
    "sings": (0.70, 5, -30, 1.10),   # the melody comes from per-word pitch steps, not espeak's intonation
}


def shape_prosody(base: Prosody, family: str, level: float, delivery: str) -> Prosody:
    """The person's base prosody moved by emotion (scaled by intensity level) and delivery."""
    er, ep, eg, ev = _EMOTION_PROSODY.get(family, _EMOTION_PROSODY["neutral"])
    dr, dp, dg, dv = _DELIVERY_PROSODY.get(delivery, _DELIVERY_PROSODY["speaks"])
    lv = float(np.clip(level, 0.0, 1.0))
    return Prosody(rate=round(base.rate * (1 + (er - 1) * lv) * dr),
                   pitch=round(base.pitch + ep * lv + dp),
                   range=round(base.range + eg * lv + dg),
                   volume=round(base.volume * (1 + (ev - 1) * lv) * dv)).clamped()


def voice_name(variant: str, gender: str, delivery: str) -> str:
    """espeak-ng voice name: US English with the person's variant, or the whisper variant."""
    if delivery == "whispers":
        variant = "whisperf" if gender == "female" else "whisper"
    return f"en-us+{variant}"


# ---------------------------------------------------------------- singing
IPA_VOWELS = set("aeiouyæɑɐɒɔəɘɚɛɜɝɞɤɨɪʊʉʌʏøœɶ")
_SCALE = (0, 2, 4, 7, 9, 12)   # major pentatonic, semitones


def is_vowel(symbol: str) -> bool:
    """True for an espeak IPA phone that is (or starts with) a vowel, stress marks ignored."""
    core = symbol.lstrip("ˈˌ")
    return bool(core) and core[0] in IPA_VOWELS


def melody(num_words: int, rng: np.random.Generator) -> list[float]:
    """A stepwise pentatonic line, one note per word, as pitch offsets in percent."""
    degree, notes = 2, []
    for step in rng.choice([-2, -1, 0, 1, 1, 2], size=num_words):
        degree = int(np.clip(degree + step, 0, len(_SCALE) - 1))   # a walk that stays in the range
        notes.append(_SCALE[degree] - 4)
    return [100.0 * (2.0 ** (n / 12.0) - 1.0) for n in notes]


def _period(seg: np.ndarray, sr: int) -> int:
    """Pitch period in samples (autocorrelation peak in 70-400 Hz) of a voiced stretch."""
    x = seg - seg.mean()
    ac = np.fft.irfft(np.abs(np.fft.rfft(x, 2 * len(x))) ** 2)[:len(x)]
    lo, hi = sr // 400, min(sr // 70, len(x) // 2)
    return lo + int(np.argmax(ac[lo:hi])) if hi > lo else len(x)


def hold_vowels(speech: Speech, factor: float) -> Speech:
    """Stretch every vowel about `factor` times, consonants untouched; phones retimed.

    A sung vowel is a held note: whole pitch periods from the middle of the vowel are repeated,
    so the waveform stays continuous and the note holds its pitch and timbre.
    """
    sr = speech.sample_rate
    pieces, phones, t = [], [], 0.0
    for ph in speech.phones:
        a, b = int(round(ph.start * sr)), int(round(ph.end * sr))
        seg = speech.audio[a:b]
        if is_vowel(ph.symbol) and len(seg) >= sr // 25:
            mid = len(seg) // 2
            period = _period(seg[mid - sr // 80:mid + sr // 80], sr)
            chunk = seg[mid:mid + period * max(1, round(0.03 * sr / period))]
            repeats = max(1, round((factor - 1) * len(seg) / len(chunk)))
            seg = np.concatenate([seg[:mid], np.tile(chunk, repeats), seg[mid:]])
        pieces.append(seg.astype(np.float32))
        phones.append(Phone(ph.symbol, t, t + len(seg) / sr))
        t += len(seg) / sr
    return Speech(np.concatenate(pieces), phones, sr)
