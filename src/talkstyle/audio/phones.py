"""ARPAbet (CMU) phone names -> IPA, so phones from any engine drive the same viseme model.

Festival and Flite (lower case, `pau` for silence) and pocketsphinx (upper case, `SIL`) speak
ARPAbet; espeak-ng and piper speak IPA, which the actor's viseme table is written in.
"""
from __future__ import annotations

from ..vocab.attributes import Phone

ARPABET_IPA = {
    "aa": "ɑ", "ae": "æ", "ah": "ʌ", "ao": "ɔ", "aw": "aʊ", "ax": "ə", "axr": "ɚ", "ay": "aɪ",
    "eh": "ɛ", "er": "ɝ", "ey": "eɪ", "ih": "ɪ", "ix": "ɨ", "iy": "i", "ow": "oʊ", "oy": "ɔɪ",
    "uh": "ʊ", "uw": "u", "b": "b", "ch": "tʃ", "d": "d", "dh": "ð", "dx": "ɾ", "el": "əl",
    "em": "əm", "en": "ən", "f": "f", "g": "ɡ", "hh": "h", "jh": "dʒ", "k": "k", "l": "l", "m": "m",
    "n": "n", "ng": "ŋ", "p": "p", "r": "ɹ", "s": "s", "sh": "ʃ", "t": "t", "th": "θ", "v": "v",
    "w": "w", "y": "j", "z": "z", "zh": "ʒ",
}
SILENCES = frozenset({"pau", "sil", "h#", "brth", "+nsn+", "+spn+"})


def arpabet_to_ipa(symbol: str) -> str:
    """'AA1' / 'aa' -> 'ɑ'; silences -> ''; an unknown name is kept (the viseme model guesses)."""
    core = symbol.strip().lower().rstrip("012")
    if not core or core in SILENCES:
        return ""
    return ARPABET_IPA.get(core, core)


def phones_to_ipa(phones: list[Phone]) -> list[Phone]:
    """ARPAbet phones -> IPA phones, runs of silence merged."""
    out: list[Phone] = []
    for p in phones:
        symbol = arpabet_to_ipa(p.symbol)
        if out and not symbol and not out[-1].symbol:
            out[-1] = Phone("", out[-1].start, p.end)
        else:
            out.append(Phone(symbol, p.start, p.end))
    return out
