"""TalkstylePipeline: speech + style -> FaceMotion, the one generation path.

    pipe = TalkstylePipeline.from_pretrained("my_model")          # or () for the shipped model
    motion = pipe(wav, style="A woman speaks with a strong happy expression")

In the manner of a diffusers pipeline it is composed of named components, each described by JSON
beside the weights:
- `generator`: the StyleGenerator (config.json + model.safetensors, model/checkpoint.py);
- `audio_encoder`: the encoder the generator was trained on (named in its model config);
- `text_encoder`: the frozen sentence encoder of style prompts (named in pipeline.json);
- `lip_contact`: optional, finds the frames where the lips must meet (lip_contact.json +
  lip_contact.safetensors, model/contact.py); the generated mouth is sealed there;
- `settings`: default sampling settings (pipeline.json; the defaults below without one).

`animate()`, `talkstyle evaluate` and everything else that generates call it, so the window loop
(StyleGenerator.generate) and the post-processing (head smoothing, head words) live in one place.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch

from .atomic import write_text
from .audio.features import AudioEncoder, get_audio_encoder, num_frames_for
from .audio.io import SAMPLE_RATE
from .errors import TalkstyleError
from .face.blinks import shape_blinks
from .face.lip_seal import seal_lips
from .face.motion import FaceMotion
from .head_motion import apply_head_words, smooth_head
from .model.checkpoint import DEFAULT_CHECKPOINT, load_generator, read_config, save_checkpoint
from .model.config import SAMPLERS
from .model.generator import StyleGenerator, array_to_motion, motion_to_array
from .plain import from_plain, to_plain
from .model.contact import LipContact
from .style_control import (DEFAULT_TRANSITION, Timeline, build_timeline, neutral_timeline, keep_neutral_closures,
                            speech_frames, style_track, timeline_head_words, with_references)
from .text.encoder import TextEncoder, get_text_encoder
from .text.parse import analyze_prompt
from .vocab.attributes import StyleAttributes

PIPELINE_FILE = "pipeline.json"
FORMAT = "talkstyle-pipeline"
VERSION = 1
SILENCE_RMS = 1e-3                 # about -60 dBFS: nothing to lip-sync to
MAX_CFG = 100.0                    # guidance far past this only amplifies noise (and overflows)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """How to sample. Keywords only: six numbers in a row are easy to misplace."""
    cfg_audio: float = 1.0         # seed paper: guidance strength 1 for both conditions
    cfg_style: float = 1.0
    steps: int = 4                 # DPM-Solver++: 4-10 steps give the same lip sync and style here
    sampler: str = "dpm"
    seed: int = 0
    head_words: bool = True        # nod / shake / still words of the prompt move the head (head_motion.py)
    lip_contact: bool = True       # seal the lips where the lip-contact component hears a p, b or m (model/contact.py)

    def __post_init__(self) -> None:
        from .validate import number, seed

        if self.sampler not in SAMPLERS:
            raise TalkstyleError(f"unknown sampler '{self.sampler}': choose one of {', '.join(SAMPLERS)}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= 1000:
            raise TalkstyleError(f"steps must be in [1, 1000], got {self.steps}")
        number("--cfg-audio", self.cfg_audio, -MAX_CFG, MAX_CFG)
        number("--cfg-style", self.cfg_style, -MAX_CFG, MAX_CFG)
        seed(self.seed)

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Settings":
        return from_plain(cls, d, "sampling settings")


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run a block on `threads` torch CPU threads and restore the previous count after it
    (None: leave torch as it is). Torch's thread count is process-wide; this keeps the change
    visible at the call and bounded to it."""
    if threads is None:
        yield
        return
    if threads < 1:
        raise TalkstyleError(f"threads must be at least 1, got {threads}")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check_prompt(style: str) -> StyleAttributes:
    """The prompt's attributes. Empty prompts are an error; prompts with no recognisable style
    words get a warning."""
    with warnings.catch_warnings(record=True) as parser_warnings:   # one warning, said once below
        warnings.simplefilter("always")
        parsed = analyze_prompt(style)           # raises on an empty prompt
    a = parsed.attributes
    if not (parsed.unknown or (a.family == "neutral" and a.emotion == "neutral" and a.subject == "person"
                               and a.head_motion == "natural" and a.delivery == "speaks")):
        for w in parser_warnings:   # e.g. one unknown emotion word among known ones
            warnings.warn(str(w.message), stacklevel=4)
    else:
        warnings.warn(f"the prompt {style!r} has no style words talkstyle knows (English emotions, "
                      "intensities, head motion, delivery); the style will be vague", stacklevel=4)
    return a


def check_audio(audio: np.ndarray) -> np.ndarray:
    """16 kHz mono float32 samples, with a warning when there is nothing to lip-sync to."""
    wav = np.asarray(audio, np.float32)
    if wav.ndim != 1 or wav.size == 0:
        raise TalkstyleError("audio must be non-empty mono 16 kHz samples")
    bad = ~np.isfinite(wav)
    if bad.any():      # damage, not silence: say so instead of zeroing it
        raise TalkstyleError(f"the audio has {int(bad.sum())} NaN or infinite samples "
                             f"({100 * bad.mean():.1f}%): the file is damaged")
    if np.sqrt(np.mean(np.square(wav, dtype=np.float64))) < SILENCE_RMS:
        warnings.warn("the audio is silent: the face will stay near its resting pose", stacklevel=4)
    return wav


def usable_reference(motion: FaceMotion, fps: float) -> FaceMotion:
    """A style reference at the model's frame rate, without the frames where tracking was lost."""
    if motion.confidence is not None:
        seen = motion.confidence > 0                     # 0: tracking lost
        if seen.sum() < 0.25 * motion.num_frames or seen.sum() < 10:
            raise TalkstyleError("no face was tracked in most of the style reference: choose a clip with a visible face")
        motion = dataclasses.replace(motion, weights=motion.weights[seen], head=motion.head[seen],
                                     confidence=None, audio=None, sample_rate=None)
    return motion.resample(fps)


class TalkstylePipeline:
    def __init__(self, generator: StyleGenerator, audio_encoder: AudioEncoder, text_encoder: TextEncoder,
                 settings: Settings = Settings(), threads: int | None = None, lip_contact: LipContact | None = None):
        self.generator = generator.eval()
        self.audio_encoder = audio_encoder
        self.text_encoder = text_encoder
        if lip_contact is not None and lip_contact.cfg.audio_encoder != generator.cfg.audio_encoder:
            raise TalkstyleError(f"the lip contact component reads {lip_contact.cfg.audio_encoder!r} features, "
                                 f"the generator {generator.cfg.audio_encoder!r}")
        self.lip_contact = lip_contact
        self.settings = settings
        self.threads = threads         # torch CPU threads while generating; None: torch's own setting

    @property
    def fps(self) -> float:
        return self.generator.cfg.fps

    # ------------------------------------------------------------ loading and saving
    @classmethod
    def from_pretrained(cls, folder: str | Path | None = None, *, threads: int | None = None) -> "TalkstylePipeline":
        """The pipeline saved in `folder` (default: the shipped model): config.json and
        model.safetensors for the generator, pipeline.json for the rest (defaults without one)."""
        folder = Path(folder) if folder is not None else DEFAULT_CHECKPOINT
        with torch_threads(1):      # many tiny tensors: thread start-up would cost 10x the work
            generator = load_generator(folder)
            contact = LipContact.load(folder)
        config = read_pipeline_config(folder)
        if config["text_encoder"] != TextEncoder.name:
            raise TalkstyleError(f"{folder / PIPELINE_FILE} asks for the text encoder {config['text_encoder']!r}; "
                                 f"this talkstyle has {TextEncoder.name!r}")
        return cls(generator, get_audio_encoder(generator.cfg.audio_encoder), get_text_encoder(),
                   Settings.from_dict(config["settings"]), threads, contact)

    def save_pretrained(self, folder: str | Path, dtype: torch.dtype = torch.float32,
                        extra: dict[str, Any] | None = None) -> Path:
        """Write the generator (weights cast to `dtype`, `extra` into its config.json) and pipeline.json."""
        folder = Path(folder)
        save_checkpoint(folder, self.generator.state_dict(), self.generator.cfg, extra, dtype)
        if self.lip_contact is not None:
            self.lip_contact.save(folder)
        write_pipeline_config(folder, self.text_encoder.name, self.settings)
        return folder

    # ------------------------------------------------------------ the steps
    def encode_prompt(self, style: str) -> torch.Tensor:
        return torch.from_numpy(self.text_encoder.encode([style])[0])

    def encode_audio(self, wav: np.ndarray, progress=None) -> np.ndarray:
        """(T, audio_dim) features at the model's frame rate; `progress` (a tqdm bar) advances per chunk."""
        return self.audio_encoder.encode(wav, num_frames=num_frames_for(len(wav)), progress=progress)

    @torch.no_grad()
    def style_vector(self, text: torch.Tensor | None, reference: FaceMotion | None) -> torch.Tensor:
        """The style that conditions generation, from a prompt embedding and/or a reference motion."""
        return self.generator.style_vector(text, motion_to_array(reference) if reference is not None else None)

    @torch.no_grad()
    def generate(self, feats: np.ndarray, style: torch.Tensor, settings: Settings | None = None,
                 attributes: StyleAttributes | None = None, progress: Iterable | None = None,
                 frame_weights: np.ndarray | None = None, neutral: torch.Tensor | None = None,
                 boost: np.ndarray | None = None) -> FaceMotion:
        """Audio features + style vector -> the finished FaceMotion: generated window by window,
        the head smoothed, then moved by the prompt's head words (when `attributes` are given).
        Several styles: `style` (S, style_dim) with `frame_weights` (T, S); exaggerated ones with
        their `neutral` deliveries and `boost` (StyleGenerator.generate)."""
        settings = settings or self.settings
        with torch_threads(self.threads):
            x = self.generator.generate(feats, style, sampler=settings.sampler, steps=settings.steps,
                                        cfg_audio=settings.cfg_audio, cfg_style=settings.cfg_style,
                                        seed=settings.seed, progress=progress, frame_weights=frame_weights,
                                        neutral=neutral, boost=boost)
        if not np.isfinite(x).all():
            # The inputs are checked: a model that turns finite input into NaN is broken.
            raise TalkstyleError("the model produced NaN or infinite values: the checkpoint is damaged "
                                 "or its training diverged")
        motion = smooth_head(array_to_motion(x, self.fps))
        if self.lip_contact is not None and settings.lip_contact:
            with torch_threads(1):      # tiny; and a conv's sums differ in the last bit between thread counts
                closure = self.lip_contact.closure(feats)
            motion = dataclasses.replace(motion, weights=seal_lips(motion.weights, closure))
        motion = dataclasses.replace(motion, weights=shape_blinks(motion.weights, self.fps))
        if attributes is not None and settings.head_words:
            motion = apply_head_words(motion, attributes.head_motion, attributes.level, settings.seed)
        return motion

    @torch.no_grad()
    def generate_timeline(self, feats: np.ndarray, timeline: Timeline, settings: Settings | None = None,
                          progress: Iterable | None = None, speech: np.ndarray | None = None) -> FaceMotion:
        """Audio features + a style timeline (style_control.py; references loaded) -> the finished
        FaceMotion: one generation chain per style, crossfaded; segments that exaggerate an emotion
        keep the lip closures of their neutral delivery (near `speech`, (T,) bool); each segment's head words."""
        settings = settings or self.settings
        with torch_threads(self.threads):
            track = style_track(self.generator, timeline, len(feats), self.fps, self.text_encoder.encode)
        motion = self.generate(feats, track.styles, settings, progress=progress, frame_weights=track.weights,
                               neutral=track.neutral, boost=track.boost)
        share = track.exaggerated_share
        if share.any():
            with torch_threads(self.threads):
                calm = style_track(self.generator, neutral_timeline(timeline), len(feats), self.fps,
                                   self.text_encoder.encode)
            neutral = self.generate(feats, calm.styles, settings, frame_weights=calm.weights)
            motion = keep_neutral_closures(motion, neutral, share, speech)
        return timeline_head_words(motion, timeline, settings.seed) if settings.head_words else motion

    def __call__(self, audio: np.ndarray, style: str | Sequence[str] | None = None,
                 style_ref: FaceMotion | Sequence[FaceMotion] | None = None, *, settings: Settings | None = None,
                 progress: bool = False, mix: Sequence[float] | None = None, intensity: float = 1.0,
                 edit: str | None = None, style_at: Sequence[tuple[float | str, str]] = (),
                 timeline: Timeline | None = None, transition: float = DEFAULT_TRANSITION) -> FaceMotion:
        """16 kHz mono samples + prompt(s) and/or reference motion(s) -> FaceMotion with the audio attached.

        Style control (style_control.py): several prompts / references blended with `mix` weights
        (prompts first, then references), `intensity` (0 neutral, 1 as asked, 1.5 exaggerated),
        `edit` (a prompt whose emotion replaces the style's), `style_at` [(seconds, style), ...] for
        changes over time, or a whole `timeline` (a Timeline; files: talkstyle.animate).
        """
        from tqdm import tqdm

        settings = settings or self.settings
        # Check every input before the heavy work, so that bad input fails fast.
        tl = build_timeline(style, style_ref, mix=mix, intensity=intensity, edit=edit, style_at=style_at,
                            timeline=timeline, transition=transition)
        for prompt in (p for seg in tl.segments for p in seg.style.prompts) if tl is not None else ():
            check_prompt(prompt)
        wav = check_audio(audio)
        if tl is not None:
            tl = with_references(tl.check(duration=len(wav) / SAMPLE_RATE), lambda m: usable_reference(m, self.fps))
        with torch_threads(self.threads), tqdm(total=num_frames_for(len(wav)), desc="audio features", unit="frame",
                                               disable=not progress, leave=False) as bar:
            feats = self.encode_audio(wav, progress=bar)
        windows = tqdm(range(self.generator.num_windows(len(feats))), desc="animating", unit="window",
                       disable=not progress, leave=False)
        if tl is None:          # no style: the style-dropped branch equals the conditional one, skip it
            motion = self.generate(feats, self.generator.null_style, dataclasses.replace(settings, cfg_style=0.0),
                                   progress=windows)
        else:
            motion = self.generate_timeline(feats, tl, settings, progress=windows,
                                            speech=speech_frames(wav, len(feats), self.fps, SAMPLE_RATE))
        return dataclasses.replace(motion, audio=wav, sample_rate=SAMPLE_RATE)


# ------------------------------------------------------------------ pipeline.json
def read_pipeline_config(folder: Path) -> dict[str, Any]:
    """pipeline.json of `folder`, or the defaults for a checkpoint saved without one."""
    path = folder / PIPELINE_FILE
    if not path.is_file():
        return {"text_encoder": TextEncoder.name, "settings": {}}
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TalkstyleError(f"pipeline config is not valid JSON: {path}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise TalkstyleError(f"{path} is not a talkstyle pipeline config")
    if int(config.get("version", 0)) > VERSION:
        raise TalkstyleError(f"{path} has version {config['version']}; this talkstyle reads up to {VERSION}")
    return {"text_encoder": config.get("text_encoder", TextEncoder.name), "settings": config.get("settings", {})}


def write_pipeline_config(folder: Path, text_encoder: str, settings: Settings) -> None:
    config = {"format": FORMAT, "version": VERSION, "text_encoder": text_encoder, "settings": settings.to_dict()}
    write_text(folder / PIPELINE_FILE, json.dumps(config, indent=2) + "\n")


def export_checkpoint(run: str | Path, dest: str | Path = DEFAULT_CHECKPOINT, dtype: torch.dtype = torch.float16) -> Path:
    """Copy a run's inference weights (EMA) as `dtype` with its config and a pipeline.json, e.g.
    into the package (`talkstyle export-checkpoint`)."""
    config = read_config(Path(run))
    extra = {k: v for k, v in config.items() if k not in ("format", "version", "model")}
    pipe = TalkstylePipeline.from_pretrained(run)      # validates the weights against the config
    return pipe.save_pretrained(dest, dtype, {**extra, "dtype": str(dtype).replace("torch.", "")})
