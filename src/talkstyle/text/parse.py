"""Reading a user's style prompt: free-form English -> StyleAttributes.

Phrases are matched against the shared word tables (vocab/words.py, the same tables the data
engine's prompt sampler writes from, so both stay in step). An unknown word standing where an
emotion stands ("a zesty expression") is mapped to the nearest known emotion word with the
frozen sentence encoder (text/encoder.py) when it is installed.
"""
from __future__ import annotations

import dataclasses
import functools
import re
import warnings
from typing import Any

from ..errors import TalkstyleError
from ..vocab.attributes import DELIVERIES, StyleAttributes
from ..vocab.words import (DELIVERY_GERUNDS, DELIVERY_VERBS, EMOTIONS, HEAD_PHRASES, INTENSITIES,
                           PARSE_ONLY_EMOTIONS, SUBJECTS, Subject)

_TOKEN = re.compile(r"[a-z]+(?:[-'][a-z]+)*")
# Words after which an unknown word is probably an emotion: "a zesty expression", "a strong zesty ...".
_EXPRESSION_NOUNS = frozenset("expression look demeanor demeanour mood face tone air manner smile".split())
# ... and after a copula: "he is grumpy", "she looks weary".
_COPULAS = frozenset("is looks seems feels appears sounds".split())
_STOPWORDS = frozenset("a an the with and while on in of to his her their its my your our this that very is are be".split())
# Words are compared inside this frame: bare words embed poorly ("petrified" -> "frightened" 0.36,
# "feeling petrified" -> "feeling terrified" 0.65). Below the threshold a word is reported, not mapped.
_EMOTION_FRAME = "feeling {}"
MIN_EMOTION_SIMILARITY = 0.6


@functools.cache
def _phrase_table() -> dict[tuple[str, ...], tuple[str, Any]]:
    """Every vocabulary phrase, as a token tuple -> (kind, meaning)."""
    table: dict[tuple[str, ...], tuple[str, Any]] = {}

    def add(phrase: str, kind: str, meaning: Any) -> None:
        table.setdefault(tuple(_TOKEN.findall(phrase.lower())), (kind, meaning))

    for head, phrases in HEAD_PHRASES.items():
        for p in phrases:
            add(p, "head", head)
    for delivery in DELIVERIES:
        for p in DELIVERY_VERBS[delivery] + DELIVERY_GERUNDS[delivery]:
            add(p, "delivery", delivery)
    for s in SUBJECTS:
        add(s.word, "subject", s)
    for w, family in EMOTIONS.items():
        add(w, "emotion", family)
    for w, level in INTENSITIES.items():
        add(w, "intensity", level)
    return table


@dataclasses.dataclass(frozen=True)
class _Match:
    kind: str
    phrase: str
    meaning: Any
    pos: int


@dataclasses.dataclass(frozen=True)
class ParsedPrompt:
    """What parse found: the attributes, unknown emotion words mapped (word -> known word), and
    unknown emotion words it could not map (no encoder, or nothing close)."""
    attributes: StyleAttributes
    mapped: dict[str, str]
    unknown: tuple[str, ...]


def _scan(tokens: list[str]) -> tuple[list[_Match], list[tuple[int, str]]]:
    """Greedy longest match of vocabulary phrases, left to right; the rest are loose tokens."""
    table = _phrase_table()
    longest = max(len(k) for k in table)
    matches, loose, i = [], [], 0
    while i < len(tokens):
        for n in range(min(longest, len(tokens) - i), 0, -1):
            key = tuple(tokens[i:i + n])
            if key in table:
                kind, meaning = table[key]
                matches.append(_Match(kind, " ".join(key), meaning, i))
                i += n
                break
        else:
            loose.append((i, tokens[i]))
            i += 1
    return matches, loose


def _emotion_candidates(tokens: list[str], matches: list[_Match], loose: list[tuple[int, str]]) -> list[str]:
    """Unknown words standing where an emotion word stands: before an expression noun, after an intensity."""
    after_intensity = {m.pos + len(m.phrase.split()) for m in matches if m.kind == "intensity"}
    out = []
    for pos, tok in loose:
        if tok in _STOPWORDS or tok in _EXPRESSION_NOUNS:
            continue
        before_noun = pos + 1 < len(tokens) and tokens[pos + 1] in _EXPRESSION_NOUNS
        after_copula = pos > 0 and tokens[pos - 1] in _COPULAS
        if before_noun or after_copula or pos in after_intensity:
            out.append(tok)
    return out


def analyze_prompt(text: str, use_encoder: bool = True) -> ParsedPrompt:
    """Read subject, emotion, intensity, head motion and delivery out of a free-form prompt."""
    if not isinstance(text, str) or not text.strip():
        raise TalkstyleError("the style prompt is empty")
    tokens = _TOKEN.findall(text.lower())
    matches, loose = _scan(tokens)
    first = {kind: next((m for m in matches if m.kind == kind), None)
             for kind in ("emotion", "head", "delivery")}

    # Subject: the first noun subject; pronouns ("he", "his gaze") only when there is none.
    subjects = [m for m in matches if m.kind == "subject"]
    subject = next((m.meaning for m in subjects if m.meaning.sample or m.meaning.gender == "unknown"), None) \
        or (subjects[0].meaning if subjects else Subject("person", "unknown", "adult"))

    mapped: dict[str, str] = {}
    unknown: list[str] = []
    emotion, family, emo_pos = "neutral", "neutral", len(tokens)
    if first["emotion"]:
        emotion, family, emo_pos = first["emotion"].phrase, first["emotion"].meaning, first["emotion"].pos
    else:
        for word in _emotion_candidates(tokens, matches, loose):
            near = nearest_emotion(word) if use_encoder else None
            if near is None:
                unknown.append(word)
                continue
            mapped[word] = near
            emotion, family = word, EMOTIONS[near]
            emo_pos = tokens.index(word)
            break

    # Intensity: the nearest intensity word before the emotion, else any, else "medium".
    intensities = [m for m in matches if m.kind == "intensity"]
    before = [m for m in intensities if m.pos < emo_pos]
    chosen = before[-1] if before else (intensities[0] if intensities else None)
    intensity, level = (chosen.phrase, float(chosen.meaning)) if chosen else ("medium", 0.5)

    attrs = StyleAttributes(
        subject=subject.word, gender=subject.gender, age_group=subject.age_group, emotion=emotion,
        family=family, intensity=intensity, level=level,
        head_motion=first["head"].meaning if first["head"] else "natural",
        delivery=first["delivery"].meaning if first["delivery"] else "speaks")
    if not matches and not mapped:
        warnings.warn("no style words recognised in the prompt; using neutral defaults", stacklevel=2)
    elif unknown and not mapped:
        warnings.warn(f"unknown emotion word(s) in prompt, read as neutral: {', '.join(unknown)}", stacklevel=2)
    return ParsedPrompt(attrs, mapped, tuple(unknown))


def parse_prompt(text: str, use_encoder: bool = True) -> StyleAttributes:
    """User prompt -> StyleAttributes. Empty prompt: TalkstyleError. Unknown emotion words are mapped
    to the nearest known one with the frozen MiniLM sentence encoder when it is installed."""
    return analyze_prompt(text, use_encoder).attributes


# ------------------------------------------------------------------ unknown words
@functools.cache
def _emotion_index() -> tuple[Any, list[str], Any] | None:
    """(encoder, known words, their unit embeddings), or None when the encoder is not installed."""
    from .encoder import get_text_encoder

    encoder = get_text_encoder()
    words = sorted(w for w in EMOTIONS if w not in PARSE_ONLY_EMOTIONS)
    try:
        return encoder, words, encoder.encode([_EMOTION_FRAME.format(w) for w in words])
    except (TalkstyleError, ImportError):
        return None


@functools.cache
def nearest_emotion(word: str) -> str | None:
    """The known emotion word closest in meaning to `word`, or None (no encoder, or nothing close)."""
    index = _emotion_index()
    if index is None:
        return None
    encoder, words, emb = index
    sims = emb @ encoder.encode([_EMOTION_FRAME.format(word)])[0]
    best = int(sims.argmax())
    return words[best] if sims[best] >= MIN_EMOTION_SIMILARITY else None
