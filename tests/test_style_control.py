"""Style control: intensity, blends, edits and timelines (parsing, frame weights, generation with a
tiny trained model, bad input through the real command)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from talkstyle import assets
from talkstyle.animate import Settings, animate
from talkstyle.audio.io import load_audio
from talkstyle.errors import TalkstyleError
from talkstyle.face.motion import FaceMotion
from talkstyle.model.generator import motion_to_array
from talkstyle.pipeline import TalkstylePipeline
from talkstyle.style_control import (DEFAULT_TRANSITION, StylePart, StyleResolver, Timeline,
                                     build_timeline, make_style, parse_style_text, parse_time, read_timeline, style_track,
                                     word_gain)
from talkstyle.vocab.gestures import gesture_amplitude_deg, oscillation_bursts
from tiny_model import tiny_checkpoint, tiny_dataset

SPEECH = assets.path("demo_speech.wav")          # 4.0 s
slow = pytest.mark.slow                          # trains the tiny model
FAST = Settings(steps=2)
CALM, ANGRY = "A woman speaks with a calm expression.", "A woman speaks with an angry expression."


def reference() -> FaceMotion:
    return FaceMotion.load(sorted((tiny_dataset() / "clips").glob("*.npz"))[0])


def tiny_generator():
    return TalkstylePipeline.from_pretrained(tiny_checkpoint()).generator


# ------------------------------------------------------------------ parsing
def test_times_and_the_style_mini_language(tmp_path):
    assert parse_time("12.5") == 12.5 and parse_time("1:02.5") == 62.5 and parse_time("00:01:02,500") == 62.5
    style, transition = parse_style_text("0.7*ref:a.npz + 0.3*A happy man speaks [intensity=1.2, transition=0.5]",
                                         tmp_path)
    assert [p.weight for p in style.parts] == [0.7, 0.3] and style.parts[0].ref == tmp_path / "a.npz"
    assert style.parts[1].prompt == "A happy man speaks" and style.intensity == 1.2 and transition == 0.5
    with pytest.raises(TalkstyleError, match="unknown style option"):
        parse_style_text("A man [loudness=3]")


def test_timeline_files_text_and_json(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("# mood\n0  A calm woman speaks\n0:02.5 --> 0:03.5  She becomes furious [intensity=1.5]\n"
                    "3.6  0.5*ref:clip.npz + 0.5*A happy woman\n")
    tl = read_timeline(text)
    assert [s.start for s in tl.segments] == [0, 2.5, 3.6] and tl.segments[1].end == 3.5
    assert tl.segments[1].style.intensity == 1.5 and tl.segments[2].style.parts[0].ref == tmp_path / "clip.npz"
    js = tmp_path / "t.json"
    js.write_text(json.dumps({"transition": 0.5, "segments": [
        {"start": 0, "style": CALM}, {"start": "0:02", "mix": [{"ref": "a.npz", "weight": 2}, {"style": ANGRY}],
                                      "edit": "furious"}]}))
    tl = read_timeline(js)
    assert tl.transition == 0.5 and tl.segments[1].start == 2.0 and tl.segments[1].style.edit == "furious"
    assert np.allclose(tl.segments[1].style.weights, [2 / 3, 1 / 3])


@pytest.mark.parametrize("content, message", [
    ("0 A\n2 B\n1 C\n", "times must increase"),
    ("0 --> 3 A\n2 B\n", "overlap"),
    ("0 A\n2 --> 1 B\n", "ends"),
    ("0 A\n-1 B\n", "times must be >= 0"),
    ("0 A\nnonsense\n", "expected 'TIME STYLE'"),
    ("", "empty"),
])
def test_bad_timelines_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(TalkstyleError, match=message):
        read_timeline(path)


def test_bad_json_timelines(tmp_path):
    for data, message in [({"segments": [{"start": 0, "style": "A", "colour": 1}]}, "unknown key"),
                          ({"segments": [{"style": "A"}]}, "needs a 'start'"),
                          ({"segments": [{"start": 0, "style": "A", "ref": "b.npz"}]}, "'style' or a 'ref'"),
                          ({"nothing": 1}, "segments")]:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(data))
        with pytest.raises(TalkstyleError, match=message):
            read_timeline(path)


def test_times_past_the_audio_end_and_argument_errors():
    tl = build_timeline(CALM, style_at=[(5.0, ANGRY)])
    with pytest.raises(TalkstyleError, match="past the end of the audio"):
        tl.check(duration=4.0)
    with pytest.raises(TalkstyleError, match="--mix has 3 weight"):
        build_timeline([CALM, ANGRY], mix=[1, 2, 3])
    with pytest.raises(TalkstyleError, match="intensity must be in"):
        build_timeline(CALM, intensity=2.5)
    with pytest.raises(TalkstyleError, match="non-negative"):
        build_timeline([CALM, ANGRY], mix=[1, -1])
    with pytest.raises(TalkstyleError, match="either in a timeline"):
        build_timeline(CALM, timeline=Timeline.single(make_style([ANGRY])))
    assert build_timeline() is None


# ------------------------------------------------------------------ frame weights
def test_frame_weights_are_smooth_and_half_way_at_the_asked_time():
    tl = build_timeline(CALM, style_at=[(2.0, ANGRY), (2.3, CALM)])
    w = tl.frame_weights(100)
    assert np.allclose(w.sum(1), 1) and (w >= 0).all()
    assert w[0, 0] == 1 and w[-1, 2] == 1
    assert w[50, 1] == pytest.approx(0.5)                # frame 50 = 2.0 s: half-way exactly there
    # The second change is 0.3 s later: both transitions shrink to fit, never three styles at once.
    assert ((w > 0).sum(1) <= 2).all()
    one = build_timeline(CALM, style_at=[(2.0, ANGRY)]).frame_weights(100)
    ramp = np.flatnonzero((one[:, 1] > 0) & (one[:, 1] < 1))
    assert len(ramp) == pytest.approx(DEFAULT_TRANSITION * 25, abs=1)
    assert np.abs(np.diff(one[:, 1])).max() < 2.5 / (DEFAULT_TRANSITION * 25)     # no jump


# ------------------------------------------------------------------ style vectors
def test_an_intensity_word_is_taken_out_of_the_prompt_it_scales():
    from talkstyle.style_control import _without_intensity_word, attributes

    cases = {"A woman talks with a strong delighted expression.": "A woman talks with a delighted expression.",
             "A man talks with a slight angry look, nodding.": "A man talks with an angry look, nodding.",
             "A man speaks with an Extreme disgust expression.": "A man speaks with a disgust expression.",
             "She sounds overwhelming sad": "She sounds sad",
             "A calm woman speaks with a strong voice.": "A calm woman speaks with a strong voice."}   # neutral: as is
    for prompt, plain in cases.items():
        assert _without_intensity_word(prompt, attributes(prompt)) == plain


@slow
def test_intensity_scales_the_emotion_offset_about_the_neutral_style():
    model = tiny_generator()
    r = StyleResolver(model)
    with torch.no_grad():
        s, neutral = r.text([ANGRY])[0], r.text(["A woman speaks with a neutral expression."])[0]
        c = {i: r.chains(make_style([ANGRY], intensity=i))[0] for i in (0.0, 0.5, 1.0, 1.5)}
        strong, slight = (r.chains(make_style([f"A woman speaks with a {w} angry expression."]))[0]
                          for w in ("strong", "slight"))
        plain, plain_neutral = r.text([f"A woman speaks with {e} expression." for e in ("an angry", "a neutral")])
    assert torch.equal(c[1.0].vector, s) and c[1.0].boost == 0     # as asked: the prompt's own style
    assert torch.allclose(c[0.0].vector, neutral, atol=1e-6)       # 0: the same prompt, neutral
    assert torch.allclose(c[0.5].vector, neutral + 0.5 * (s - neutral), atol=1e-6) and c[0.5].boost == 0
    # Beyond x1: the prompt's own style, pushed away from its neutral delivery by guidance.
    assert torch.allclose(c[1.5].vector, s, atol=1e-6) and c[1.5].boost == pytest.approx(0.5)
    assert torch.allclose(c[1.5].neutral, neutral, atol=1e-6)
    # An intensity word acts as --intensity at the data engine's amplitude law, on the prompt without it.
    assert torch.allclose(slight.vector, plain_neutral + word_gain(0.2) * (plain - plain_neutral), atol=1e-6)
    assert torch.allclose(strong.vector, plain, atol=1e-6) and strong.boost == pytest.approx(word_gain(0.8) - 1)
    assert torch.allclose(strong.neutral, plain_neutral, atol=1e-6)
    # The frames that exaggerate: the second segment's share.
    share = style_track(model, build_timeline(CALM, style_at=[(2.0, ANGRY + " [intensity=1.5]")]), 100).exaggerated_share
    assert share[0] == 0 and share[-1] == 1 and share[50] == pytest.approx(0.5)
    assert word_gain(0.5) == 1 and word_gain(0.2) < 1 < word_gain(1.0)


@slow
def test_a_blend_of_a_prompt_and_a_reference_and_an_edit():
    model = tiny_generator()
    r = StyleResolver(model)
    ref = reference()
    with torch.no_grad():
        p, q = (r.vector(make_style([ANGRY])), r.vector(make_style(refs=[ref])))
        mixed = r.vector(make_style([ANGRY], [ref], mix=[0.3, 0.7]))
        edited = r.vector(make_style(refs=[ref], edit=ANGRY))
        _, n_ref, _ = r.part_style(StylePart(ref=ref))
        angry, angry_neutral, _ = r.prompt_style(ANGRY)
    assert torch.allclose(mixed, 0.3 * p + 0.7 * q, atol=1e-5)       # weights are style-space weights
    assert torch.allclose(edited, n_ref + angry - angry_neutral, atol=1e-6)   # the clip, neutralised, made angry
    assert len(r.chains(make_style([ANGRY], [ref], mix=[0.3, 0.7]))) == 2
    assert len(r.chains(make_style([ANGRY], [ref]))) == 1           # joint
    ck = tiny_checkpoint()
    kw = dict(checkpoint=ck, settings=FAST, progress=False)
    blend = animate(SPEECH, ANGRY, ref, mix=[0.5, 0.5], **kw)
    joint = animate(SPEECH, ANGRY, ref, **kw)                   # no weights: the trained joint mode
    only = animate(SPEECH, ANGRY, ref, mix=[1, 0], **kw)
    prompt_only, ref_only = animate(SPEECH, ANGRY, **kw), animate(SPEECH, style_ref=ref, **kw)
    assert np.array_equal(only.weights, prompt_only.weights)
    pipe = TalkstylePipeline.from_pretrained(ck)                 # the pipeline takes the same controls
    wav = load_audio(SPEECH)
    assert np.array_equal(pipe(wav, ANGRY, ref, mix=[1, 0], settings=FAST).weights, prompt_only.weights)
    # A blend is made of its parts' generations: every weight lies between theirs, and it is neither.
    lo, hi = np.minimum(prompt_only.weights, ref_only.weights), np.maximum(prompt_only.weights, ref_only.weights)
    assert ((blend.weights >= lo - 1e-6) & (blend.weights <= hi + 1e-6)).all()
    for other in (prompt_only, ref_only, joint):
        assert not np.allclose(blend.weights, other.weights, atol=1e-3)


# ------------------------------------------------------------------ generation
@slow
def test_a_timeline_crossing_a_window_boundary():
    """Tiny windows are 20 frames (0.8 s): a change at 1.6 s with 0.8 s transition spans frames 30-50,
    across the window boundary at frame 40."""
    ck = tiny_checkpoint()
    calm = animate(SPEECH, CALM, checkpoint=ck, settings=FAST, progress=False)
    angry = animate(SPEECH, ANGRY, checkpoint=ck, settings=FAST, progress=False)
    tl = animate(SPEECH, CALM, style_at=[(1.6, ANGRY)], checkpoint=ck, settings=FAST, progress=False)
    # Windows before the change are the calm generation exactly (same noise, same style).
    assert np.array_equal(tl.weights[:20], calm.weights[:20])
    assert np.array_equal(tl.head[:15], calm.head[:15])          # the head is smoothed over +-4 frames
    assert not np.allclose(tl.weights[40:], calm.weights[40:], atol=1e-4)
    # After the change the style is the angry one: nearer the angry generation than the calm one.
    late = slice(60, None)
    assert np.abs(tl.weights[late] - angry.weights[late]).mean() < np.abs(tl.weights[late] - calm.weights[late]).mean()
    # No seam: the largest frame-to-frame jump in the transition is no larger than elsewhere in the clips.
    jump = lambda m, s: np.abs(np.diff(m.weights[s], axis=0)).max()      # noqa: E731
    assert jump(tl, slice(28, 52)) <= 1.5 * max(jump(calm, slice(None)), jump(angry, slice(None)))
    assert tl.metadata["timeline"][1]["start"] == 1.6


@slow
def test_one_style_through_frame_weights_is_the_plain_path():
    model = tiny_generator()
    feats = np.random.default_rng(0).standard_normal((50, model.cfg.audio_dim)).astype(np.float32)
    s = model.style_vector(None, motion_to_array(reference()))
    plain = model.generate(feats, s, steps=2)
    two = torch.stack([s, model.null_style.detach()])
    w = np.zeros((50, 2), np.float32)
    w[:, 0] = 1
    assert np.array_equal(model.generate(feats, two, steps=2, frame_weights=w), plain)


@slow
def test_exaggeration_guides_away_from_the_neutral_style():
    model = tiny_generator()
    feats = np.random.default_rng(0).standard_normal((50, model.cfg.audio_dim)).astype(np.float32)
    s = model.style_vector(None, motion_to_array(reference()))[None]
    n = model.null_style.detach()[None]
    plain = model.generate(feats, s, steps=2)
    # Guidance away from the style itself changes nothing; away from another style it moves the
    # motion, the further the larger the boost.
    same = model.generate(feats, s, steps=2, neutral=s, boost=np.array([1.0]))
    assert np.array_equal(same, plain)
    half, full = (model.generate(feats, s, steps=2, neutral=n, boost=np.array([b])) for b in (0.5, 1.0))
    assert 1e-5 < np.abs(half - plain).mean() < np.abs(full - plain).mean()
    with pytest.raises(ValueError, match="boost needs"):
        model.generate(feats, s, steps=2, boost=np.array([1.0]))


@slow
def test_intensity_0_and_1_5_and_head_words_per_segment():
    ck = tiny_checkpoint()
    kw = dict(checkpoint=ck, settings=FAST, progress=False)
    zero = animate(SPEECH, ANGRY, intensity=0.0, **kw)
    neutral = animate(SPEECH, "A woman speaks with a neutral expression.", **kw)
    assert np.allclose(zero.weights, neutral.weights, atol=1e-4)       # 0 = the same style, neutral
    high = animate(SPEECH, ANGRY, intensity=1.5, **kw)
    assert np.isfinite(high.weights).all() and not np.allclose(high.weights, zero.weights, atol=1e-3)
    # A nod in the second segment only: faded in with the segment's weight (seed + segment index).
    nod_prompt = CALM + " Nodding along."
    nod = animate(SPEECH, CALM, style_at=[(2.0, nod_prompt)], **kw)
    bare = animate(SPEECH, CALM, style_at=[(2.0, nod_prompt)], checkpoint=ck, settings=Settings(steps=2, head_words=False),
                   progress=False)
    burst = np.radians(oscillation_bursts(nod.num_frames, 25.0, np.random.default_rng(FAST.seed + 1),
                                          gesture_amplitude_deg(0.5)))
    share = build_timeline(CALM, style_at=[(2.0, nod_prompt)]).frame_weights(nod.num_frames)[:, 1]
    assert np.allclose(nod.head[:, 0] - bare.head[:, 0], share * burst, atol=1e-5)
    assert np.array_equal(nod.head[:40, 1:], bare.head[:40, 1:]) and share[:40].max() == 0
    assert np.abs(burst[share > 0]).max() > np.radians(3)


# ------------------------------------------------------------------ the command
@slow
def test_cli_style_control_and_its_errors(tmp_path, talkstyle, user_error):
    ref = reference().save(tmp_path / "ref.npz")
    ok = talkstyle("animate", "-a", SPEECH, "-o", tmp_path / "out", "--checkpoint", tiny_checkpoint(), "--steps", "2",
             "--style", CALM, "--style-ref", ref, "--mix", "0.3,0.7", "--style-at", "2.0", ANGRY, "--intensity", "1.2")
    assert ok.returncode == 0, ok.stderr
    meta = FaceMotion.load(tmp_path / "out" / "motion.npz").metadata["timeline"]
    assert meta[0]["style"].startswith("0.3*") and meta[1]["start"] == 2.0
    base = ("animate", "-a", SPEECH, "-o", tmp_path / "bad", "--checkpoint", tiny_checkpoint(), "--style", CALM)
    user_error(talkstyle(*base, "--style-at", "9", ANGRY), "past the end of the audio")
    user_error(talkstyle(*base, "--style-at", "2", ANGRY, "--style-at", "1", CALM), "times must increase")
    user_error(talkstyle(*base, "--style-ref", tmp_path / "missing.npz"), "style reference not found")
    user_error(talkstyle(*base, "--style-at", "2", f"ref:{tmp_path / 'missing.npz'}"), "style reference not found")
    user_error(talkstyle(*base, "--style-at", "2"), "--style-at takes a time and a style")
    user_error(talkstyle(*base, "--intensity", "3"), "intensity must be in")
    timeline = tmp_path / "t.txt"
    timeline.write_text("0 --> 3 A calm man\n2 An angry man\n")
    user_error(talkstyle("animate", "-a", SPEECH, "-o", tmp_path / "bad", "--timeline", timeline), "overlap")
    assert not (tmp_path / "bad").exists()


# ------------------------------------------------------------------ the measures
def test_control_measures_find_the_half_way_time_and_blends():
    from talkstyle.eval.control import BlendPoint, between, halfway_time, mix_fraction, spearman

    t = np.arange(250) / 25
    share = np.clip((t - 4.6) / 0.8, 0, 1)[:, None]          # a ramp centred on 5.0 s
    rng = np.random.default_rng(0)
    a, b = rng.random((250, 4)), rng.random((250, 4)) + 1
    frac = mix_fraction((1 - share) * a + share * b, a, b, smooth_frames=1)
    assert halfway_time(frac, 5.0) == pytest.approx(5.0, abs=0.02)
    late = np.clip((t - 6.6) / 0.8, 0, 1)[:, None]
    assert halfway_time(mix_fraction((1 - late) * a + late * b, a, b), 5.0) == pytest.approx(7.0, abs=0.05)
    assert np.isnan(halfway_time(np.zeros(250), 5.0))
    assert spearman([0, 1, 2], [0.1, 0.2, 0.3]) == 1 and np.isnan(spearman([0, 1, 2], [1, 1, 1]))
    pts = lambda mid: [BlendPoint(0.0, 0, 10, 1, 0), BlendPoint(0.5, mid, 10 - mid, .5, .5),   # noqa: E731
                       BlendPoint(1.0, 10, 0, 0, 1)]
    assert between(pts(5)) and not between(pts(0.0)) and not between(pts(10.5))


def test_exaggeration_keeps_the_closures_of_the_neutral_delivery():
    from talkstyle.face.arkit import INDEX
    from talkstyle.face.rig import FaceRig
    from talkstyle.style_control import keep_neutral_closures, speech_frames

    neutral = FaceMotion.neutral(30)
    nw = neutral.weights.copy()
    nw[10:20, INDEX["jawOpen"]] = 0.6                        # open in the middle, sealed around it
    neutral = FaceMotion(nw, neutral.head)
    loud = nw.copy()
    loud[:, INDEX["jawOpen"]] += 0.3                          # exaggerated: never closes
    loud[:, INDEX["mouthSmileLeft"]] = 0.8
    sealed = keep_neutral_closures(FaceMotion(loud, neutral.head), neutral, np.ones(30))
    gap = FaceRig.default().mouth_opening(sealed)
    assert (gap[:8] < 1.0).all() and (gap[22:] < 1.0).all() and (gap[12:18] > 5).all()
    assert np.array_equal(sealed.weights[:, INDEX["mouthSmileLeft"]], loud[:, INDEX["mouthSmileLeft"]])
    for share, speech in ((np.zeros(30), None), (np.ones(30), np.zeros(30, bool))):     # not asked / a pause
        assert np.array_equal(keep_neutral_closures(FaceMotion(loud, neutral.head), neutral, share, speech).weights, loud)
    wav = np.zeros(16000, np.float32)
    wav[4000:8000] = 0.1 * np.sin(np.arange(4000) / 5)       # sound from 0.25 to 0.5 s
    speech = speech_frames(wav, 25)
    assert not speech[:3].any() and speech[6:13].all() and not speech[17:].any()
