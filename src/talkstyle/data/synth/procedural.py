"""The procedural synthetic actor: the embedded stage II backend.

perform(prompt, line, person, seed): the person's voice (espeak-ng, piper, or a Festival / Flite
voice cut from real recordings: voices.py) speaks the line with prosody from the prompt's emotion
and delivery, at a tempo drawn per take (a share of them fast and conversational, with pauses and
restarts, the mouth undershooting at speed as real mouths do); the phones drive the mouth (visemes.py); emotion, blinks,
brow emphasis and gaze are layered on (expression.py); the head moves with the speech (head.py).
The result is a 25 fps FaceMotion with its 16 kHz audio and exact ground truth. Every random draw
comes from the seed, so a job always gives the same clip.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ...audio.festvox import speak_festvox
from ...audio.tts import Prosody, Speech, speak, speak_piper
from ...errors import TalkstyleError
from ...face.arkit import INDEX
from ...face.motion import DEFAULT_FPS, FaceMotion
from ..records import SynthClip
from ...vocab.attributes import Prompt
from .acoustics import frame_energy, pitch_contour
from .base import SynthJob, SynthResult
from .expression import blink_weights, brow_weights, delivery_weights, emotion_weights, gaze_weights
from .head import head_rotation
from .person import PersonStyle
from ...face.lip_seal import seal_lips
from .visemes import arkit_vector, mouth_track
from .voice_rules import hold_vowels, melody, pad_silence, shape_prosody, voice_name
from .voices import ESPEAK, PIPER

# How wide the mouth moves per delivery; high-arousal emotions open it further with intensity.
DELIVERY_GAIN = {"speaks": 1.0, "whispers": 0.7, "shouts": 1.35, "sings": 1.2}
AROUSED = ("angry", "happy", "surprised", "fearful")
PAD_S = (0.15, 0.35)         # silence before and after the line, seconds
BLINK_FACTOR = {"neutral": 0.8, "sad": 0.9, "fearful": 1.4, "angry": 1.2, "surprised": 0.7}
NEUTRAL_WPM = 165            # espeak-ng's default rate: rate factor 1 for the other engines
FAST_SHARE = 0.3             # takes at a fast conversational tempo
RESTART_SHARE, PAUSE_SHARE = 0.2, 0.3
UNDERSHOOT = 0.5             # mouth opening x tempo^-UNDERSHOOT: less travel when speaking fast
EFFORT_DB = 6.0              # takes from quieter to louder than the delivery: +-6 dB...
EFFORT_GAIN = 0.12           # ...and a mouth a little smaller or wider with it


def speak_as(line: str, prompt: Prompt, person: PersonStyle, rng: np.random.Generator,
             tempo: float = 1.0) -> tuple[Speech, Prosody, str]:
    """The line in the person's voice, shaped by the prompt's emotion and delivery; `tempo`
    scales the speaking rate on top (people talk faster than the rate they read at)."""
    a = prompt.attributes
    base = Prosody(rate=person.rate, pitch=person.pitch, range=person.pitch_range)
    prosody = shape_prosody(base, a.family, a.level, a.delivery)
    prosody = dataclasses.replace(prosody, rate=round(prosody.rate * tempo)).clamped()
    voice = voice_name(person.voice, person.gender, a.delivery)
    natural = person.engine != ESPEAK and a.delivery in ("speaks", "shouts")   # whisper and song: espeak-ng
    if a.delivery == "sings":
        speech = speak(line, voice, prosody, melody=melody(len(line.split()), rng))
        speech = hold_vowels(speech, float(rng.uniform(1.6, 2.2)))
    elif natural:
        voice = person.engine
        rate = prosody.rate / NEUTRAL_WPM
        volume = prosody.volume / 100
        if voice == PIPER:
            speech = speak_piper(line, rate_factor=rate, volume=volume)
        else:   # the prompt's pitch offset (espeak units ~ percent) moves the base pitch
            speech = speak_festvox(line, voice, rate_factor=rate, volume=volume,
                                   f0=person.f0 * (1 + (prosody.pitch - person.pitch) / 100))
    else:
        speech = speak(line, voice, prosody)
    return pad_silence(speech, *rng.uniform(*PAD_S, size=2)), prosody, voice


def draw_tempo(rng: np.random.Generator) -> float:
    """How much faster than the person's reading rate this take is spoken: most takes near it,
    FAST_SHARE of them at a fast conversational pace (up to ~6-7 syllables a second)."""
    if rng.random() < FAST_SHARE:
        return float(rng.uniform(1.2, 1.75))
    return float(np.exp(rng.normal(0.0, 0.08)))


def disfluent(line: str, rng: np.random.Generator) -> str:
    """The line as people say it: now and then a pause (a comma the voice honours) and a
    restart (two words said again after a pause: "we must, we must move the boxes")."""
    words = line.split()
    if len(words) < 6:
        return line
    out = list(words)
    if rng.random() < RESTART_SHARE:
        k = int(rng.integers(2, len(words) - 2))
        said = words[:k - 1] + [words[k - 1].rstrip(",.;:!?") + ","]
        again = [words[k - 2].lower() if words[k - 2] != "I" else "I", words[k - 1]]
        out = said + again + words[k:]
    if rng.random() < PAUSE_SHARE:
        k = int(rng.integers(1, len(out) - 1))
        if not out[k - 1].endswith((",", ".", ";", ":", "!", "?")):
            out[k - 1] += ","
    return " ".join(out)


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
    r_voice, r_emotion, r_blink, r_brow, r_gaze, r_head, r_take = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7))

    tempo = draw_tempo(r_take) if a.delivery != "sings" else 1.0
    spoken = disfluent(line, r_take) if a.delivery != "sings" else line
    effort = float(r_take.uniform(-1, 1))
    speech, prosody, voice = speak_as(spoken, prompt, person, r_voice, tempo)
    speech = dataclasses.replace(speech, audio=_louder(speech.audio, EFFORT_DB * effort))
    n = max(1, int(np.ceil(speech.duration * fps)))
    energy = frame_energy(speech.audio, speech.sample_rate, n, fps)
    pitch = pitch_contour(speech.audio, speech.sample_rate, n, fps)
    arousal = 1 + 0.25 * level if a.family in AROUSED else 1.0
    gain = (person.articulation * DELIVERY_GAIN.get(a.delivery, 1.0) * arousal * (0.75 + 0.35 * np.minimum(energy, 1))
            * tempo ** -UNDERSHOOT * (1 + EFFORT_GAIN * effort))
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
        "attributes": a.to_dict(), "person": person.to_dict(), "voice": voice, "tempo": tempo,
        "prosody": {"rate": prosody.rate, "pitch": prosody.pitch, "range": prosody.range, "volume": prosody.volume},
    })
    return SynthClip(motion=motion, prompt=prompt, line=spoken, person=person.person_id, phones=speech.phones)


def _louder(audio: np.ndarray, db: float) -> np.ndarray:
    """Gain in dB, scaled down (never clipped) where the peak would pass 0.98."""
    out = audio * np.float32(10 ** (db / 20))
    peak = float(np.abs(out).max(initial=0.0))
    return out * np.float32(0.98 / peak) if peak > 0.98 else out


def render_clip(clip: SynthClip, path: str | Path, size: int = 256) -> Path:
    """Preview mp4 of a clip: the FaceRig rendered with the clip's audio, captioned with its prompt."""
    from ...render.grid import render_grid

    return render_grid([clip.motion], path, [clip.prompt.text], size=size, columns=1, progress=False)


class ProceduralBackend:
    """SynthBackend: the person's style comes from the job's person id and the prompt's subject;
    `voices` (voices.resolve_voices) are the voices persons are drawn to speak with."""
    name = "procedural"

    def __init__(self, fps: float = DEFAULT_FPS, voices: tuple[str, ...] = (ESPEAK,)) -> None:
        self.fps = fps
        self.voices = tuple(voices)

    def synthesize(self, job: SynthJob, workdir: Path) -> SynthResult:
        a = job.prompt.attributes
        person = PersonStyle.from_id(job.person, a.gender, a.age_group, self.voices)
        return SynthResult(clip=perform(job.prompt, job.line, person, job.seed, self.fps))
