"""Stage I: balanced prompt sampling, prompt records on disk, and rewriting a prompt's head clause.

Reading user-written prompts is text/parse.py (inference needs it too).

The sampler is a round-robin over shuffled strata (emotion family x intensity band x subject
group x head motion): every pass visits each stratum once in a fresh seeded order, so after n
prompts the stratum counts differ by at most one, and a longer run extends a shorter one.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import random
import re
from pathlib import Path
from typing import Any, Iterator

from ..atomic import write_text
from ..errors import TalkstyleError
from ..vocab.attributes import EMOTION_FAMILIES, HEAD_MOTIONS, Prompt, StyleAttributes
from ..vocab.words import (DELIVERY_GERUNDS, DELIVERY_VERBS, DELIVERY_WEIGHTS, EMOTIONS, HEAD_PHRASES,
                           INTENSITIES, INTENSITY_BANDS, SAMPLED_HEAD_PHRASES, SUBJECTS, TEMPLATES,
                           PARSE_ONLY_EMOTIONS, Subject, intensity_band)

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
    attributes = {k: v for k, v in d.items() if k != "text"}
    return Prompt(text=d["text"], attributes=StyleAttributes.from_dict(attributes))


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
