"""The upper layers of the synthetic face: emotion, blinks, brow emphasis, gaze.

Emotion templates follow the EMFACS prototypes of FACE_FACTS.md (action units -> ARKit shapes).
A clip holds its emotion from the start (a prompt describes the whole clip) but settles into it
over the first second, then fluctuates slowly around it, as real faces do.
"""
from __future__ import annotations

import numpy as np

from ...face.arkit import INDEX, NUM_BLENDSHAPES
from ..records import ClipRecord
from .person import EXPRESSIVITY, PersonStyle
from .visemes import arkit_vector

# Full-intensity templates (level 1, expressivity 1). L/R pairs written once set both sides.
EMOTION_TEMPLATES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"mouthSmile": 0.85, "cheekSquint": 0.60, "eyeSquint": 0.35, "mouthDimple": 0.20,
              "mouthUpperUp": 0.10},
    "sad": {"browInnerUp": 0.85, "browDown": 0.25, "mouthFrown": 0.70, "mouthShrugLower": 0.40,
            "eyeBlink": 0.15, "mouthPress": 0.10},
    "angry": {"browDown": 0.90, "eyeSquint": 0.45, "eyeWide": 0.15, "mouthPress": 0.40,
              "mouthRollLower": 0.15, "mouthRollUpper": 0.10, "noseSneer": 0.35, "jawForward": 0.10},
    "fearful": {"browInnerUp": 0.80, "browOuterUp": 0.50, "browDown": 0.25, "eyeWide": 0.80,
                "mouthStretch": 0.60, "jawOpen": 0.12},
    "surprised": {"browInnerUp": 0.80, "browOuterUp": 0.85, "eyeWide": 0.90, "jawOpen": 0.25,
                  "mouthFunnel": 0.10},
    "disgusted": {"noseSneer": 0.80, "mouthUpperUp": 0.60, "mouthFrown": 0.40, "mouthLowerDown": 0.20,
                  "browDown": 0.40, "cheekSquint": 0.35, "eyeSquint": 0.35},
    # One-sided: written for the right side; mirrored per person (see `emotion_weights`).
    "contempt": {"mouthSmileRight": 0.60, "mouthDimpleRight": 0.50, "eyeSquintRight": 0.10,
                 "browDownLeft": 0.10, "mouthRight": 0.10},
}
_MIRROR = np.array([INDEX[n.replace("Left", "#").replace("Right", "Left").replace("#", "Right")]
                    for n in INDEX])
_LEFT = np.array(["Left" in n for n in INDEX])
_RIGHT = np.array(["Right" in n for n in INDEX])


def smooth_noise(num_frames: int, fps: float, rng: np.random.Generator, max_hz: float,
                 channels: int = 1) -> np.ndarray:
    """(T, channels) smooth random curves, about unit amplitude: a few random low sinusoids."""
    t = np.arange(num_frames)[:, None, None] / fps
    freq = rng.uniform(0.05, max_hz, size=(1, channels, 4))
    phase = rng.uniform(0, 2 * np.pi, size=(1, channels, 4))
    amp = rng.uniform(0.5, 1.0, size=(1, channels, 4))
    return (amp * np.sin(2 * np.pi * freq * t + phase)).sum(-1) / 2.0


def emotion_amplitude(level: float, expressivity: float = 1.0) -> float:
    """The scale of the emotion layer: the prompt's intensity level (a faint emotion still shows at
    a quarter of full) times the person's expressivity."""
    return (0.25 + 0.75 * float(np.clip(level, 0, 1))) * expressivity


MAX_EMOTION_AMPLITUDE = emotion_amplitude(1.0, EXPRESSIVITY[1])


def rendered_amplitude(record: ClipRecord) -> float:
    """The emotion amplitude a stored clip was made with. The procedural actor's clips know their
    person (the same id gives the same expressivity); for any other clip only the prompt's level
    is known, so it counts as an average person's."""
    a = record.prompt.attributes
    expressivity = 1.0
    if record.motion.metadata.get("backend") == "procedural":
        expressivity = PersonStyle.from_id(record.person, a.gender, a.age_group).expressivity
    return emotion_amplitude(a.level, expressivity)


def emotion_weights(family: str, level: float, person: PersonStyle, num_frames: int, fps: float,
                    rng: np.random.Generator) -> np.ndarray:
    """(T, 52) emotion layer: template x intensity x expressivity, onset, fluctuation, smile bias."""
    template = arkit_vector(EMOTION_TEMPLATES.get(family, {}))
    if family == "contempt" and person.asymmetry < 0:   # this person's sneer is on the left
        template = template[_MIRROR]
    # Lopsided faces: one side a little stronger, by person.
    side = np.where(_LEFT, 1 + person.asymmetry * 0.3, np.where(_RIGHT, 1 - person.asymmetry * 0.3, 1.0))
    amp = emotion_amplitude(level, person.expressivity)
    t = np.arange(num_frames) / fps
    onset = rng.uniform(0.4, 1.2)
    ramp = 0.4 + 0.6 * np.clip(t / onset, 0, 1) ** 2 * (3 - 2 * np.clip(t / onset, 0, 1))
    fluct = 1.0 + 0.15 * smooth_noise(num_frames, fps, rng, 0.5)[:, 0]
    w = (ramp * fluct)[:, None] * (template * side * amp)[None]
    smile = person.smile_bias * (0.3 if family in ("sad", "angry", "disgusted", "fearful") else 1.0)
    w[:, [INDEX["mouthSmileLeft"], INDEX["mouthSmileRight"]]] += smile * np.array(
        [1 + person.asymmetry, 1 - person.asymmetry])
    return np.clip(w, 0, 1).astype(np.float32)


# How a delivery shows on the face, at full loudness: shouting strains it (eyes wide, brows up, jaw
# thrust), whispering draws it in, singing softens the eyes.
DELIVERY_TEMPLATES: dict[str, dict[str, float]] = {
    "speaks": {},
    "shouts": {"eyeWide": 0.30, "browInnerUp": 0.20, "browOuterUp": 0.20, "jawForward": 0.12,
               "noseSneer": 0.15, "mouthStretch": 0.15},
    "whispers": {"browInnerUp": 0.12, "eyeSquint": 0.12, "mouthPucker": 0.08},
    "sings": {"eyeSquint": 0.15, "eyeBlink": 0.10, "browInnerUp": 0.08},
}


def delivery_weights(delivery: str, energy: np.ndarray, person: PersonStyle) -> np.ndarray:
    """(T, 52) the delivery's face, following the loudness (`energy`: (T,) 0..1)."""
    template = arkit_vector(DELIVERY_TEMPLATES.get(delivery, {}))
    kernel = np.hanning(11) / np.hanning(11).sum()   # faces strain and relax over ~0.2 s
    loud = np.convolve(np.clip(energy, 0, 1), kernel, mode="same")
    return (np.clip(0.3 + loud, 0, 1)[:, None] * template[None] * person.expressivity).astype(np.float32)


def _pulses(num_frames: int, fps: float, times: np.ndarray, rise: np.ndarray, fall: np.ndarray) -> np.ndarray:
    """(T,) sum of smooth bumps peaking (value 1) at `times`, rising/falling over the given spans."""
    t = np.arange(num_frames)[:, None] / fps
    x = np.where(t < times[None], (times[None] - t) / rise[None], (t - times[None]) / fall[None])
    return (0.5 + 0.5 * np.cos(np.pi * np.clip(x, 0, 1))).sum(1) if len(times) else np.zeros(num_frames)


def blink_weights(num_frames: int, fps: float, rate_per_min: float, pauses: list[float],
                  rng: np.random.Generator) -> np.ndarray:
    """(T, 52) blinks: a Poisson train at the person's rate, plus half the phrase boundaries.
    Each blink closes in ~50 ms and opens in ~80 ms; peaks sit on frames so they are seen."""
    duration = num_frames / fps
    times = list(np.cumsum(rng.exponential(60.0 / rate_per_min, size=int(duration * rate_per_min / 20) + 4)))
    times += [p for p in pauses if rng.random() < 0.5]
    times = np.round(np.sort([x for x in times if 0.2 < x < duration - 0.1]) * fps) / fps
    kept: list[float] = []
    for x in times:   # eyes do not re-blink within 0.6 s
        if not kept or x - kept[-1] > 0.6:
            kept.append(float(x))
    n = len(kept)
    curve = _pulses(num_frames, fps, np.array(kept), rng.uniform(0.04, 0.06, n), rng.uniform(0.07, 0.1, n))
    w = np.zeros((num_frames, NUM_BLENDSHAPES), np.float32)
    w[:, [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]] = np.clip(curve, 0, 1)[:, None]
    return w


def brow_weights(stressed: list[float], pitch: np.ndarray, family: str, level: float, delivery: str,
                 person: PersonStyle, num_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """(T, 52) emphasis: brows rise on stressed syllables, more often and higher when the voice is
    high there (`pitch`: (T,) log-F0 z-score); angry faces knit them down instead. Singers' brows
    also follow the melody up to the high notes."""
    frames = np.clip(np.round(np.array(stressed) * fps).astype(int), 0, num_frames - 1)
    high = np.clip(pitch[frames], 0, 2) if len(stressed) else np.zeros(0)
    chance = (0.15 + 0.3 * level * person.expressivity) * (0.5 + 0.5 * high)
    keep = rng.random(len(stressed)) < chance
    times, n = np.array(stressed)[keep], int(keep.sum())
    curve = _pulses(num_frames, fps, times, rng.uniform(0.08, 0.15, n), rng.uniform(0.2, 0.4, n))
    amp = (0.12 + 0.25 * level) * person.expressivity
    if delivery == "sings":
        kernel = np.hanning(9) / np.hanning(9).sum()
        curve = curve + np.convolve(np.clip(pitch, 0, 2), kernel, mode="same") / 2
    names = ("browDown",) if family == "angry" else ("browInnerUp", "browOuterUp")
    w = np.zeros((num_frames, NUM_BLENDSHAPES), np.float32)
    w += np.clip(curve * amp, 0, 0.6)[:, None] * arkit_vector(dict.fromkeys(names, 1.0))[None]
    return w


def gaze_weights(num_frames: int, fps: float, person: PersonStyle, family: str,
                 rng: np.random.Generator) -> np.ndarray:
    """(T, 52) eye movements: fixations of 0.5-3 s joined by one-frame saccades, mostly back to
    the listener; sad eyes drift down, fearful eyes dart more often."""
    mean_fix = 0.8 if family == "fearful" else 1.6
    x = np.zeros(num_frames)
    y = np.zeros(num_frames)
    k = 0
    while k < num_frames:
        n = max(1, int(rng.gamma(3.0, mean_fix / 3.0) * fps))
        if rng.random() < 0.5:   # look away, else back to the listener
            x[k:k + n] = rng.normal(0, 0.35) * person.gaze_spread
            y[k:k + n] = rng.normal(0, 0.2) * person.gaze_spread
        k += n
    if family == "sad":
        y -= 0.2
    # x > 0: the subject looks to their right (right eye out, left eye in); y > 0: up.
    w = np.zeros((num_frames, NUM_BLENDSHAPES), np.float32)
    right, left = np.clip(x, 0, 1), np.clip(-x, 0, 1)
    w[:, INDEX["eyeLookOutRight"]], w[:, INDEX["eyeLookInLeft"]] = right, right
    w[:, INDEX["eyeLookOutLeft"]], w[:, INDEX["eyeLookInRight"]] = left, left
    for side in ("Left", "Right"):
        w[:, INDEX["eyeLookUp" + side]] = np.clip(y, 0, 1)
        w[:, INDEX["eyeLookDown" + side]] = np.clip(-y, 0, 1)
    return w
