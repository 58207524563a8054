"""The procedural synthetic actor: lips, emotions, intensity, person style, head, determinism."""
import numpy as np
import pytest

from talkstyle.vocab.attributes import Prompt, StyleAttributes
from talkstyle.data.synth.base import SynthJob
from talkstyle.data.synth.person import PersonStyle
from talkstyle.audio import festvox
from talkstyle.data.synth.procedural import ProceduralBackend, disfluent, perform
from talkstyle.data.synth.visemes import LEAD_S, lip_gap
from talkstyle.data.synth.voices import ESPEAK, PIPER
from talkstyle.errors import TalkstyleError
from talkstyle.face.arkit import INDEX

LINE = "Maybe Bob bought a big map of the harbour, but papa lost it."
MAN = PersonStyle.from_id("test-man", "male", "adult")


def take(family="neutral", level=0.8, head_motion="natural", delivery="speaks", seed=1, person=MAN, line=LINE):
    a = StyleAttributes(subject="man", gender="male", emotion=family, family=family, level=level,
                        head_motion=head_motion, delivery=delivery)
    return perform(Prompt(f"A man {delivery} ({family}).", a), line, person, seed)


@pytest.fixture(scope="module")
def clips():
    return {f: take(f) for f in ("neutral", "happy", "sad", "angry", "surprised", "fearful", "disgusted")}


def mean(clip, *names):
    return float(np.mean([clip.motion.channel(n).mean() for n in names]))


def test_clip_is_a_valid_25fps_motion_with_audio(clips):
    m = clips["neutral"].motion
    assert m.fps == 25 and m.sample_rate == 16000 and m.weights.shape[1] == 52
    assert abs(m.duration - len(m.audio) / 16000) <= 1 / 25
    assert 0 <= m.weights.min() and m.weights.max() <= 1
    assert clips["neutral"].phones and m.metadata["backend"] == "procedural"


def test_lips_close_on_bilabials_and_open_on_open_vowels(clips):
    for clip in clips.values():
        w, n = clip.motion.weights, clip.motion.num_frames
        gap = lip_gap(w)
        frame = lambda p: min(n - 1, max(0, round(((p.start + p.end) / 2 - LEAD_S) * 25)))  # noqa: E731
        closures = [gap[frame(p)] for p in clip.phones if p.symbol in ("p", "b", "m")]
        opens = [w[frame(p), INDEX["jawOpen"]] for p in clip.phones if p.symbol.lstrip("ˈˌ")[:1] in tuple("aɑæ")]
        assert len(closures) >= 8 and max(closures) < 0.06, clip.prompt.attributes.family
        assert len(opens) >= 3 and np.mean(opens) > 0.3 and np.mean(opens) > 5 * np.mean(closures)


def test_emotions_move_their_channels(clips):
    n = clips["neutral"]
    assert mean(clips["happy"], "mouthSmileLeft", "mouthSmileRight", "cheekSquintLeft") > mean(
        n, "mouthSmileLeft", "mouthSmileRight", "cheekSquintLeft") + 0.2
    assert mean(clips["sad"], "browInnerUp") > mean(n, "browInnerUp") + 0.2
    assert mean(clips["sad"], "mouthFrownLeft", "mouthFrownRight") > mean(n, "mouthFrownLeft") + 0.2
    assert mean(clips["angry"], "browDownLeft", "browDownRight") > mean(n, "browDownLeft") + 0.3
    assert mean(clips["surprised"], "eyeWideLeft", "browOuterUpLeft") > mean(n, "eyeWideLeft", "browOuterUpLeft") + 0.3
    assert mean(clips["fearful"], "mouthStretchLeft") > mean(n, "mouthStretchLeft") + 0.2
    assert mean(clips["disgusted"], "noseSneerLeft", "noseSneerRight") > mean(n, "noseSneerLeft") + 0.3
    assert mean(clips["happy"], "browDownLeft") < 0.1   # no stray anger in a smile


def test_intensity_scales_the_expression(clips):
    slight = take("happy", level=0.1)
    assert mean(clips["happy"], "mouthSmileLeft") > 1.5 * mean(slight, "mouthSmileLeft")


def test_person_style_is_deterministic_per_id_and_differs_across_ids():
    assert PersonStyle.from_id("p1", "female", "young") == PersonStyle.from_id("p1", "female", "young")
    people = [PersonStyle.from_id(f"p{i}", "female", "adult") for i in range(20)]
    assert len({p.articulation for p in people}) == 20 and len({p.voice for p in people}) >= 3
    assert all(p.voice.startswith("f") for p in people)
    assert all(p.voice.startswith("m") for p in (PersonStyle.from_id(f"q{i}", "male") for i in range(10)))
    kid, senior = PersonStyle.from_id("k", "male", "child"), PersonStyle.from_id("k", "male", "senior")
    assert kid.pitch > senior.pitch


def test_person_articulation_shows_in_the_mouth():
    wide = PersonStyle.from_id("wide", "male")
    narrow = PersonStyle.from_id("narrow", "male")
    import dataclasses
    wide, narrow = dataclasses.replace(wide, articulation=1.3), dataclasses.replace(wide, articulation=0.7)
    jaw = lambda p: take(person=p).motion.channel("jawOpen").mean()  # noqa: E731
    assert jaw(wide) > 1.5 * jaw(narrow)
    rounder = take(person=dataclasses.replace(wide, lip_habit=1.0, jaw_side=1.0)).motion
    spreader = take(person=dataclasses.replace(wide, lip_habit=-1.0, jaw_side=-1.0)).motion
    assert rounder.channel("mouthPucker").mean() > spreader.channel("mouthPucker").mean() + 0.03
    assert spreader.channel("mouthStretchLeft").mean() > rounder.channel("mouthStretchLeft").mean() + 0.02
    assert rounder.channel("jawLeft").max() > 0.03 and rounder.channel("jawRight").max() == 0


def test_head_nods_shakes_and_holds_still():
    def spread(clip):   # std of the head angles over the clip (degrees)
        return np.degrees(clip.motion.head).std(0)
    nod, shake, still = (spread(take(head_motion=h)) for h in ("nod", "shake", "still"))
    assert nod[0] > 2.5 and nod[0] > 2 * nod[1]
    assert shake[1] > 2.5 and shake[1] > 2 * shake[0]
    assert still.max() < 0.5
    sad = np.degrees(take("sad", level=1.0, head_motion="still").motion.head[:, 0]).mean()
    assert sad > 4   # a sad head hangs (pitch > 0 = down)


def test_blinks_happen_at_a_human_rate():
    clip = take(line=LINE + " " + LINE + " " + LINE)
    blink = clip.motion.channel("eyeBlinkLeft")
    blinks = int(((blink[1:] > 0.5) & (blink[:-1] <= 0.5)).sum())
    per_min = blinks / clip.motion.duration * 60
    assert 4 <= per_min <= 40 and blink.max() > 0.9


def test_whole_clip_is_deterministic_for_a_seed(clips):
    again = take("neutral")
    assert np.array_equal(again.motion.weights, clips["neutral"].motion.weights)
    assert np.array_equal(again.motion.head, clips["neutral"].motion.head)
    assert np.array_equal(again.motion.audio, clips["neutral"].motion.audio)
    other = take("neutral", seed=2)
    assert not np.array_equal(other.motion.head, clips["neutral"].motion.head)


def test_deliveries_change_voice_and_mouth(clips):
    whisper, shout, sing = (take(delivery=d) for d in ("whispers", "shouts", "sings"))
    rms = lambda c: float(np.sqrt((c.motion.audio ** 2).mean()))  # noqa: E731
    assert rms(shout) > 1.5 * rms(whisper)
    jaw = lambda c: c.motion.channel("jawOpen").mean()  # noqa: E731
    assert jaw(shout) > jaw(clips["neutral"]) > jaw(whisper)
    assert sing.motion.duration > 1.3 * clips["neutral"].motion.duration
    roll = lambda c: np.degrees(c.motion.head[:, 2]).std()  # noqa: E731
    assert roll(sing) > 1.5 * roll(clips["neutral"])   # singers sway
    assert whisper.motion.metadata["voice"] == "en-us+whisper"
    wide = lambda c: c.motion.channel("eyeWideLeft").mean()  # noqa: E731
    assert wide(shout) > wide(clips["neutral"]) + 0.1   # a shouting face strains


def test_backend_implements_the_protocol(tmp_path):
    a = StyleAttributes(subject="young lady", gender="female", age_group="young", family="happy", level=0.6)
    job = SynthJob("c1", Prompt("A young lady speaks happily.", a), "Hello there, my friend.", "person-3", 7)
    result = ProceduralBackend().synthesize(job, tmp_path)
    assert result.clip is not None and result.clip.person == "person-3" and result.video is None
    assert result.clip.motion.metadata["person"]["voice"].startswith("f")


def test_empty_line_is_a_clear_error():
    with pytest.raises(TalkstyleError):
        take(line="  ")


def test_pitch_tracker_and_energy():
    from talkstyle.data.synth.acoustics import frame_energy, frame_pitch

    sr, n = 16000, 50
    t = np.arange(2 * sr) / sr
    tone = (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)
    f0, voiced = frame_pitch(tone, sr, n, 25)
    assert voiced[2:-2].all() and np.allclose(f0[2:-2], 180, rtol=0.03)
    noise = np.random.default_rng(0).standard_normal(2 * sr).astype(np.float32) * 0.1
    assert frame_pitch(noise, sr, n, 25)[1].mean() < 0.2
    f0, voiced = frame_pitch(np.zeros(2 * sr, np.float32), sr, n, 25)   # silence: finite, unvoiced
    assert np.isfinite(f0).all() and (f0 > 0).all() and not voiced.any()
    half = np.concatenate([tone[:sr], np.zeros(sr, np.float32)])
    e = frame_energy(half, sr, n, 25)
    assert e[5:20].min() > 0.9 and e[30:].max() < 0.01


def _closures(clip) -> list[float]:
    gap, n = lip_gap(clip.motion.weights), clip.motion.num_frames
    return [gap[min(n - 1, round(((p.start + p.end) / 2 - LEAD_S) * 25))] for p in clip.phones
            if p.symbol in ("p", "b", "m")]


def test_voices_follow_gender_and_age():
    both = (ESPEAK, PIPER)
    drawn = {PersonStyle.from_id(f"v{i}", "male", "adult", both).engine for i in range(40)}
    assert drawn == {ESPEAK, PIPER}                       # some persons on each voice
    assert {PersonStyle.from_id(f"v{i}", "female", "adult", both).engine for i in range(20)} == {ESPEAK}
    assert {PersonStyle.from_id(f"v{i}", "male", "child", both).engine for i in range(20)} == {ESPEAK}
    assert PersonStyle.from_id("pp", "male", "adult").engine == ESPEAK
    # The voice draw has its own stream: the person's other traits do not depend on the voice set.
    a, b = PersonStyle.from_id("pp", "male", "adult"), PersonStyle.from_id("pp", "male", "adult", both)
    assert (a.articulation, a.rate, a.lip_habit) == (b.articulation, b.rate, b.lip_habit)


def test_piper_persons_keep_their_lip_sync():
    clip = take(person=PersonStyle.from_id("pp", "male", "adult", (PIPER,)))
    assert clip.motion.metadata["voice"] == PIPER
    closures = _closures(clip)
    assert len(closures) >= 8 and max(closures) < 0.06


@pytest.mark.skipif(not festvox.available_voices(), reason="Festival / Flite not installed (make voices)")
@pytest.mark.parametrize("voice", ["festival:kal", "flite:slt"])
def test_festvox_persons_seal_their_lips(voice):
    if voice not in festvox.available_voices():
        pytest.skip(f"{voice} not installed (make voices)")
    gender = "female" if voice.endswith("slt") else "male"
    clip = take(person=PersonStyle.from_id("fv", gender, "adult", (voice,)))
    assert clip.motion.metadata["voice"] == voice
    closures = _closures(clip)
    assert len(closures) >= 8 and max(closures) < 0.06
    assert abs(clip.motion.duration - len(clip.motion.audio) / 16000) < 0.05


def test_fast_takes_undershoot_but_still_seal():
    fast = [perform(Prompt("A man speaks.", StyleAttributes()), LINE, MAN, seed=s) for s in range(12)]
    tempos = np.array([c.motion.metadata["tempo"] for c in fast])
    assert tempos.max() > 1.2 and tempos.min() < 1.1   # fast conversational takes among ordinary ones
    for c in fast:
        assert max(_closures(c)) < 0.06                 # p/b/m seal at any tempo
    jaw = np.array([np.percentile(c.motion.channel("jawOpen"), 95) for c in fast])
    assert np.corrcoef(tempos, jaw)[0, 1] < 0            # faster -> smaller mouth travel


def test_disfluent_lines_restart_and_pause():
    rng = np.random.default_rng(0)
    said = [disfluent(LINE, rng) for _ in range(40)]
    assert any(s.count(",") > LINE.count(",") for s in said)
    assert any(len(s.split()) == len(LINE.split()) + 2 for s in said)     # a two-word restart
    assert sum(s == LINE for s in said) > 10                               # most lines as written


def test_gaze_shifts_and_brow_emphasis(clips):
    w = take(line=LINE + " " + LINE).motion.weights
    look = w[:, [INDEX[n] for n in INDEX if n.startswith("eyeLook")]].max(1)
    assert (look > 0.03).mean() > 0.1          # the eyes leave the listener now and then
    brow = w[:, INDEX["browOuterUpLeft"]]
    assert brow.max() > 0.1 and np.median(brow) < 0.05   # raises come in pulses, not a hold
    down = lambda c: c.motion.channel("eyeLookDownLeft").mean()  # noqa: E731
    assert down(clips["sad"]) > down(clips["neutral"]) + 0.1


def test_emotion_shapes_the_voice_and_the_clip_saves(clips, tmp_path):
    assert clips["sad"].motion.duration > clips["happy"].motion.duration   # sad speech is slower
    from talkstyle.face.motion import FaceMotion

    path = clips["angry"].motion.save(tmp_path / "clip.npz")
    back = FaceMotion.load(path)
    assert np.array_equal(back.weights, clips["angry"].motion.weights)
    assert back.metadata["person"]["person_id"] == "test-man" and back.metadata["attributes"]["family"] == "angry"


def test_render_clip_writes_a_preview_with_audio(tmp_path):
    import av

    from talkstyle.data.synth.procedural import render_clip

    clip = take(line="Bob met Pam.")
    path = render_clip(clip, tmp_path / "clip.mp4", size=64)
    with av.open(str(path)) as f:
        assert f.streams.video and f.streams.audio
        assert abs(f.streams.video[0].frames - clip.motion.num_frames) <= 1
