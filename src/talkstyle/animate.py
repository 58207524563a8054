"""The Python API of `talkstyle animate`: speech + style (prompt and/or reference) -> FaceMotion.

    from talkstyle.animate import animate
    motion = animate("speech.wav", style="A woman speaks with a strong happy expression",
                     out_dir="out/")          # motion.npz, preview.mp4, livelink.csv, face.glb

Any audio ffmpeg reads, any length (generated window by window in bounded memory).
"""
from __future__ import annotations

import dataclasses
import functools
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .audio.io import SAMPLE_RATE, load_audio
from .vocab.attributes import StyleAttributes
from .errors import TalkstyleError
from .face.motion import FaceMotion
from .head_motion import apply_head_words, smooth_head

SILENCE_RMS = 1e-3                 # about -60 dBFS: nothing to lip-sync to
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"}


@dataclasses.dataclass(frozen=True)
class Settings:
    cfg_audio: float = 1.0         # seed paper: guidance strength 1 for both conditions
    cfg_style: float = 1.0
    steps: int = 4                 # DPM-Solver++: 4-10 steps give the same lip sync and style here
    sampler: str = "dpm"
    seed: int = 0
    head_words: bool = True        # nod / shake / still words of the prompt move the head (head_motion.py)

    def __post_init__(self) -> None:
        from .model.config import SAMPLERS

        if self.sampler not in SAMPLERS:
            raise TalkstyleError(f"unknown sampler '{self.sampler}': choose one of {', '.join(SAMPLERS)}")
        if not 1 <= self.steps <= 1000:
            raise TalkstyleError(f"steps must be in [1, 1000], got {self.steps}")


@functools.cache
def _cached_generator(checkpoint: str | None):
    from .model.checkpoint import load_generator

    return load_generator(checkpoint)


def load_reference(ref: str | Path | FaceMotion) -> FaceMotion:
    """A style reference: a FaceMotion, a motion .npz, or a video (through video capture)."""
    if isinstance(ref, FaceMotion):
        motion = ref
    else:
        path = Path(ref)
        if not path.is_file():
            raise TalkstyleError(f"style reference not found: {path}")
        if path.suffix.lower() == ".npz":
            motion = FaceMotion.load(path)
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            motion = _capture(path)
        else:
            raise TalkstyleError(f"style reference must be a motion .npz or a video ({', '.join(sorted(VIDEO_SUFFIXES))}): {path}")
    if motion.confidence is not None:
        seen = motion.confidence > 0                     # 0: tracking lost
        if seen.sum() < 0.25 * motion.num_frames or seen.sum() < 10:
            raise TalkstyleError("no face was tracked in most of the style reference: choose a clip with a visible face")
        motion = dataclasses.replace(motion, weights=motion.weights[seen], head=motion.head[seen],
                                     confidence=None, audio=None, sample_rate=None)
    return motion.resample(25.0)


def _capture(path: Path) -> FaceMotion:
    try:
        from .data.capture import capture_video
    except ImportError:
        raise TalkstyleError("video style references need talkstyle.data.capture, which is not in this "
                             "install yet: pass a motion .npz with --style-ref instead") from None
    return capture_video(path).motion


def check_prompt(style: str) -> StyleAttributes:
    """The prompt's attributes. Empty prompts are an error; prompts with no recognisable style
    words get a warning."""
    from .text.parse import analyze_prompt

    parsed = analyze_prompt(style)           # raises on an empty prompt
    a = parsed.attributes
    if parsed.unknown or (a.family == "neutral" and a.emotion == "neutral" and a.subject == "person"
                          and a.head_motion == "natural" and a.delivery == "speaks"):
        warnings.warn(f"the prompt {style!r} has no style words talkstyle knows (English emotions, "
                      "intensities, head motion, delivery); the style will be vague", stacklevel=3)
    return a


def animate(audio: str | Path | np.ndarray, style: str | None = None,
            style_ref: str | Path | FaceMotion | None = None, *, settings: Settings = Settings(),
            checkpoint: str | Path | None = None, out_dir: str | Path | None = None,
            progress: bool = True) -> FaceMotion:
    """Generate a FaceMotion (25 fps, the 16 kHz audio attached) for `audio` in the given style.

    `audio` is a file path (anything ffmpeg reads) or 16 kHz mono float32 samples. With `out_dir`,
    also writes motion.npz, preview.mp4, livelink.csv and face.glb there.
    """
    # Check every input before the heavy imports, so that bad input fails fast.
    attributes = check_prompt(style) if style is not None else None
    wav = load_audio(audio) if not isinstance(audio, np.ndarray) else np.asarray(audio, np.float32)
    if wav.ndim != 1 or wav.size == 0:
        raise TalkstyleError("audio must be non-empty mono 16 kHz samples")
    if np.sqrt(np.mean(np.square(wav))) < SILENCE_RMS:
        warnings.warn("the audio is silent: the face will stay near its resting pose", stacklevel=2)
    reference = load_reference(style_ref) if style_ref is not None else None
    model = _cached_generator(str(checkpoint) if checkpoint is not None else None)

    import torch

    from .audio.features import get_audio_encoder, num_frames_for
    from .model.generator import array_to_motion, motion_to_array
    from .text.encoder import get_text_encoder

    torch.set_num_threads(min(2, torch.get_num_threads()))
    frames = num_frames_for(len(wav))
    feats = get_audio_encoder(model.cfg.audio_encoder).encode(wav, num_frames=frames)
    with torch.no_grad():
        text = torch.from_numpy(get_text_encoder().encode([style])[0]) if style is not None else None
        s = model.style_vector(text, motion_to_array(reference) if reference is not None else None)
        windows = range(model.num_windows(frames))
        bar = tqdm(windows, desc="animating", unit="window", disable=not progress, leave=False)
        # With no style the style-dropped branch equals the conditional one: skip it.
        cfg_style = settings.cfg_style if (style is not None or reference is not None) else 0.0
        x = model.generate(feats, s, sampler=settings.sampler, steps=settings.steps, cfg_audio=settings.cfg_audio,
                           cfg_style=cfg_style, seed=settings.seed, progress=bar)
    motion = smooth_head(array_to_motion(x))
    if attributes is not None and settings.head_words:
        motion = apply_head_words(motion, attributes.head_motion, attributes.level, settings.seed)
    motion = dataclasses.replace(motion, audio=wav, sample_rate=SAMPLE_RATE, metadata={
        "generator": "talkstyle", "prompt": style, "style_ref": str(style_ref) if isinstance(style_ref, (str, Path)) else None,
        "checkpoint": str(checkpoint) if checkpoint else "bundled", **dataclasses.asdict(settings)})
    if out_dir is not None:
        write_outputs(motion, Path(out_dir))
    return motion


def write_outputs(motion: FaceMotion, out_dir: Path) -> dict[str, Path]:
    """motion.npz, preview.mp4 (with the audio), livelink.csv and face.glb, each written atomically."""
    from .export.gltf import write_glb
    from .export.livelink import write_csv
    from .render.grid import render_motion

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"motion": out_dir / "motion.npz", "preview": out_dir / "preview.mp4",
             "livelink": out_dir / "livelink.csv", "glb": out_dir / "face.glb"}
    motion.save(paths["motion"])
    render_motion(motion, paths["preview"])
    write_csv(motion, paths["livelink"])
    write_glb(motion, paths["glb"])
    return paths
