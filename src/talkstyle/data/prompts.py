"""Stage I: balanced prompt sampling, and parsing user-written prompts into StyleAttributes.

The sampler is a round-robin over shuffled strata (emotion family x intensity band x subject
group x head motion): every pass visits each stratum once in a fresh seeded order, so after n
prompts the stratum counts differ by at most one, and a longer run extends a shorter one.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import random
import re
import warnings
from pathlib import Path
from typing import Any, Iterator

from ..atomic import write_text
from ..errors import TalkstyleError
from .records import DELIVERIES, EMOTION_FAMILIES, HEAD_MOTIONS, Prompt, StyleAttributes
from .vocab import (DELIVERY_GERUNDS, DELIVERY_VERBS, DELIVERY_WEIGHTS, EMOTIONS, HEAD_PHRASES,
                    INTENSITIES, INTENSITY_BANDS, PARSE_ONLY_EMOTIONS, SAMPLED_HEAD_PHRASES, SUBJECTS,
                    TEMPLATES, Subject, intensity_band)

SUBJECT_GROUPS = ("female-young", "female-adult", "male-young", "male-adult")
STRATA: tuple[tuple[str, str, str, str], ...] = tuple(
    itertools.product(EMOTION_FAMILIES, tuple(INTENSITY_BANDS), SUBJECT_GROUPS, HEAD_MOTIONS))


def stratum(a: StyleAttributes) -> tuple[str, str, str, str]:
    """The sampler stratum a set of attributes falls in."""
    group = Subject(a.subject, a.gender, a.age_group).group
    return (a.family, intensity_band(a.level), group, a.head_motion)


# ------------------------------------------------------------------ writing prompts
def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _compose(st: tuple[str, str, str, str], rng: random.Random) -> Prompt:
    family, band, group, head = st
    # Age first, then a word: each age group of the stratum gets an equal share, however many words it has.
    in_group = [s for s in SUBJECTS if s.sample and s.group == group]
    age = rng.choice(sorted({s.age_group for s in in_group}))
    subject = rng.choice([s for s in in_group if s.age_group == age])
    emotion = rng.choice(sorted(w for w, f in EMOTIONS.items() if f == family and w not in PARSE_ONLY_EMOTIONS))
    lo, hi = INTENSITY_BANDS[band]
    intensity = rng.choice(sorted(w for w, v in INTENSITIES.items() if lo <= v < hi))
    delivery = rng.choices(list(DELIVERY_WEIGHTS), weights=list(DELIVERY_WEIGHTS.values()))[0]
    template = rng.choice(TEMPLATES)
    head_options = [""] + [", " + p for p in HEAD_PHRASES[head][:SAMPLED_HEAD_PHRASES]] if head == "natural" \
        else [", " + p for p in HEAD_PHRASES[head][:SAMPLED_HEAD_PHRASES]]
    subj = f"{_article(subject.word)} {subject.word}"
    text = template.format(
        Subj=subj[0].upper() + subj[1:], subj=subj, verb=rng.choice(DELIVERY_VERBS[delivery]),
        ving=rng.choice(DELIVERY_GERUNDS[delivery]), int=intensity, emo=emotion, head=rng.choice(head_options))
    text = re.sub(r"\b([Aa]) (?=[aeiou])", r"\1n ", text)  # "a intense" -> "an intense"
    attrs = StyleAttributes(subject=subject.word, gender=subject.gender, age_group=subject.age_group,
                            emotion=emotion, family=family, intensity=intensity, level=INTENSITIES[intensity],
                            head_motion=head, delivery=delivery)
    return Prompt(text=text, attributes=attrs)


def iter_prompts(seed: int = 0) -> Iterator[Prompt]:
    """Endless balanced prompts: each pass is one prompt per stratum, in a fresh seeded order."""
    rng = random.Random(seed)
    while True:
        order = list(STRATA)
        rng.shuffle(order)
        for st in order:
            yield _compose(st, rng)


def sample_prompts(n: int, seed: int = 0) -> list[Prompt]:
    if n < 1:
        raise TalkstyleError(f"number of prompts must be at least 1, got {n}")
    return list(itertools.islice(iter_prompts(seed), n))


# ------------------------------------------------------------------ prompt files
def prompt_to_dict(p: Prompt) -> dict[str, Any]:
    return {"text": p.text, **p.attributes.to_dict()}


def prompt_from_dict(d: dict[str, Any]) -> Prompt:
    return Prompt(text=d["text"], attributes=StyleAttributes.from_dict(d))


def save_prompts(path: str | Path, prompts: list[Prompt]) -> Path:
    write_text(path, "".join(json.dumps(prompt_to_dict(p)) + "\n" for p in prompts))
    return Path(path)


def load_prompts(path: str | Path) -> list[Prompt]:
    path = Path(path)
    if not path.is_file():
        raise TalkstyleError(f"prompt file not found: {path}")
    prompts = []
    for i, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            prompts.append(prompt_from_dict(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise TalkstyleError(f"{path}:{i}: not a prompt record ({e.__class__.__name__})") from None
    return prompts


# ------------------------------------------------------------------ reading prompts
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
    from ..text.encoder import get_text_encoder

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


# ------------------------------------------------------------------ rewriting prompts
# What augmentation writes for the head motion it adds.
HEAD_CLAUSES = {"nod": "while nodding", "shake": "while shaking the head", "still": "keeping the head still",
                "natural": "moving the head naturally"}


def with_head_motion(prompt: Prompt, head: str) -> Prompt:
    """The prompt with its head-motion clause replaced (or added): "..., while nodding."."""
    if head not in HEAD_MOTIONS:
        raise TalkstyleError(f"unknown head motion {head!r}; expected one of {', '.join(HEAD_MOTIONS)}")
    phrases = sorted({p for ps in HEAD_PHRASES.values() for p in ps}, key=len, reverse=True)
    pattern = r",?\s*(?:(?:while|with)\s+)?\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b"
    text = re.sub(pattern, "", prompt.text, flags=re.IGNORECASE).rstrip()
    end = text[-1] if text and text[-1] in ".!?" else ""
    text = f"{text[:len(text) - len(end)].rstrip()}, {HEAD_CLAUSES[head]}{end or '.'}"
    return Prompt(text=text, attributes=dataclasses.replace(prompt.attributes, head_motion=head))
