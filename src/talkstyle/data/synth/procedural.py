"""The procedural synthetic actor: the embedded stage II backend.

perform(prompt, line, person, seed): espeak-ng speaks the line in the person's voice with prosody
from the prompt's emotion and delivery; the phones drive the mouth (visemes.py); emotion, blinks,
brow emphasis and gaze are layered on (expression.py); the head moves with the speech (head.py).
The result is a 25 fps FaceMotion with its 16 kHz audio and exact ground truth. Every random draw
comes from the seed, so a job always gives the same clip.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...audio.tts import (Prosody, Speech, hold_vowels, melody, pad_silence, shape_prosody, speak, speak_piper,
                          voice_name)
from ...errors import TalkstyleError
from ...face.arkit import INDEX
from ...face.motion import DEFAULT_FPS, FaceMotion
from ..records import Prompt, SynthClip
from .acoustics import frame_energy, pitch_contour
from .base import SynthJob, SynthResult
from .expression import blink_weights, brow_weights, delivery_weights, emotion_weights, gaze_weights
from .head import head_rotation
from .person import PersonStyle
from .visemes import arkit_vector, mouth_track, seal_lips

# How wide the mouth moves per delivery; high-arousal emotions open it further with intensity.
DELIVERY_GAIN = {"speaks": 1.0, "whispers": 0.7, "shouts": 1.35, "sings": 1.2}
AROUSED = ("angry", "happy", "surprised", "fearful")
PAD_S = (0.15, 0.35)         # silence before and after the line, seconds
BLINK_FACTOR = {"neutral": 0.8, "sad": 0.9, "fearful": 1.4, "angry": 1.2, "surprised": 0.7}


def speak_as(line: str, prompt: Prompt, person: PersonStyle, rng: np.random.Generator) -> tuple[Speech, Prosody, str]:
    """The line in the person's voice, shaped by the prompt's emotion and delivery."""
    a = prompt.attributes
    base = Prosody(rate=person.rate, pitch=person.pitch, range=person.pitch_range)
    prosody = shape_prosody(base, a.family, a.level, a.delivery)
    voice = voice_name(person.voice, person.gender, a.delivery)
    if a.delivery == "sings":
        speech = speak(line, voice, prosody, melody=melody(len(line.split()), rng))
        speech = hold_vowels(speech, float(rng.uniform(1.6, 2.2)))
    elif person.engine == "piper" and a.delivery == "speaks":   # piper has no whisper/shout/pitch control
        voice = "piper:joe-us"
        speech = speak_piper(line, rate_factor=prosody.rate / person.rate, volume=prosody.volume / 100)
    else:
        speech = speak(line, voice, prosody)
    return pad_silence(speech, *rng.uniform(*PAD_S, size=2)), prosody, voice


def habits(mouth: np.ndarray, person: PersonStyle) -> np.ndarray:
    """(T, 52) the person's own way of talking, in proportion to how open the jaw is: lips a
    little spread or rounded, the jaw drifting to one side."""
    jaw = mouth[:, [INDEX["jawOpen"]]]
    h = person.lip_habit
    shape = arkit_vector({"mouthStretch": 0.25 * max(-h, 0), "mouthPucker": 0.25 * max(h, 0),
                          "mouthFunnel": 0.15 * max(h, 0),
                          "jawLeft": 0.15 * max(person.jaw_side, 0), "jawRight": 0.15 * max(-person.jaw_side, 0)})
    return jaw * shape[None]


def perform(prompt: Prompt, line: str, person: PersonStyle, seed: int, fps: float = DEFAULT_FPS) -> SynthClip:
    """One synthetic take: speech audio, phones and the ground-truth face motion."""
    if not line.strip():
        raise TalkstyleError("the line to speak is empty")
    a = prompt.attributes
    level = float(np.clip(a.level, 0, 1))
    r_voice, r_emotion, r_blink, r_brow, r_gaze, r_head = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6))

    speech, prosody, voice = speak_as(line, prompt, person, r_voice)
    n = max(1, int(np.ceil(speech.duration * fps)))
    energy = frame_energy(speech.audio, speech.sample_rate, n, fps)
    pitch = pitch_contour(speech.audio, speech.sample_rate, n, fps)
    arousal = 1 + 0.25 * level if a.family in AROUSED else 1.0
    gain = person.articulation * DELIVERY_GAIN.get(a.delivery, 1.0) * arousal * (0.75 + 0.35 * np.minimum(energy, 1))
    mouth = mouth_track(speech.phones, n, fps, gain, person.lead)

    pauses = [p.start for p in speech.phones if not p.symbol and p.end - p.start > 0.15]
    stressed = [p.start for p in speech.phones if "ˈ" in p.symbol]
    blink_rate = person.blink_rate * BLINK_FACTOR.get(a.family, 1.0)
    weights = (mouth.weights
               + habits(mouth.weights, person)
               + emotion_weights(a.family, level, person, n, fps, r_emotion)
               + delivery_weights(a.delivery, energy, person)
               + blink_weights(n, fps, blink_rate, pauses, r_blink)
               + brow_weights(stressed, pitch, a.family, level, a.delivery, person, n, fps, r_brow)
               + gaze_weights(n, fps, person, a.family, r_gaze))
    weights = seal_lips(np.clip(weights, 0, 1), mouth.closure)
    head = head_rotation(n, fps, energy, pitch, stressed, a.family, level, a.head_motion, a.delivery, person,
                         r_head)

    motion = FaceMotion(weights, head, fps, audio=speech.audio, sample_rate=speech.sample_rate, metadata={
        "backend": "procedural", "seed": int(seed), "prompt": prompt.text, "line": line,
        "attributes": a.to_dict(), "person": person.to_dict(), "voice": voice,
        "prosody": {"rate": prosody.rate, "pitch": prosody.pitch, "range": prosody.range, "volume": prosody.volume},
    })
    return SynthClip(motion=motion, prompt=prompt, line=line, person=person.person_id, phones=speech.phones)


def render_clip(clip: SynthClip, path: str | Path, size: int = 256) -> Path:
    """Preview mp4 of a clip: the FaceRig rendered with the clip's audio, captioned with its prompt."""
    from ...render.grid import render_grid

    return render_grid([clip.motion], path, [clip.prompt.text], size=size, columns=1, progress=False)


class ProceduralBackend:
    """SynthBackend: the person's style comes from the job's person id and the prompt's subject.
    `piper_share` of the grown men speak with piper's natural voice (slow: off by default)."""
    name = "procedural"

    def __init__(self, fps: float = DEFAULT_FPS, piper_share: float = 0.0) -> None:
        self.fps = fps
        self.piper_share = piper_share

    def synthesize(self, job: SynthJob, workdir: Path) -> SynthResult:
        a = job.prompt.attributes
        person = PersonStyle.from_id(job.person, a.gender, a.age_group, self.piper_share)
        return SynthResult(clip=perform(job.prompt, job.line, person, job.seed, self.fps))


class ProceduralPiperBackend(ProceduralBackend):
    """The procedural actor with half of the grown men on piper's natural voice
    (`talkstyle data build --backend talkstyle.data.synth.procedural:ProceduralPiperBackend`)."""

    def __init__(self, fps: float = DEFAULT_FPS) -> None:
        super().__init__(fps, piper_share=0.5)
