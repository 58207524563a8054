"""The style evaluator learns emotion families and text-motion matching on clips whose style
is known by construction, and its scores tell matching texts from mismatched ones."""
import numpy as np
import pytest

from talkstyle.data.records import ClipRecord
from talkstyle.vocab.attributes import EMOTION_FAMILIES, Prompt, StyleAttributes
from talkstyle.errors import TalkstyleError
from talkstyle.eval.style_eval import StyleEvaluator, score_motions, train_evaluator
from talkstyle.face import FaceMotion

FAMS = EMOTION_FAMILIES[:4]  # neutral, happy, sad, angry


def _clip(family: str, rng: np.random.Generator, i: int) -> ClipRecord:
    T = 120
    w = 0.05 * rng.random((T, 52))
    k = EMOTION_FAMILIES.index(family)
    w[:, 5 * k:5 * k + 4] += 0.5 + 0.1 * np.sin(np.arange(T) / 7.0)[:, None]  # family-specific channels
    w[:, 17] = 0.3 * (1 + np.sin(np.arange(T) / 3.0 + i))  # "speech" on jawOpen, same for all
    motion = FaceMotion(np.clip(w, 0, 1), 0.02 * rng.standard_normal((T, 3)))
    attrs = StyleAttributes(emotion=family, family=family)
    return ClipRecord(f"c{i}", f"p{i % 5}", "test", Prompt(f"a {family} person", attrs), "", motion)


def _text(families, rng, basis):
    return np.stack([basis[FAMS.index(f)] + 0.05 * rng.standard_normal(384) for f in families])


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((len(FAMS), 384))
    train = [_clip(FAMS[i % 4], rng, i) for i in range(64)]
    model = train_evaluator(train, _text([r.prompt.attributes.family for r in train], rng, basis),
                            steps=100, batch=16, seed=0)
    return model, basis


@pytest.mark.slow   # 5.2 s: trains the style evaluator (--durations)
def test_learns_emotion_and_retrieval_on_held_out_clips(trained):
    model, basis = trained
    rng = np.random.default_rng(1)
    test = [_clip(FAMS[i % 4], rng, 100 + i) for i in range(32)]
    fams = [r.prompt.attributes.family for r in test]
    scores = score_motions(model, [r.motion for r in test], fams, _text(fams, rng, basis), pool=8)
    assert scores.emotion_accuracy > 0.9
    assert scores.r_precision_top1 > 0.8
    # texts of the wrong family: matching gets worse and retrieval collapses
    wrong = [FAMS[(FAMS.index(f) + 1) % 4] for f in fams]
    bad = score_motions(model, [r.motion for r in test], fams, _text(wrong, rng, basis), pool=8)
    assert bad.matching_score > scores.matching_score + 0.2
    assert bad.r_precision_top1 < 0.3


def test_save_load_round_trip(trained, tmp_path):
    model, _ = trained
    model.save(tmp_path)
    again = StyleEvaluator.load(tmp_path)
    for (k, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), k
    with pytest.raises(TalkstyleError):
        StyleEvaluator.load(tmp_path / "missing")


def test_too_few_clips_is_a_clear_error():
    rng = np.random.default_rng(0)
    with pytest.raises(TalkstyleError):
        train_evaluator([_clip("happy", rng, 0)], np.zeros((1, 384)))
