"""Streaming animation: audio chunks in, ARKit-52 + head frames out, while the person talks.

    animator = StreamAnimator("A woman speaks with a strong happy expression")
    for chunk in microphone():                 # float32 mono 16 kHz, any length
        for frame in animator.push(chunk):
            send(frame.to_json())
    animator.flush()                           # the last frames, then ready for a new stream

    for frame in stream(chunks, style="A calm man speaks"):   # the same as an iterator
        ...

The model is the streaming student (model/stream.py, shipped in assets/stream_model/), distilled
from the diffusion model, with a lip-contact component (model/contact.py) sealing the lips at p,
b and m as the offline pipeline does, within the same look-ahead: by default on Whisper features of
a 2 s sliding window (audio/whisper_window.py; it hears people's voices far better), or on the
model's own log-mel frames (lip_contact="log-mel", what the ONNX graph holds). Styles are encoded
by that diffusion model's own text and motion style encoders (TalkstylePipeline.style_vector), so
a prompt or reference means what it means offline.
A frame leaves as soon as the audio `latency` seconds past its end has arrived.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import torch

from . import assets
from .audio.features import HOP, SAMPLES_PER_FRAME
from .audio.incremental import LEAD, IncrementalMel
from .audio.whisper_window import WhisperWindow
from .audio.io import SAMPLE_RATE
from .errors import TalkstyleError
from .face.arkit import NUM_BLENDSHAPES
from .face.blinks import BlinkShaper
from .face.lip_seal import seal_lips
from .face.motion import MAX_HEAD_RAD, FaceMotion
from .model.contact import CONFIG_FILE as CONTACT_CONFIG, LipContact
from .model.stream import WHISPER_CONTACT, StreamNet, load_stream, read_stream_config
from .pipeline import TalkstylePipeline, check_prompt, torch_threads, usable_reference

DEFAULT_STREAM_MODEL = assets.path("stream_model")
STYLE_FADE = 0.5                # seconds a style change takes (a linear crossfade of the style vector)
HEAD_LIMIT = 0.99 * MAX_HEAD_RAD


@dataclasses.dataclass(frozen=True)
class Frame:
    """One output frame: frame `index` covers audio [time, time + 1 / fps) of the stream."""
    index: int
    time: float                 # seconds of audio from the stream's start
    weights: np.ndarray         # (52,) ARKit weights in [0, 1], in talkstyle.face.arkit order
    head: np.ndarray            # (3,) pitch, yaw, roll in radians (as FaceMotion)

    def to_json(self) -> dict[str, Any]:
        return {"i": self.index, "t": round(self.time, 3),
                "w": [round(float(w), 3) for w in self.weights],
                "head": [round(float(h), 4) for h in self.head]}


@functools.cache
def _net(folder: str) -> StreamNet:
    """One net per model folder and process: it holds no stream state, animators share it."""
    return load_stream(folder)


CONTACTS = ("whisper", "log-mel")


@functools.cache
def _contact(folder: str, features: str) -> LipContact | None:
    return LipContact.load(Path(folder) / WHISPER_CONTACT if features == "whisper" else folder)


def contact_features(folder: str | Path, lip_contact: bool | str) -> str | None:
    """Which lip contact a stream uses: 'whisper' (Whisper on a sliding window, the better one on
    people's voices) when the model has it, else 'log-mel' (the one inside the ONNX graph); None: off."""
    if lip_contact is False:
        return None
    if lip_contact is True:
        return "whisper" if (Path(folder) / WHISPER_CONTACT / CONTACT_CONFIG).is_file() else "log-mel"
    if lip_contact not in CONTACTS:
        raise TalkstyleError(f"lip_contact must be True, False or one of {', '.join(CONTACTS)}, got {lip_contact!r}")
    return lip_contact


@functools.cache
def _teacher(name: str) -> TalkstylePipeline:
    """The diffusion pipeline whose style encoders define the style space (loaded once)."""
    return TalkstylePipeline.from_pretrained(None if name == "shipped" else name)


def teacher_of(folder: str | Path) -> str:
    """The teacher a streaming model names in its config: 'shipped' or a checkpoint folder
    (relative to the streaming model's folder)."""
    name = str(read_stream_config(Path(folder)).get("model", {}).get("teacher", "shipped"))
    return name if name == "shipped" else str((Path(folder) / name).resolve())


class StreamAnimator:
    """Stateful streaming animator; one per audio stream (animators share the weights, not state)."""

    sample_rate: int = SAMPLE_RATE

    def __init__(self, style: str | FaceMotion | None = None, checkpoint: str | Path | None = None, *,
                 threads: int = 1, lip_contact: bool | str = True):
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise TalkstyleError(f"threads must be a whole number of at least 1, got {threads!r}")
        folder = Path(checkpoint) if checkpoint is not None else DEFAULT_STREAM_MODEL
        self.net = _net(str(folder.resolve()))
        features = contact_features(folder, lip_contact)
        self.contact = _contact(str(folder.resolve()), features) if features else None
        # The Whisper-window component hears the stream's look-ahead through its features' window.
        expected = 0 if features == "whisper" else self.net.cfg.lookahead
        if self.contact is not None and self.contact.cfg.lookahead != expected:
            raise TalkstyleError(f"the lip contact component in {folder} hears {self.contact.cfg.lookahead} frames ahead, "
                                 f"not {expected} as the streaming model needs: retrain it (talkstyle train-contact)")
        self._window = WhisperWindow(self.net.cfg.lookahead) if features == "whisper" else None
        self.teacher = _teacher(teacher_of(folder))
        self.threads = threads
        self.fps = float(self.net.cfg.fps)
        self.lookahead = self.net.cfg.lookahead
        # Audio past a frame's end needed before it leaves: the net's look-ahead, and the frame's
        # last mel window, centred one hop before the frame's end, reaching half a window past it.
        self.latency = self.lookahead / self.fps + (LEAD - HOP) / SAMPLE_RATE
        self._style = self.style_vector(style)
        self._fade_from: torch.Tensor | None = None
        self._fade_left = 0
        self._blinks = BlinkShaper(self.fps)
        self.reset()

    # ------------------------------------------------------------ style
    def style_vector(self, style: str | FaceMotion | None) -> torch.Tensor:
        """(style_dim,) for a prompt, a reference motion or None (the unstyled, learned null)."""
        g = self.teacher.generator
        with torch_threads(self.threads), torch.no_grad():
            if style is None:
                return g.null_style.detach().clone()
            if isinstance(style, str):
                check_prompt(style)
                return self.teacher.style_vector(self.teacher.encode_prompt(style), None)
            if isinstance(style, FaceMotion):
                return self.teacher.style_vector(None, usable_reference(style, self.fps))
        raise TalkstyleError(f"style must be a prompt, a FaceMotion reference or None, got {type(style).__name__}")

    def set_style(self, style: str | FaceMotion | None) -> None:
        """Change the style mid-stream: it fades in over STYLE_FADE seconds from the next frame."""
        target = self.style_vector(style)
        self._fade_from = self._current_style()
        self._fade_left = max(1, round(STYLE_FADE * self.fps))
        self._style = target

    def _current_style(self) -> torch.Tensor:
        if self._fade_from is None or self._fade_left <= 0:
            return self._style
        total = max(1, round(STYLE_FADE * self.fps))
        a = 1 - self._fade_left / total
        return (1 - a) * self._fade_from + a * self._style

    def _styles(self, n: int) -> torch.Tensor:
        """(n, style_dim): the style of each of the next n input steps, advancing a fade."""
        rows = []
        for _ in range(n):
            if self._fade_left > 0:
                self._fade_left -= 1
            rows.append(self._current_style())
        return torch.stack(rows)

    # ------------------------------------------------------------ the stream
    def reset(self) -> None:
        """Start a new stream: no audio heard, frame index 0 (the style is kept)."""
        self._mel = IncrementalMel()
        self._state = self.net.initial_state()
        if self.contact is not None:    # the features its next step needs from before: silence at a start
            c = self.contact.cfg
            self._history = torch.full((1, c.context, c.audio_dim), c.pad_value)
        if self._window is not None:
            self._window.reset()
        self._steps = 0             # input frames run through the net
        self._received = 0          # samples pushed
        self._blinks.reset()
        if self._fade_left > 0:     # a fade in progress finishes at once: a new stream starts in the style
            self._fade_left = 0

    def push(self, samples: np.ndarray) -> list[Frame]:
        """Feed float32 mono 16 kHz samples (any length, also 0 or 1); returns the frames that
        became complete, in order."""
        x = np.asarray(samples)
        if x.ndim != 1:
            raise TalkstyleError(f"push() takes mono samples (S,), got shape {x.shape}")
        if x.dtype.kind != "f" and x.size:      # int16 PCM would be clipped to a square wave: say so
            raise TalkstyleError(f"push() takes float samples in [-1, 1], got {x.dtype} (PCM: divide by 32768)")
        x = x.astype(np.float32, copy=False)
        if not np.isfinite(x).all():
            raise TalkstyleError("the audio chunk has NaN or infinite samples")
        self._received += len(x)
        x = np.clip(x, -1.0, 1.0)
        if self._window is not None:
            self._window.push(x)
        with torch_threads(self.threads):           # the front end runs in torch too
            return self._run(self._mel.push(x))

    def flush(self) -> list[Frame]:
        """End of stream: the frames still owed for the audio received (its last partial frame
        included), computed with silence after it. The animator is then reset for a new stream."""
        if self._received == 0:
            self.reset()
            return []
        total = max(1, round(self._received / SAMPLES_PER_FRAME))       # as offline: round(duration * fps)
        frames: list[Frame] = []
        need = total + self.lookahead - self._steps                     # input steps still to run
        if need > 0:
            pad = np.zeros(need * SAMPLES_PER_FRAME + LEAD, np.float32)   # enough for `need` more frames
            if self._window is not None:
                self._window.push(pad)
            with torch_threads(self.threads):
                frames = self._run(self._mel.push(pad)[:need])
        out = [f for f in frames if f.index < total]
        self.reset()
        return out

    def _run(self, feats: np.ndarray) -> list[Frame]:
        if not len(feats):
            return []
        first = self._steps - self.lookahead           # frame index of the first output row
        self._steps += len(feats)
        with torch_threads(self.threads), torch.no_grad():
            style = self._styles(len(feats))[None]
            x = torch.from_numpy(feats)[None]
            y, self._state = self.net(x, style, self._state)
            motion = self.net.denormalise(y[0]).numpy()
            if self.contact is not None:                # row k, like the net's: frame first + k
                closure = self._closure(x, range(max(first, 0), first + len(feats)))
                if len(closure):
                    motion[-len(closure):, :NUM_BLENDSHAPES] = seal_lips(
                        np.clip(motion[-len(closure):, :NUM_BLENDSHAPES], 0.0, 1.0), closure)
        frames = []
        for k, row in enumerate(motion):
            i = first + k
            if i < 0:                                  # the net's delay line filling up
                continue
            frames.append(Frame(i, i / self.fps, self._blinks(np.clip(row[:NUM_BLENDSHAPES], 0.0, 1.0)),
                                np.clip(row[NUM_BLENDSHAPES:], -HEAD_LIMIT, HEAD_LIMIT)))
        return frames

    def _closure(self, mel: torch.Tensor, frames: range) -> np.ndarray:
        """How far to seal the lips at `frames` (the output rows from index 0 on), from the
        component's features: this step's log-mel rows, or the Whisper window of each frame."""
        if self._window is None:
            feats = mel
        elif len(frames):
            feats = torch.from_numpy(np.stack([self._window.features(i) for i in frames]))[None]
        else:
            return np.zeros(0, np.float32)
        window = torch.cat([self._history, feats], 1)
        p = torch.sigmoid(self.contact.step(window))[0].numpy()
        self._history = window[:, -self.contact.cfg.context:]
        return self.contact.ramp(p)[len(p) - len(frames):]


def stream(chunks: Iterable[np.ndarray], style: str | FaceMotion | None = None,
           checkpoint: str | Path | None = None, *, threads: int = 1, lip_contact: bool | str = True) -> Iterator[Frame]:
    """Frames for an iterable of audio chunks, as they become ready, then the last ones at its end."""
    animator = StreamAnimator(style, checkpoint, threads=threads, lip_contact=lip_contact)
    for chunk in chunks:
        yield from animator.push(chunk)
    yield from animator.flush()


def frames_to_motion(frames: list[Frame], fps: float) -> FaceMotion:
    """Collected frames as a FaceMotion (for scoring or saving a stream)."""
    if not frames:
        raise TalkstyleError("no frames: the stream had no audio")
    return FaceMotion(np.stack([f.weights for f in frames]), np.stack([f.head for f in frames]), fps)


def animate_stream(audio: np.ndarray, style: str | FaceMotion | None = None, checkpoint: str | Path | None = None,
                   chunk_seconds: float = 0.04, threads: int = 1, lip_contact: bool | str = True) -> FaceMotion:
    """A whole clip through the streaming animator in chunks of `chunk_seconds`: what a live
    listener would have seen, as a FaceMotion with the audio attached."""
    wav = np.asarray(audio, np.float32)
    step = max(1, int(math.floor(chunk_seconds * SAMPLE_RATE)))
    frames = list(stream((wav[i:i + step] for i in range(0, len(wav), step)), style, checkpoint, threads=threads,
                         lip_contact=lip_contact))
    motion = frames_to_motion(frames, _net(str(Path(checkpoint or DEFAULT_STREAM_MODEL).resolve())).cfg.fps)
    return dataclasses.replace(motion, audio=wav, sample_rate=SAMPLE_RATE)
