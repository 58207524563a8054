"""`animate()` and `talkstyle animate`: a tiny trained model on real speech, bad input, the shipped model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from talkstyle import assets
from talkstyle.animate import Settings, animate
from talkstyle.audio.io import load_audio
from talkstyle.errors import TalkstyleError
from talkstyle.face.motion import FaceMotion
from talkstyle.model.checkpoint import DEFAULT_CHECKPOINT

pytestmark = pytest.mark.slow           # trains models or builds datasets

SPEECH = assets.path("demo_speech.wav")
FAST = Settings(steps=3)
PROMPT = "A young woman speaks with a strong happy expression, nodding."


def expected_frames(path: Path) -> int:
    return int(round(sf.info(str(path)).duration * 25))


def test_animate_writes_every_output(tmp_path, tiny_checkpoint):
    motion = animate(SPEECH, PROMPT, checkpoint=tiny_checkpoint, out_dir=tmp_path, settings=FAST, progress=False)
    assert abs(motion.num_frames - expected_frames(SPEECH)) <= 1
    assert motion.sample_rate == 16000 and len(motion.audio) == len(load_audio(SPEECH))
    assert motion.metadata["prompt"] == PROMPT
    for name in ("motion.npz", "preview.mp4", "livelink.csv", "face.glb"):
        assert (tmp_path / name).stat().st_size > 0, name
    saved = FaceMotion.load(tmp_path / "motion.npz")
    assert np.array_equal(saved.weights, motion.weights) and np.array_equal(saved.head, motion.head)


def test_style_changes_the_motion_and_seeds_repeat(tiny_checkpoint, tiny_dataset):
    text = animate(SPEECH, PROMPT, checkpoint=tiny_checkpoint, settings=FAST, progress=False)
    again = animate(SPEECH, PROMPT, checkpoint=tiny_checkpoint, settings=FAST, progress=False)
    ref = FaceMotion.load(sorted((tiny_dataset / "clips").glob("*.npz"))[0])
    both = animate(SPEECH, PROMPT, ref, checkpoint=tiny_checkpoint, settings=FAST, progress=False)
    assert np.array_equal(text.weights, again.weights)
    assert not np.allclose(text.weights, both.weights)


def test_head_motion_words_move_the_head(tiny_checkpoint):
    base = "A young woman speaks with a strong happy expression"
    pitch_std = {}
    for words in ("", ", nodding along", ", keeping the head still"):
        motion = animate(SPEECH, base + words, checkpoint=tiny_checkpoint, settings=FAST, progress=False)
        pitch_std[words] = np.degrees(motion.head[:, 0].std())
    assert pitch_std[", nodding along"] > 2.0 > pitch_std[""] > pitch_std[", keeping the head still"]
    off = animate(SPEECH, base + ", nodding along", checkpoint=tiny_checkpoint, settings=Settings(steps=3, head_words=False),
                  progress=False)
    assert np.degrees(off.head[:, 0].std()) < 2.0


def test_any_audio_format_48k_stereo(tmp_path, tiny_checkpoint):
    audio, sr = sf.read(str(SPEECH))
    x48 = np.interp(np.arange(0, len(audio), sr / 48000), np.arange(len(audio)), audio)
    path = tmp_path / "stereo48k.wav"
    sf.write(str(path), np.stack([x48, 0.5 * x48], 1), 48000)
    motion = animate(path, PROMPT, checkpoint=tiny_checkpoint, settings=FAST, progress=False)
    assert abs(motion.num_frames - expected_frames(SPEECH)) <= 1


def test_silent_audio_warns_and_still_animates(tiny_checkpoint):
    with pytest.warns(UserWarning, match="silent"):
        motion = animate(np.zeros(16000, np.float32), PROMPT, checkpoint=tiny_checkpoint, settings=FAST,
                         progress=False)
    assert motion.num_frames == 25


def test_non_english_prompt_warns(tiny_checkpoint):
    with pytest.warns(UserWarning, match="no style words"):
        animate(np.zeros(8000, np.float32) + 0.01, "Der Mann spricht", checkpoint=tiny_checkpoint, settings=FAST,
                progress=False)


def test_reference_without_a_face_is_an_error(tmp_path, tiny_checkpoint):
    blind = FaceMotion.neutral(50)
    blind.confidence = np.zeros(50, np.float32)
    with pytest.raises(TalkstyleError, match="no face"):
        animate(SPEECH, None, blind, checkpoint=tiny_checkpoint, settings=FAST, progress=False)
    with pytest.raises(TalkstyleError, match="must be a motion .npz or a video"):
        animate(SPEECH, None, SPEECH, checkpoint=tiny_checkpoint, settings=FAST, progress=False)


def test_video_reference_without_a_face_is_an_error(tmp_path, tiny_checkpoint):
    from talkstyle.render.video import write_video

    video = write_video(tmp_path / "wall.mp4", (np.full((64, 64, 3), 128, np.uint8) for _ in range(10)), 25.0)
    with pytest.raises(TalkstyleError, match="no face"):
        animate(SPEECH, None, video, checkpoint=tiny_checkpoint, settings=FAST, progress=False)


def test_cli_errors_are_one_line_and_leave_no_output(tmp_path, talkstyle, user_error):
    out = tmp_path / "out"
    user_error(talkstyle("animate", "--audio", SPEECH, "--style", "  ", "-o", out), "prompt is empty")
    user_error(talkstyle("animate", "--audio", tmp_path / "none.wav", "--style", PROMPT, "-o", out), "not found")
    user_error(talkstyle("animate", "--audio", SPEECH, "--style", PROMPT, "--checkpoint", tmp_path, "-o", out),
                      "not a talkstyle checkpoint")
    user_error(talkstyle("animate", "--audio", SPEECH, "--style", PROMPT, "--sampler", "euler", "-o", out),
                      "unknown sampler")
    assert not out.exists()


def test_outputs_choose_the_files_and_drop_an_earlier_runs_others(tmp_path, tiny_checkpoint):
    animate(SPEECH, PROMPT, checkpoint=tiny_checkpoint, out_dir=tmp_path, settings=FAST, progress=False,
            outputs=("npz", "mp4", "csv", "glb"))
    animate(SPEECH, PROMPT, checkpoint=tiny_checkpoint, out_dir=tmp_path, settings=FAST, progress=False,
            outputs=("glb", "npz"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.glb", "motion.npz"]   # no mix of two runs
    with pytest.raises(TalkstyleError, match="--outputs takes"):
        animate(SPEECH, PROMPT, checkpoint=tiny_checkpoint, out_dir=tmp_path, outputs=("npz", "fbx"))


def test_batch_animates_a_folder_with_one_model_load_and_resumes(tmp_path, tiny_checkpoint):
    from talkstyle.animate import _pipeline, animate_folder

    audio = load_audio(SPEECH)[:16000 * 2]
    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(str(folder / "a.wav"), audio, 16000)
    sf.write(str(folder / "b.flac"), audio[::-1].copy(), 16000)
    (folder / "c.wav").write_bytes(b"RIFF not really a wav")
    (folder / "notes.txt").write_text("not audio")
    _pipeline.cache_clear()
    said: list[str] = []
    done, skipped, failed = animate_folder(folder, tmp_path / "out", style=PROMPT, checkpoint=tiny_checkpoint,
                                           settings=FAST, progress=False, outputs=("npz", "csv"), say=said.append)
    assert [p.name for p in done] == ["a.wav", "b.flac"] and not skipped and list(failed) == [folder / "c.wav"]
    assert _pipeline.cache_info().misses == 1                       # the model loaded once
    assert sorted(p.name for p in (tmp_path / "out" / "a").iterdir()) == ["livelink.csv", "motion.npz"]
    assert not (tmp_path / "out" / "c").exists() and any("c.wav" in s for s in said)
    done, skipped, failed = animate_folder(folder, tmp_path / "out", style=PROMPT, checkpoint=tiny_checkpoint,
                                           settings=FAST, progress=False, outputs=("npz", "csv"), say=said.append)
    assert not done and [p.name for p in skipped] == ["a.wav", "b.flac"] and len(failed) == 1
    with pytest.raises(TalkstyleError, match="prompt is empty"):      # style errors stop before any file
        animate_folder(folder, tmp_path / "out2", style="  ", checkpoint=tiny_checkpoint)
    assert not (tmp_path / "out2").exists()


def test_cli_batch_and_outputs(tmp_path, talkstyle, user_error, tiny_checkpoint):
    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(str(folder / "one.wav"), load_audio(SPEECH)[:16000], 16000)
    r = talkstyle("animate", "-a", folder, "--style", PROMPT, "--checkpoint", tiny_checkpoint, "--steps", "2",
                  "--outputs", "glb", "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert "1 animated" in r.stdout and (tmp_path / "out" / "one" / "face.glb").is_file()
    user_error(talkstyle("animate", "-a", SPEECH, "--style", PROMPT, "--outputs", "npz,gif", "-o", tmp_path / "o2"),
               "--outputs takes")
    (folder / "one.wav").unlink()
    user_error(talkstyle("animate", "-a", folder, "--style", PROMPT, "-o", tmp_path / "o3"), "no audio files")


def test_shipped_model_lip_syncs_real_speech():
    """The bundled model on human speech: the mouth opens with the voice and rests in the pauses."""
    assert (DEFAULT_CHECKPOINT / "model.safetensors").stat().st_size < 20e6
    motion = animate(SPEECH, PROMPT, settings=Settings(steps=6), progress=False)
    audio = motion.audio
    hop = 16000 // 25
    env = np.array([np.sqrt(np.mean(audio[i * hop:(i + 1) * hop] ** 2)) for i in range(motion.num_frames)])
    opening = motion.channel("jawOpen")
    assert np.corrcoef(opening, env)[0, 1] > 0.3
    assert opening.max() > 0.15
