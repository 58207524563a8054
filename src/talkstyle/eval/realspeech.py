"""The real-speech lip-sync benchmark's parts: its recordings, cached phone alignments, and the two
baselines every model is scored beside (benchmarks/bench_realspeech.py runs them).

- Recordings are listed with their transcripts and licences in benchmarks/realspeech/transcripts.tsv;
  a location is `realspeech:<file>` (under ../shared/realspeech) or `sample:<name>` (`speech_path`).
- Alignments (pocketsphinx phones of the clean audio) are cached by the audio's and text's hash.
- Baselines: "jaw = envelope" (jawOpen follows the normalised speech envelope, nothing else moves)
  and "aligned-phone mouth" (the procedural actor's viseme model driven by the aligned phones: an
  upper reference, as it is built from the very phones it is scored against).
These recordings are for measuring only: never train on them.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..vocab.attributes import Phone
from ..errors import TalkstyleError
from ..face.arkit import INDEX, NUM_BLENDSHAPES
from ..face.motion import DEFAULT_FPS, FaceMotion
from .lipsync import ENVELOPE_HZ, align_phones, speech_envelope

ALIGN_VERSION = 1             # bump when the aligner or its input changes: old cache entries are ignored
ENVELOPE_JAW_MAX = 0.5        # jawOpen at a loud syllable: the actor's open-vowel jaw
VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"})


@dataclasses.dataclass(frozen=True)
class Recording:
    id: str
    location: str            # realspeech:<relative path> or sample:<speech_path name>
    source: str
    licence: str
    text: str                # what is said
    align_text: str = ""     # the same, respelled with words the aligner's dictionary knows ("" = text)
    style: str = ""          # read, orated, conversational

    def path(self, realspeech_dir: Path) -> Path | None:
        """Where the audio is, None when that package or folder is not installed."""
        from ..audio.samples import speech_path

        kind, _, rest = self.location.partition(":")
        if kind == "realspeech":
            p = realspeech_dir / rest
            return p if p.is_file() else None
        if kind == "sample":
            return speech_path(rest)
        raise TalkstyleError(f"recording {self.id}: unknown location '{self.location}'")


def load_recordings(tsv: str | os.PathLike) -> list[Recording]:
    """The recordings listed in a transcripts TSV (columns: id, location, source, licence, text;
    optional: align_text, style)."""
    with open(tsv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    fields = [f.name for f in dataclasses.fields(Recording)]
    if not rows or set(fields[:5]) - set(rows[0]):
        raise TalkstyleError(f"{tsv}: needs the columns {', '.join(fields)}")
    return [Recording(**{k: (r.get(k) or "").strip() for k in fields}) for r in rows]


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "talkstyle" / "bench_realspeech"


class AlignmentCache:
    """pocketsphinx alignments on disk: ROOT/<sha1 of version, audio and text>.json."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()

    def key(self, audio: np.ndarray, text: str) -> str:
        h = hashlib.sha1(f"v{ALIGN_VERSION}\n{text}\n".encode())
        h.update(np.ascontiguousarray(audio, np.float32).tobytes())
        return h.hexdigest()

    def phones(self, audio: np.ndarray, text: str) -> tuple[list[Phone], bool]:
        """(phones of `text` aligned to 16 kHz `audio`, whether they came from the cache)."""
        path = self.root / f"{self.key(audio, text)}.json"
        try:
            return [Phone(s, a, b) for s, a, b in json.loads(path.read_text())], True
        except (OSError, ValueError, TypeError):
            pass                                  # missing or unreadable: align again
        phones = align_phones(audio, text)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".json") as tmp:
            Path(tmp).write_text(json.dumps([[p.symbol, p.start, p.end] for p in phones]))
        return phones, False


def speaking_rate(phones: list[Phone]) -> float:
    """Syllables (vowel phones) per second from the first phone to the last, pauses included."""
    if not phones:
        return float("nan")
    span = phones[-1].end - phones[0].start
    return sum(p.symbol in VOWELS for p in phones) / span if span > 0 else float("nan")


# ---------------------------------------------------------------------- baselines
def envelope_jaw(audio: np.ndarray, num_frames: int, fps: float = DEFAULT_FPS) -> FaceMotion:
    """Baseline "jaw = envelope": jawOpen = ENVELOPE_JAW_MAX x the speech envelope normalised
    between its 10th and 95th percentiles (so a noise floor still closes the jaw)."""
    env = speech_envelope(np.asarray(audio, np.float32))
    if not len(env):
        raise TalkstyleError("the envelope baseline needs at least 10 ms of audio")
    lo, hi = np.percentile(env, [10, 95])
    level = np.clip((env - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
    t = np.arange(num_frames) / fps
    weights = np.zeros((num_frames, NUM_BLENDSHAPES), np.float32)
    weights[:, INDEX["jawOpen"]] = ENVELOPE_JAW_MAX * np.interp(t, (np.arange(len(env)) + 0.5) / ENVELOPE_HZ, level)
    return FaceMotion(weights, np.zeros((num_frames, 3)), fps)


def with_silences(phones: list[Phone], duration: float) -> list[Phone]:
    """The phones with every gap (and the lead-in and tail up to `duration`) filled by a silence
    Phone(""), so the viseme model rests the mouth there instead of holding the nearest phone."""
    out: list[Phone] = []
    t = 0.0
    for p in phones:
        if p.start > t + 1e-6:
            out.append(Phone("", t, p.start))
        out.append(p)
        t = max(t, p.end)
    if duration > t + 1e-6:
        out.append(Phone("", t, duration))
    return out


def phone_mouth(phones: list[Phone], num_frames: int, fps: float = DEFAULT_FPS, lead: float = 0.0) -> FaceMotion:
    """Baseline "aligned-phone mouth": the procedural actor's viseme model (coarticulation, lips
    sealed at p/b/m) on ARPAbet phones, neutral articulation. No lead by default: aligned times
    mark the acoustic segments, and a p/b/m's acoustic closure is the lips' closure (the actor's
    40 ms lead opens them before the centre of a short bilabial: 4 of 7 closed instead of 6 on
    LJ001-0001)."""
    from ..audio.phones import phones_to_ipa
    from ..data.synth.visemes import mouth_track

    ipa = phones_to_ipa(with_silences(phones, num_frames / fps))
    track = mouth_track(ipa, num_frames, fps, lead=lead)   # mouth_track seals the lips itself (seal_lips)
    return FaceMotion(track.weights, np.zeros((num_frames, 3)), fps)

