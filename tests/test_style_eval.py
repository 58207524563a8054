"""The style evaluator learns emotion families and text-motion matching on clips whose style
is known by construction, and its scores tell matching texts from mismatched ones."""
import numpy as np
import pytest

from talkstyle.data.records import ClipRecord
from talkstyle.vocab.attributes import EMOTION_FAMILIES, Prompt, StyleAttributes
from talkstyle.errors import TalkstyleError
from talkstyle.eval.style_eval import StyleEvaluator, graded_targets, score_motions, train_evaluator
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


def _graded_clip(family: str, level: float, rng: np.random.Generator, i: int, person: str | None = None,
                 backend: str | None = None) -> ClipRecord:
    """A clip whose family channels scale with the intensity level, as the data engine's do."""
    clip = _clip(family, rng, i)
    w = clip.motion.weights.copy()
    if family != "neutral":
        k = EMOTION_FAMILIES.index(family)
        w[:, 5 * k:5 * k + 4] *= 0.25 + 0.75 * level
    attrs = StyleAttributes(emotion=family, family=family, level=level, gender="female", age_group="adult")
    meta = {"backend": backend} if backend else {}
    return ClipRecord(clip.clip_id, person or clip.person, "test", Prompt(f"a {family} person", attrs), "",
                      FaceMotion(w, clip.motion.head, metadata=meta))


def test_graded_targets_follow_the_amplitude_and_keep_the_family_on_top():
    from talkstyle.data.synth.expression import MAX_EMOTION_AMPLITUDE
    from talkstyle.data.synth.person import PersonStyle

    rng = np.random.default_rng(0)
    # Clips of unknown persons count as an average person's: the level's amplitude alone.
    recs = [_graded_clip("happy", 0.15, rng, 0), _graded_clip("happy", 1.0, rng, 1), _clip("neutral", rng, 2)]
    t = graded_targets(recs).numpy()
    h, n = EMOTION_FAMILIES.index("happy"), EMOTION_FAMILIES.index("neutral")
    assert np.allclose(t.sum(1), 1)
    assert t[0, h] == pytest.approx(0.5 + 0.5 * 0.3625 / 1.4) and t[0, n] == pytest.approx(1 - t[0, h])
    assert t[1, h] == pytest.approx(0.5 + 0.5 / 1.4) and t[2, n] == pytest.approx(1.0)
    assert (t.argmax(1) == [h, h, n]).all()
    # The procedural actor's clips: the same level, scaled by each person's own expressivity.
    ids = [f"s1-fad{i:02d}" for i in range(8)]
    expr = [PersonStyle.from_id(p, "female", "adult").expressivity for p in ids]
    lo, hi = ids[int(np.argmin(expr))], ids[int(np.argmax(expr))]
    recs = [_graded_clip("sad", 0.5, rng, 3, person=p, backend="procedural") for p in (lo, hi)]
    recs.append(_graded_clip("sad", 0.5, rng, 4, person=hi, backend="folder"))   # a user's clip: level only
    t = graded_targets(recs).numpy()[:, EMOTION_FAMILIES.index("sad")]
    assert t[0] == pytest.approx(0.5 + 0.5 * 0.625 * min(expr) / MAX_EMOTION_AMPLITUDE, abs=1e-6)
    assert t[1] == pytest.approx(0.5 + 0.5 * 0.625 * max(expr) / MAX_EMOTION_AMPLITUDE, abs=1e-6)
    assert t[0] < t[2] < t[1]


@pytest.mark.slow   # trains the style evaluator twice (about 10 s)
def test_graded_evaluator_ranks_intensity_where_the_one_hot_one_saturates():
    from scipy.stats import spearmanr

    from talkstyle.eval.style_probe import family_probs

    rng = np.random.default_rng(0)
    basis = rng.standard_normal((len(FAMS), 384))
    levels = [0.15, 0.3, 0.5, 0.65, 0.8, 1.0]
    train = [_graded_clip(FAMS[i % 4], levels[(i // 4) % len(levels)], rng, i) for i in range(96)]
    text = _text([r.prompt.attributes.family for r in train], rng, basis)
    test = [_graded_clip("angry", lv, rng, 200 + i) for i, lv in enumerate(levels * 2)]
    fam = EMOTION_FAMILIES.index("angry")
    rho = {}
    for graded in (False, True):
        model = train_evaluator(train, text, steps=150, batch=16, seed=0, graded=graded)
        assert model.cfg.graded == graded
        p = family_probs(model, [r.motion for r in test])
        assert (p.argmax(1) == fam).all()            # the family is still the answer
        rho[graded] = spearmanr(levels * 2, p[:, fam]).statistic
    assert rho[True] > 0.9 and rho[True] > rho[False]
