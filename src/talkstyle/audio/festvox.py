"""Festival and Flite: voices cut from real recordings, with phone timings (optional engines).

Debian's `festival` (+ `festvox-kallpc16k`, `festvox-kdlpc16k`, `festvox-us-slt-hts`) and `flite`
give the actor voices that espeak-ng's formant synthesis cannot: diphones and cluster units taken
from recordings of real people, and an HTS voice. Both engines report every phone's end time in
ARPAbet, which `phones.py` turns into IPA. Neither is a Python package, so both are optional:
`available_voices()` says which are installed (`make voices` installs them).
"""
from __future__ import annotations

import dataclasses
import functools
import shutil
import subprocess
import tempfile
from pathlib import Path
import numpy as np

from ..errors import TalkstyleError
from ..vocab.attributes import Phone
from .io import SAMPLE_RATE, load_audio
from .phones import phones_to_ipa
from .tts import Speech


@dataclasses.dataclass(frozen=True)
class FestvoxVoice:
    name: str            # our name, e.g. "festival:kal"
    engine: str          # festival | flite
    voice: str           # the engine's own voice name
    gender: str          # female | male
    accent: str
    rate_control: bool   # False: the engine ignores duration stretch (HTS)
    f0_control: bool     # False: the base pitch cannot be set


VOICES = (
    FestvoxVoice("festival:kal", "festival", "kal_diphone", "male", "US", True, True),
    FestvoxVoice("festival:ked", "festival", "ked_diphone", "male", "US", True, True),
    FestvoxVoice("festival:slt", "festival", "cmu_us_slt_arctic_hts", "female", "US", False, False),
    FestvoxVoice("flite:slt", "flite", "slt", "female", "US", True, True),
    FestvoxVoice("flite:rms", "flite", "rms", "male", "US", True, True),
    FestvoxVoice("flite:awb", "flite", "awb", "male", "Scottish", True, True),
    FestvoxVoice("flite:kal16", "flite", "kal16", "male", "US", True, True),
)
BY_NAME = {v.name: v for v in VOICES}
_FESTIVAL_DIRS = (Path("/usr/share/festival/voices"),)


@functools.cache
def available_voices() -> tuple[str, ...]:
    """Names of the installed Festival / Flite voices."""
    names = []
    if shutil.which("flite"):
        listed = subprocess.run(["flite", "-lv"], capture_output=True, text=True).stdout.split()
        names += [v.name for v in VOICES if v.engine == "flite" and v.voice in listed]
    if shutil.which("festival"):
        installed = {p.name for d in _FESTIVAL_DIRS if d.is_dir() for p in d.glob("*/*")}
        names += [v.name for v in VOICES if v.engine == "festival" and v.voice in installed]
    return tuple(sorted(names))


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _run(cmd: list[str], what: str) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise TalkstyleError(f"{what} is not installed (make voices)") from None
    if done.returncode != 0:
        raise TalkstyleError(f"{what} failed: {done.stderr.strip()[-200:]}")
    return done.stdout


def _festival(text: str, voice: FestvoxVoice, stretch: float, f0: float | None, wav: Path) -> list[tuple[str, float]]:
    pitch = ""
    if f0 is not None and voice.f0_control:   # the diphone voices' linear-regression intonation
        pitch = (f"(set! int_lr_params (list (list 'target_f0_mean {f0:.1f}) (list 'target_f0_std {0.15 * f0:.1f})"
                 " (list 'model_f0_mean 170) (list 'model_f0_std 34)))\n")
    script = (f"(voice_{voice.voice})\n{pitch}(Parameter.set 'Duration_Stretch {stretch:.3f})\n"
              f"(set! u (utt.synth (Utterance Text {_scheme_string(text)})))\n"
              f"(utt.save.wave u {_scheme_string(str(wav))} 'riff)\n"
              "(mapcar (lambda (s) (format t \"%s %f\\n\" (item.name s) (item.feat s \"end\")))"
              " (utt.relation.items u 'Segment))\n")
    path = wav.with_suffix(".scm")
    path.write_text(script)
    out = _run(["festival", "-b", str(path)], "festival")
    return [(name, float(end)) for name, end in (line.split() for line in out.splitlines() if line.count(" ") == 1)]


def _flite(text: str, voice: FestvoxVoice, stretch: float, f0: float | None, wav: Path) -> list[tuple[str, float]]:
    cmd = ["flite", "-voice", voice.voice, "--setf", f"duration_stretch={stretch:.3f}"]
    if f0 is not None:
        cmd += ["--setf", f"int_f0_target_mean={f0:.1f}"]
    out = _run(cmd + ["-psdur", "-t", text, "-o", str(wav)], "flite")
    pairs = [tok.rsplit(":", 1) for tok in out.split() if ":" in tok]
    return [(name, float(end)) for name, end in pairs]


def speak_festvox(text: str, voice: str, rate_factor: float = 1.0, f0: float | None = None,
                  volume: float = 1.0) -> Speech:
    """Synthesise `text` with a Festival / Flite voice: 16 kHz float32 audio and IPA phones.

    `rate_factor` > 1 speaks faster (ignored by voices without rate control); `f0` is the base
    pitch in Hz (None: the voice's own).
    """
    if not text.split():
        raise TalkstyleError("nothing to speak: the line is empty")
    if voice not in BY_NAME:
        raise TalkstyleError(f"unknown voice {voice!r}: choose from {', '.join(BY_NAME)}")
    v = BY_NAME[voice]
    stretch = 1.0 / float(np.clip(rate_factor, 0.4, 2.5)) if v.rate_control else 1.0
    with tempfile.TemporaryDirectory(prefix="talkstyle-festvox-") as tmp:
        wav = Path(tmp) / "speech.wav"
        run = _festival if v.engine == "festival" else _flite
        ends = run(text, v, stretch, f0, wav)
        audio = load_audio(wav)
    if not ends or audio.size == 0:
        raise TalkstyleError(f"{voice} produced no speech for {text[:60]!r}")
    duration = len(audio) / SAMPLE_RATE
    phones, start = [], 0.0
    for name, end in ends:
        end = min(end, duration)
        if end > start:
            phones.append(Phone(name, start, end))
            start = end
    if start < duration:
        phones.append(Phone("pau", start, duration))
    audio = audio * float(np.clip(volume, 0.1, 2.0))
    peak = float(np.abs(audio).max())
    if peak > 0.98:
        audio *= 0.98 / peak
    return Speech(audio.astype(np.float32), phones_to_ipa(phones))
