"""Stage I: vocabularies, the balanced sampler, prompt parsing, the report and the CLI."""
from __future__ import annotations

import collections
import json

import pytest

from talkstyle.data.lines import load_lines
from talkstyle.data.prompts import (STRATA, iter_prompts, load_prompts, sample_prompts, save_prompts, stratum,
                                    with_head_motion)
from talkstyle.data.report import write_report
from talkstyle.errors import TalkstyleError
from talkstyle.text.parse import _TOKEN, analyze_prompt, parse_prompt
from talkstyle.vocab import words as vocab
from talkstyle.vocab.attributes import EMOTION_FAMILIES, Prompt, StyleAttributes



def test_vocabulary_sizes():
    assert len([s for s in vocab.SUBJECTS if s.sample]) >= 40
    assert len(vocab.EMOTIONS) >= 30 and set(vocab.EMOTIONS.values()) == set(EMOTION_FAMILIES)
    assert len(vocab.INTENSITIES) >= 10 and all(0 <= v <= 1 for v in vocab.INTENSITIES.values())
    assert len(vocab.TEMPLATES) >= 30
    lines = load_lines()
    assert len(lines) >= 300 and len(set(lines)) == len(lines)
    assert all(12 <= len(ln.split()) <= 35 for ln in lines)  # ~3-12 s at the actor's ~3.3 words/s
    # Bilabials and open vowels are what lip-sync is judged on: most lines must have them.
    assert sum(any(c in ln.lower() for c in "pbm") for ln in lines) > 0.8 * len(lines)


def test_no_phrase_means_two_things():
    seen: dict[tuple, str] = {}
    phrases = ([("head", p) for ps in vocab.HEAD_PHRASES.values() for p in ps]
               + [("delivery", p) for d in vocab.DELIVERY_VERBS for p in vocab.DELIVERY_VERBS[d] + vocab.DELIVERY_GERUNDS[d]]
               + [("subject", s.word) for s in vocab.SUBJECTS] + [("emotion", w) for w in vocab.EMOTIONS]
               + [("intensity", w) for w in vocab.INTENSITIES])
    for kind, phrase in phrases:
        key = tuple(_TOKEN.findall(phrase))
        assert seen.setdefault(key, kind) == kind, f"{phrase!r} is both {seen[key]} and {kind}"


def test_sampler_is_balanced_over_strata():
    n = 2 * len(STRATA) + 77
    counts = collections.Counter(stratum(p.attributes) for p in sample_prompts(n, seed=3))
    per = [counts.get(s, 0) for s in STRATA]
    assert max(per) - min(per) <= 1 and sum(per) == n


def test_sampler_is_deterministic_and_extends():
    a, b = sample_prompts(200, seed=5), sample_prompts(200, seed=5)
    assert a == b
    assert sample_prompts(500, seed=5)[:200] == a
    assert [p.text for p in sample_prompts(50, seed=6)] != [p.text for p in a[:50]]


def test_sampled_prompts_parse_back_to_their_attributes():
    for p in sample_prompts(1500, seed=11):
        assert parse_prompt(p.text, use_encoder=False) == p.attributes, p.text
        assert " a a" not in p.text.lower() and " a e" not in p.text.lower()  # "an" before vowels


@pytest.mark.parametrize("text, expect", [
    ("A man speaks with a low happy expression, keeping his gaze forward and steady.",
     dict(gender="male", family="happy", intensity="low", head_motion="still", delivery="speaks")),
    ("She is carrying a noticeable annoyed tone.", dict(gender="female", family="angry", level=0.55)),
    ("A little boy shouts with an intense crying face while nodding",
     dict(age_group="child", family="sad", delivery="shouts", head_motion="nod", level=0.9)),
    ("Close-up of an elderly woman whispering, a faint scornful look, shaking her head.",
     dict(age_group="senior", family="contempt", delivery="whispers", head_motion="shake")),
    ("A person is speaking with a clear shock expression.", dict(gender="unknown", family="surprised")),
    ("A young lady sings.", dict(subject="young lady", delivery="sings", family="neutral", level=0.5)),
])
def test_parse_user_prompts(text, expect):
    a = parse_prompt(text, use_encoder=False)
    for key, value in expect.items():
        assert getattr(a, key) == value, (key, a)


def test_parse_rejects_empty_and_reports_unknown_words():
    for bad in ("", "   \n"):
        with pytest.raises(TalkstyleError, match="empty"):
            parse_prompt(bad)
    with pytest.warns(UserWarning, match="zorbly"):
        parsed = analyze_prompt("A woman speaks with a strong zorbly expression", use_encoder=False)
    assert parsed.unknown == ("zorbly",) and parsed.attributes.family == "neutral"
    assert parsed.attributes.level == 0.8


def test_unknown_emotion_word_maps_to_the_nearest_known_one():
    parsed = analyze_prompt("A man speaks with a strong gleeful expression")
    if not parsed.mapped:
        pytest.skip("sentence encoder not installed")
    assert parsed.attributes.family == "happy" and parsed.attributes.emotion == "gleeful"


def test_with_head_motion_rewrites_the_clause():
    p = Prompt("A man speaks with a clear sad look, keeping the head still.",
               StyleAttributes(gender="male", family="sad", head_motion="still"))
    nod = with_head_motion(p, "nod")
    assert nod.text == "A man speaks with a clear sad look, while nodding."
    assert nod.attributes.head_motion == "nod" and parse_prompt(nod.text, use_encoder=False).head_motion == "nod"
    with pytest.raises(TalkstyleError):
        with_head_motion(p, "spin")


def test_prompt_file_round_trip_and_report(tmp_path):
    prompts = sample_prompts(120, seed=2)
    path = save_prompts(tmp_path / "p.jsonl", prompts)
    assert load_prompts(path) == prompts
    md = write_report(path, tmp_path / "rep")
    text = md.read_text()
    assert "## family" in text and "| happy |" in text and "min 0, max 1" in text
    for png in ("subject.png", "family.png", "intensity.png", "head_motion.png"):
        assert (tmp_path / "rep" / png).stat().st_size > 1000


def test_cli_prompts_and_errors(tmp_path, talkstyle):
    out = tmp_path / "p.jsonl"
    r = talkstyle("data", "prompts", "--n", "40", "--seed", "1", "-o", out)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert len(rows) == 40 and {"text", "family", "level", "head_motion"} <= set(rows[0])
    r = talkstyle("data", "report", tmp_path / "missing.jsonl")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "no dataset folder" in r.stderr
    r = talkstyle("data", "prompts", "--n", "0", "-o", tmp_path / "z.jsonl")
    assert r.returncode == 2 and not (tmp_path / "z.jsonl").exists()


def test_iter_prompts_is_endless_and_covers_every_stratum():
    it = iter_prompts(0)
    seen = {stratum(next(it).attributes) for _ in range(len(STRATA))}
    assert seen == set(STRATA)
