"""Stage II with real text-to-video models: diffusers LTX-2 (video + speech) and Wan 2.x (video only).

The user downloads the weights (a diffusers folder with model_index.json) and points --model-dir at
it; nothing is fetched at run time. LTX-2 hears the line to speak inside the prompt and returns a
synchronised audio track, which is muxed into the mp4. Wan has no audio: its clips are marked
has_speech_audio=False and serve upper-face and head style only.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from ...atomic import atomic_path
from ...errors import TalkstyleError
from ...face.motion import DEFAULT_FPS
from .base import SynthJob, SynthResult

DTYPES = ("float32", "bfloat16", "float16")
# Appended to every prompt: capture needs one frontal, well lit face filling the frame.
FRAMING = "Close-up portrait, one person facing the camera, face centred and well lit, static camera."
NEGATIVE_PROMPT = ("blurry, distorted face, deformed mouth, multiple people, profile view, cropped face, "
                   "text, subtitles, watermark, low quality, worst quality")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What differs between the supported text-to-video models."""
    name: str
    pipeline_class: str           # model_index.json `_class_name`
    has_speech_audio: bool
    height: int
    width: int
    num_frames: int
    fps: float
    steps: int
    guidance: float
    max_sequence_length: int     # prompt tokens (the pipeline's default)
    size_multiple: int           # height and width: multiples of the VAE x patch stride
    frame_multiple: int          # num_frames = k * frame_multiple + 1 (the VAE's time stride)


MODELS = {
    # LTX-2 takes any frame rate: 25 is the system's motion rate.
    "ltx2": ModelSpec("ltx2", "LTX2Pipeline", True, height=512, width=512, num_frames=121, fps=DEFAULT_FPS, steps=40,
                      guidance=3.0, max_sequence_length=1024, size_multiple=32, frame_multiple=8),
    # Wan 2.1 / 2.2 text-to-video (1.3B, 14B) was trained at 16 fps.
    "wan": ModelSpec("wan", "WanPipeline", False, height=480, width=480, num_frames=81, fps=16.0, steps=50,
                     guidance=5.0, max_sequence_length=512, size_multiple=16, frame_multiple=4),
}


@dataclasses.dataclass(frozen=True)
class VideoModelOptions:
    """Everything needed to load a pipeline and sample clips; plain values so it pickles to Ray actors."""
    backend: str
    model_dir: Path
    dtype: str = "bfloat16"
    cpu_offload: bool = False
    height: int | None = None
    width: int | None = None
    num_frames: int | None = None
    fps: float | None = None
    steps: int | None = None
    guidance: float | None = None

    @property
    def spec(self) -> ModelSpec:
        if self.backend not in MODELS:
            raise TalkstyleError(f"unknown video backend {self.backend!r}; choose one of {', '.join(MODELS)}")
        return MODELS[self.backend]

    def resolved(self) -> "VideoModelOptions":
        """Fill unset sampling options with the model's defaults and check them."""
        s = self.spec
        if self.dtype not in DTYPES:
            raise TalkstyleError(f"--dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        out = dataclasses.replace(
            self, model_dir=Path(self.model_dir),
            height=self.height or s.height, width=self.width or s.width, num_frames=self.num_frames or s.num_frames,
            fps=self.fps or s.fps, steps=self.steps or s.steps,
            guidance=s.guidance if self.guidance is None else self.guidance)
        for name in ("height", "width", "num_frames", "steps"):
            if getattr(out, name) < 1:
                raise TalkstyleError(f"--{name.replace('_', '-')} must be positive, got {getattr(out, name)}")
        if out.fps <= 0:
            raise TalkstyleError(f"--fps must be positive, got {out.fps}")
        if out.height % s.size_multiple or out.width % s.size_multiple:
            raise TalkstyleError(f"{s.name}: --height and --width must be multiples of {s.size_multiple}, "
                                 f"got {out.height}x{out.width}")
        if (out.num_frames - 1) % s.frame_multiple:
            raise TalkstyleError(f"{s.name}: --num-frames must be {s.frame_multiple}k+1 (e.g. "
                                 f"{s.num_frames}), got {out.num_frames}")
        return out


def speech_prompt(job: SynthJob, with_line: bool) -> str:
    """The stage I prompt, with the line to speak folded in for models that generate speech."""
    text = job.prompt.text.strip().rstrip(".")
    if with_line and job.line.strip():
        text += f', saying: "{job.line.strip()}"'
    return f"{text}. {FRAMING}"


def check_model_dir(model_dir: Path, pipeline_class: str) -> dict[str, Any]:
    """Raise a clear TalkstyleError unless `model_dir` is a complete diffusers folder of `pipeline_class`."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise TalkstyleError(f"model folder not found: {model_dir}")
    index_path = model_dir / "model_index.json"
    if not index_path.is_file():
        raise TalkstyleError(f"{model_dir} is not a diffusers model folder (no model_index.json); "
                             f"download the {pipeline_class} weights in diffusers format")
    try:
        index = json.loads(index_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise TalkstyleError(f"cannot read {index_path}: {e}") from None
    found = index.get("_class_name")
    if found != pipeline_class:
        match = [m.name for m in MODELS.values() if m.pipeline_class == found]
        supported = ", ".join(m.pipeline_class for m in MODELS.values())
        hint = f"use --backend {match[0]}" if match else f"supported: {supported}"
        raise TalkstyleError(f"{model_dir} holds a {found}, not a {pipeline_class}; {hint}")
    missing = [name for name, entry in index.items()
               if not name.startswith("_") and isinstance(entry, list) and entry[0] is not None
               and not _component_present(model_dir / name)]
    if missing:
        raise TalkstyleError(f"model folder {model_dir} is incomplete: missing component(s) {', '.join(missing)}")
    return index


def _component_present(folder: Path) -> bool:
    # Every saved component (model, scheduler, tokenizer) writes at least one json file next to its weights.
    return folder.is_dir() and any(folder.glob("*.json"))


def _oom_error(opts: VideoModelOptions) -> TalkstyleError:
    return TalkstyleError(
        f"out of GPU memory at {opts.width}x{opts.height}, {opts.num_frames} frames, {opts.dtype}: lower "
        "--height/--width or --num-frames, enable --cpu-offload, use --dtype bfloat16")


def _is_oom(e: BaseException) -> bool:
    import torch

    return isinstance(e, torch.cuda.OutOfMemoryError) or "out of memory" in str(e).lower()


class DiffusersVideoBackend:
    """A SynthBackend that samples talking-head clips from a local diffusers text-to-video pipeline."""

    def __init__(self, options: VideoModelOptions, device: str | None = None) -> None:
        self.options = options.resolved()
        self.spec = self.options.spec
        self.name = self.spec.name
        self.has_speech_audio = self.spec.has_speech_audio
        check_model_dir(self.options.model_dir, self.spec.pipeline_class)
        self.pipe = self._load(device)

    def _load(self, device: str | None) -> Any:
        import diffusers
        import torch

        opts = self.options
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if opts.cpu_offload and not device.startswith("cuda"):
            raise TalkstyleError("--cpu-offload needs a CUDA GPU; on CPU leave it off")
        cls = getattr(diffusers, self.spec.pipeline_class)
        try:
            # use_safetensors: never fall back to unpickling .bin files.
            pipe = cls.from_pretrained(opts.model_dir, dtype=getattr(torch, opts.dtype), use_safetensors=True)
            if opts.cpu_offload:
                pipe.enable_model_cpu_offload(device=device)
            else:
                pipe.to(device)
        except TalkstyleError:
            raise
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            if _is_oom(e):
                raise _oom_error(opts) from None
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise TalkstyleError(f"cannot load {self.spec.pipeline_class} from {opts.model_dir}: {first}") from None
        pipe.set_progress_bar_config(disable=True)
        self.device = device
        return pipe

    def _call_kwargs(self, job: SynthJob) -> dict[str, Any]:
        import torch

        o = self.options
        kwargs: dict[str, Any] = dict(
            prompt=speech_prompt(job, with_line=self.has_speech_audio), negative_prompt=NEGATIVE_PROMPT,
            height=o.height, width=o.width, num_frames=o.num_frames, num_inference_steps=o.steps,
            guidance_scale=o.guidance, output_type="np",
            # Never pad the prompt past what the tokenizer was built for (small test tokenizers).
            max_sequence_length=min(self.spec.max_sequence_length, self.pipe.tokenizer.model_max_length),
            # A CPU generator gives the same noise on any device: a clip id + seed is reproducible.
            generator=torch.Generator("cpu").manual_seed(job.seed))
        if self.name == "ltx2":
            kwargs["frame_rate"] = o.fps
        return kwargs

    def sample(self, job: SynthJob) -> tuple[Any, Any]:
        """Run the pipeline: frames (F, H, W, 3) float in [0, 1] and audio (channels, samples) or None."""
        import torch

        try:
            with torch.inference_mode():
                out = self.pipe(**self._call_kwargs(job))
        except (RuntimeError, torch.cuda.OutOfMemoryError) as e:
            if _is_oom(e):
                torch.cuda.empty_cache()
                raise _oom_error(self.options) from None
            raise
        except ValueError as e:  # the pipeline's own checks of the sampling settings
            raise TalkstyleError(f"{self.spec.pipeline_class} rejected the settings: {e}") from None
        audio = getattr(out, "audio", None) if self.has_speech_audio else None
        return out.frames[0], (None if audio is None else audio[0].float().cpu())

    def synthesize(self, job: SynthJob, workdir: Path) -> SynthResult:
        """Sample one clip and write it as `workdir/<clip_id>.mp4` (H.264, + AAC speech for LTX-2)."""
        from diffusers.utils import encode_video

        frames, audio = self.sample(job)
        path = Path(workdir) / f"{job.clip_id}.mp4"
        sample_rate = self.pipe.vocoder.config.output_sampling_rate if audio is not None else None
        with atomic_path(path) as tmp:
            encode_video(frames, fps=int(round(self.options.fps)), output_path=str(tmp), audio=audio,
                         audio_sample_rate=sample_rate)
        return SynthResult(video=path)
