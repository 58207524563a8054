"""Style control: intensity, blends of several styles, and styles that change over time.

Everything here works with a trained generator as it is (no retraining):

- A `Style` is a weighted blend of parts (prompts and/or reference clips), at an intensity, with
  an optional text edit. Every part is resolved to its style vector s and to the vector of the
  *same* style delivered neutrally, n (for a prompt: its emotion word replaced by "neutral"; for a
  reference: its nearest emotion prototype swapped for the neutral one). The emotion offset s - n
  is what intensity scales, so 0 is the same person / delivery / head motion with a neutral face
  and 1.5 exaggerates along the direction the model learned for that emotion. With
  G = intensity * gain:

      G <= 1: the model is conditioned on n + G (s - n)
      G > 1:  on s, with guidance G - 1 away from n: x0 + (G - 1) (x0(s) - x0(n)) at every step

  gain follows the prompt's intensity word with the data engine's amplitude law (faint 0.58x ..
  overwhelming 1.6x of "medium"), and s and n are read from the prompt without that word, so a
  word is --intensity at its gain (the model's own reading of the words broke down for contempt:
  "overwhelming contemptuous" read as less contempt than "faint"). Why guidance beyond x1: a vector
  past s is one the model never saw, and it grows what s means on average over the data; for an
  emotion that comes in mirrored forms (contempt's one-sided smirk, left or right by person) that
  average is a smile on both sides, which reads as less contempt, not more. Guidance grows the
  difference the style makes to this sample, whose side the noise has already chosen (measured
  in docs/model.md). With one prompt, no intensity word and intensity 1 the result is the
  prompt's style vector exactly.
- Blended parts are generated each as its own chain and mixed frame by frame with their weights
  (`StyleGenerator.generate(frame_weights=...)`): a mixed style vector gives the stronger style,
  not a blend (measured). One prompt with one reference and no weights keep the model's trained
  joint conditioning (their mean vector).
- A `Timeline` is a list of segments (start time, style); `frame_weights` gives each frame's share
  of every segment, with smooth (raised-cosine) transitions centred on the asked times; the
  generator crossfades the segments' chains, each started a window early so that it is already
  in its style when its share rises. Head-motion words apply per segment (`timeline_head_words`).

Timelines come from the command line (`--style A --style-at 12.5 B`), a JSON file or a
subtitle-like text file (`read_timeline`), or Python (`Timeline`, `Segment`, `Style`, `StylePart`).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from .errors import TalkstyleError
from .face.motion import FaceMotion

if TYPE_CHECKING:
    import torch

    from .model.generator import StyleGenerator
    from .vocab.attributes import StyleAttributes

DEFAULT_TRANSITION = 0.8            # seconds: a mood change takes about as long as a phrase's onset
MAX_INTENSITY = 2.0
MEDIUM_LEVEL = 0.5                  # the level of a prompt without an intensity word


def word_gain(level: float) -> float:
    """Scale of the emotion offset for an intensity word's level in [0, 1], relative to "medium".

    The data engine's emotion amplitude is 0.25 + 0.75 * level (data/synth/expression.py); the
    same law, normalised to medium, makes "slight" 0.64x and "overwhelming" 1.6x.
    """
    return (0.25 + 0.75 * level) / (0.25 + 0.75 * MEDIUM_LEVEL)


# ------------------------------------------------------------------ what a style is
@dataclasses.dataclass(frozen=True)
class StylePart:
    """One ingredient of a style: a prompt or a reference clip (motion .npz, video, FaceMotion)."""
    prompt: str | None = None
    ref: str | Path | FaceMotion | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.ref is None):
            raise TalkstyleError("a style part is either a prompt or a reference, not both or neither")
        if self.prompt is not None and not self.prompt.strip():
            raise TalkstyleError("the style prompt is empty")
        if not np.isfinite(self.weight) or self.weight < 0:
            raise TalkstyleError(f"style weights must be non-negative numbers, got {self.weight}")

    def describe(self) -> str:
        what = self.prompt if self.prompt is not None else f"ref:{_ref_name(self.ref)}"
        return what if self.weight == 1.0 else f"{self.weight:g}*{what}"


def _ref_name(ref: str | Path | FaceMotion | None) -> str:
    return "<FaceMotion>" if isinstance(ref, FaceMotion) else str(ref)


@dataclasses.dataclass(frozen=True)
class Style:
    """A weighted blend of parts at an intensity (0 neutral, 1 as asked, up to 2), optionally
    with a text edit: a prompt whose emotion replaces the parts' emotion ("like this clip, but
    furious").

    Blended parts are generated each as its own chain and mixed (see StyleGenerator.generate);
    `joint` instead conditions the model on the parts' mean style vector, the "both" mode it was
    trained on for a prompt with a reference (the stronger emotion usually wins there)."""
    parts: tuple[StylePart, ...]
    intensity: float = 1.0
    edit: str | None = None
    joint: bool = False

    def __post_init__(self) -> None:
        if not self.parts:
            raise TalkstyleError("a style needs at least one prompt or reference")
        if sum(p.weight for p in self.parts) <= 0:
            raise TalkstyleError("the style weights sum to zero")
        if not np.isfinite(self.intensity) or not 0 <= self.intensity <= MAX_INTENSITY:
            raise TalkstyleError(f"intensity must be in [0, {MAX_INTENSITY:g}] (0 neutral, 1 as asked, 1.5 "
                                 f"exaggerated), got {self.intensity}")
        if self.edit is not None and not self.edit.strip():
            raise TalkstyleError("the style edit is empty")

    @property
    def weights(self) -> np.ndarray:
        w = np.array([p.weight for p in self.parts], np.float64)
        return w / w.sum()

    @property
    def prompts(self) -> list[str]:
        """Its prompts, the edit's included."""
        return [p.prompt for p in self.parts if p.prompt is not None] + ([self.edit] if self.edit else [])

    def describe(self) -> str:
        text = (" & " if self.joint else " + ").join(p.describe() for p in self.parts)
        opts = ([f"intensity={self.intensity:g}"] if self.intensity != 1 else []) + \
               ([f"edit={self.edit}"] if self.edit else [])
        return f"{text} [{', '.join(opts)}]" if opts else text


def make_style(prompts: Sequence[str] = (), refs: Sequence[str | Path | FaceMotion] = (),
               mix: Sequence[float] | None = None, intensity: float = 1.0, edit: str | None = None) -> Style:
    """A Style from the command line's pieces: --style (repeatable), --style-ref (repeatable),
    --mix weights in that order (prompts first, then references; default equal). Without --mix,
    one prompt with one reference conditions the model jointly, as before style control."""
    n = len(prompts) + len(refs)
    if mix is not None and len(mix) != n:
        raise TalkstyleError(f"--mix has {len(mix)} weight(s) for {n} style part(s) "
                             f"({len(prompts)} prompt(s), then {len(refs)} reference(s))")
    weights = list(mix) if mix is not None else [1.0] * n
    parts = [StylePart(prompt=p, weight=w) for p, w in zip(prompts, weights)]
    parts += [StylePart(ref=r, weight=w) for r, w in zip(refs, weights[len(prompts):])]
    return Style(tuple(parts), intensity, edit, joint=mix is None and len(prompts) <= 1 and len(refs) <= 1)


def parse_mix(text: str) -> list[float]:
    """ "0.7,0.3" -> [0.7, 0.3]."""
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise TalkstyleError(f"--mix takes comma-separated weights like 0.7,0.3, got {text!r}") from None


# ------------------------------------------------------------------ timelines
@dataclasses.dataclass(frozen=True)
class Segment:
    """A style from `start` seconds on (until the next segment; `end` only guards overlaps).
    `transition`: seconds of the change into this segment, centred on `start`."""
    start: float
    style: Style
    end: float | None = None
    transition: float | None = None


@dataclasses.dataclass(frozen=True)
class Timeline:
    segments: tuple[Segment, ...]
    transition: float = DEFAULT_TRANSITION

    @classmethod
    def single(cls, style: Style) -> "Timeline":
        return cls((Segment(0.0, style),))

    def check(self, duration: float | None = None) -> "Timeline":
        """Raise a TalkstyleError for times that are unordered, overlapping, negative or past the
        audio's end; returns self."""
        if not self.segments:
            raise TalkstyleError("the style timeline is empty")
        if not np.isfinite(self.transition) or self.transition < 0:
            raise TalkstyleError(f"the transition time must be >= 0 s, got {self.transition}")
        prev: Segment | None = None
        for i, seg in enumerate(self.segments):
            where = f"segment {i + 1} ({seg.style.describe()!r})"
            if not np.isfinite(seg.start) or seg.start < 0:
                raise TalkstyleError(f"{where} starts at {seg.start} s: times must be >= 0")
            if seg.transition is not None and (not np.isfinite(seg.transition) or seg.transition < 0):
                raise TalkstyleError(f"{where}: the transition time must be >= 0 s, got {seg.transition}")
            if seg.end is not None and not seg.end > seg.start:
                raise TalkstyleError(f"{where} ends ({seg.end:g} s) before it starts ({seg.start:g} s)")
            if duration is not None and seg.start >= duration:
                raise TalkstyleError(f"{where} starts at {seg.start:g} s, past the end of the audio "
                                     f"({duration:.2f} s)")
            if prev is not None:
                if seg.start <= prev.start:
                    raise TalkstyleError(f"timeline times must increase: {where} starts at {seg.start:g} s, "
                                         f"not after the segment before it ({prev.start:g} s)")
                if prev.end is not None and seg.start < prev.end:
                    raise TalkstyleError(f"timeline segments overlap: {where} starts at {seg.start:g} s, "
                                         f"before the segment before it ends ({prev.end:g} s)")
            prev = seg
        return self

    def frame_weights(self, num_frames: int, fps: float = 25.0) -> np.ndarray:
        """(T, segments) share of each segment at each frame; rows sum to 1.

        A transition into segment i is a raised cosine centred on its start (half-way exactly
        there), as long as asked but at most half the time to the neighbouring changes, so that
        at most two segments are ever mixed.
        """
        t = np.arange(num_frames) / fps
        starts = [s.start for s in self.segments]
        up = [np.ones(num_frames)]
        for i in range(1, len(starts)):
            length = self.segments[i].transition if self.segments[i].transition is not None else self.transition
            room = min(starts[i] - starts[i - 1], starts[i + 1] - starts[i] if i + 1 < len(starts) else np.inf)
            half = min(length / 2, room / 2)
            x = np.clip((t - (starts[i] - half)) / (2 * half), 0, 1) if half > 0 else (t >= starts[i]).astype(float)
            up.append(0.5 - 0.5 * np.cos(np.pi * x))
        up.append(np.zeros(num_frames))
        return np.stack([up[i] * (1 - up[i + 1]) for i in range(len(starts))], 1)

    def describe(self) -> list[dict[str, Any]]:
        """JSON-ready summary for the motion's metadata."""
        return [{"start": s.start, "style": s.style.describe(), **({"end": s.end} if s.end is not None else {}),
                 **({"transition": s.transition} if s.transition is not None else {})} for s in self.segments]


def parse_time(text: str | float) -> float:
    """Seconds from "12.5", "1:02.5" or "00:01:02,500" (subtitle style)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip().replace(",", ".")
    try:
        parts = [float(p) for p in s.split(":")]
    except ValueError:
        raise TalkstyleError(f"not a time: {text!r} (use seconds like 12.5, or 1:02.5, or 00:01:02,500)") from None
    if len(parts) > 3 or any(p < 0 for p in parts[:-1]):
        raise TalkstyleError(f"not a time: {text!r}")
    return float(sum(p * 60 ** k for k, p in enumerate(reversed(parts))))


_WEIGHT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*\*\s*(.+)$", re.S)
_OPTIONS = re.compile(r"\[([^\[\]]*)\]\s*$")


def parse_style_text(text: str, base: Path | None = None) -> tuple[Style, float | None]:
    """One style in the timeline mini-language -> (Style, transition or None).

        A calm woman speaks
        ref:clips/a.npz
        0.7*ref:a.npz + 0.3*A happy man speaks  [intensity=1.2, transition=0.5, edit=furious]

    Reference paths are relative to `base` (the timeline file's folder) when given.
    """
    options: dict[str, str] = {}
    m = _OPTIONS.search(text)
    if m:
        text = text[:m.start()]
        for item in filter(None, (x.strip() for x in m.group(1).split(","))):
            key, sep, value = item.partition("=")
            if not sep or key.strip() not in ("intensity", "transition", "edit"):
                raise TalkstyleError(f"unknown style option {item!r}: use intensity=X, transition=SECONDS, edit=TEXT")
            options[key.strip()] = value.strip()
    parts = []
    for piece in (p.strip() for p in text.split(" + ")):
        if not piece:
            raise TalkstyleError(f"empty style part in {text!r}")
        w = _WEIGHT.match(piece)
        weight, piece = (float(w.group(1)), w.group(2).strip()) if w else (1.0, piece)
        if piece.lower().startswith("ref:"):
            path = Path(piece[4:].strip())
            parts.append(StylePart(ref=base / path if base is not None and not path.is_absolute() else path,
                                   weight=weight))
        else:
            parts.append(StylePart(prompt=piece, weight=weight))
    try:
        intensity = float(options.get("intensity", 1.0))
        transition = float(options["transition"]) if "transition" in options else None
    except ValueError:
        raise TalkstyleError(f"intensity and transition take numbers, got {options}") from None
    return Style(tuple(parts), intensity, options.get("edit")), transition


def read_timeline(path: str | Path, transition: float = DEFAULT_TRANSITION) -> Timeline:
    """A timeline file: JSON (`{"transition": 0.8, "segments": [{"start": 0, "style": "..."}, ...]}`)
    or text, one segment per line: `TIME[ --> END]  STYLE` (STYLE in the mini-language of
    `parse_style_text`; `#` starts a comment)."""
    path = Path(path)
    if not path.is_file():
        raise TalkstyleError(f"timeline file not found: {path}")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise TalkstyleError(f"timeline {path} is not valid JSON: {e}") from None
        return timeline_from_json(data, path.parent, transition)
    segments = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^(\S+)(?:\s*-->\s*(\S+))?\s+(.+)$", line)
        if not m:
            raise TalkstyleError(f"{path}:{number}: expected 'TIME STYLE' (e.g. '12.5 She becomes furious'), got {raw!r}")
        try:
            style, trans = parse_style_text(m.group(3), path.parent)
            segments.append(Segment(parse_time(m.group(1)), style,
                                    parse_time(m.group(2)) if m.group(2) else None, trans))
        except TalkstyleError as e:
            raise TalkstyleError(f"{path}:{number}: {e}") from None
    return Timeline(tuple(segments), transition).check()


_SEGMENT_KEYS = {"start", "end", "style", "ref", "mix", "intensity", "edit", "transition"}


def timeline_from_json(data: Any, base: Path | None = None, transition: float = DEFAULT_TRANSITION) -> Timeline:
    """The JSON form: {"transition": s, "segments": [{"start", "style" | "ref" | "mix", "end",
    "intensity", "edit", "transition"}]}; "mix" is a list of {"style" | "ref", "weight"}."""
    if isinstance(data, list):
        data = {"segments": data}
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise TalkstyleError('a JSON timeline is {"segments": [{"start": 0, "style": "..."}, ...]}')
    segments = []
    for i, seg in enumerate(data["segments"]):
        if not isinstance(seg, dict) or "start" not in seg:
            raise TalkstyleError(f"timeline segment {i + 1} needs a 'start' time")
        unknown = set(seg) - _SEGMENT_KEYS
        if unknown:
            raise TalkstyleError(f"timeline segment {i + 1}: unknown key(s) {', '.join(sorted(unknown))}")
        items = seg.get("mix") or [{k: seg[k] for k in ("style", "ref") if k in seg}]
        parts = []
        for item in items:
            if not isinstance(item, dict) or ("style" in item) == ("ref" in item):
                raise TalkstyleError(f"timeline segment {i + 1}: each part has a 'style' or a 'ref'")
            ref = item.get("ref")
            if ref is not None and base is not None and not Path(ref).is_absolute():
                ref = base / ref
            parts.append(StylePart(item.get("style"), ref, float(item.get("weight", 1.0))))
        try:
            segments.append(Segment(parse_time(seg["start"]),
                                    Style(tuple(parts), float(seg.get("intensity", 1.0)), seg.get("edit")),
                                    parse_time(seg["end"]) if seg.get("end") is not None else None,
                                    float(seg["transition"]) if seg.get("transition") is not None else None))
        except (TypeError, ValueError):
            raise TalkstyleError(f"timeline segment {i + 1}: times, weights and intensity must be numbers") from None
    return Timeline(tuple(segments), float(data.get("transition", transition))).check()


def build_timeline(style: str | Sequence[str] | None = None,
                   style_ref: str | Path | FaceMotion | Sequence[str | Path | FaceMotion] | None = None, *,
                   mix: Sequence[float] | None = None, intensity: float = 1.0, edit: str | None = None,
                   style_at: Sequence[tuple[float | str, str]] = (), timeline: Timeline | str | Path | None = None,
                   transition: float = DEFAULT_TRANSITION) -> Timeline | None:
    """The timeline that the arguments of `animate` describe; None when they give no style.

    `style`/`style_ref`/`mix`/`intensity`/`edit` make the style from time 0; each `style_at`
    (time, style in the mini-language) starts a new segment. `timeline` (a Timeline or a file)
    excludes the others.
    """
    prompts = [style] if isinstance(style, str) else list(style or [])
    refs = [style_ref] if isinstance(style_ref, (str, Path, FaceMotion)) else list(style_ref or [])
    if timeline is not None:
        if prompts or refs or style_at or mix is not None or edit is not None:
            raise TalkstyleError("give the styles either in a timeline or with --style/--style-ref/--style-at, not both")
        tl = timeline if isinstance(timeline, Timeline) else read_timeline(timeline, transition)
        return dataclasses.replace(tl, segments=tuple(
            dataclasses.replace(s, style=dataclasses.replace(s.style, intensity=s.style.intensity * intensity))
            for s in tl.segments)).check() if intensity != 1 else tl.check()
    if not prompts and not refs:
        if style_at:
            raise TalkstyleError("--style-at changes the style given by --style or --style-ref: give one")
        if mix is not None or edit is not None or intensity != 1:
            raise TalkstyleError("--mix, --edit and --intensity need a style: give --style or --style-ref")
        return None
    segments = [Segment(0.0, make_style(prompts, refs, mix, intensity, edit))]
    for when, text in style_at:
        s, trans = parse_style_text(text)
        segments.append(Segment(parse_time(when), dataclasses.replace(s, intensity=s.intensity * intensity), None, trans))
    return Timeline(tuple(segments), transition).check()


# ------------------------------------------------------------------ style vectors
@dataclasses.dataclass(frozen=True)
class Chain:
    """One generation chain of a style: the vector the model is conditioned on, its share of the
    blend, its neutral delivery and the guidance away from it beyond x1 (0 up to x1)."""
    vector: "torch.Tensor"             # (style_dim,)
    weight: float
    neutral: "torch.Tensor"            # (style_dim,)
    boost: float = 0.0


@dataclasses.dataclass
class StyleTrack:
    """What the generator needs: one chain per segment (or per part of a blended segment) and each
    frame's share of each."""
    styles: "torch.Tensor"             # (C, style_dim) the chains' vectors
    weights: np.ndarray                # (T, C), rows sum to 1
    neutral: "torch.Tensor"            # (C, style_dim) their neutral deliveries
    boost: np.ndarray                  # (C,) guidance away from the neutral delivery (exaggeration)

    @property
    def exaggerated_share(self) -> np.ndarray:
        """(T,) each frame's share of chains that scale an emotion beyond the model's own (x1)."""
        return self.weights @ (self.boost > 0).astype(np.float64)


def with_references(tl: Timeline, load: Callable[[Any], FaceMotion]) -> Timeline:
    """The timeline with every reference passed through `load` (a file -> FaceMotion; a FaceMotion
    -> the frames usable as a style reference), once each."""
    def part(p: StylePart) -> StylePart:
        return p if p.ref is None else dataclasses.replace(p, ref=load(p.ref))

    return dataclasses.replace(tl, segments=tuple(
        dataclasses.replace(s, style=dataclasses.replace(s.style, parts=tuple(part(p) for p in s.style.parts)))
        for s in tl.segments))


@functools.cache
def attributes(prompt: str) -> "StyleAttributes":
    """The prompt's parsed attributes, quietly: the pipeline has already warned about a vague prompt
    once (check_prompt), and style control reads each prompt several times."""
    import warnings

    from .text.parse import analyze_prompt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze_prompt(prompt).attributes


def _without_intensity_word(prompt: str, attrs: "StyleAttributes") -> str:
    """The prompt without its intensity word ("a strong angry look" -> "an angry look"); an
    emotionless prompt as it is (its word scales nothing)."""
    if attrs.family == "neutral":
        return prompt
    pattern = re.compile(rf"(\b[Aa]n?\s+)?\b{re.escape(attrs.intensity)}\b\s*", re.IGNORECASE)

    def drop(m: re.Match) -> str:
        if not m.group(1):
            return ""
        rest = prompt[m.end():m.end() + 1].lower()
        return m.group(1)[0] + ("n " if rest and rest in "aeiou" else " ")

    return pattern.sub(drop, prompt, count=1)


def _neutral_prompt(prompt: str, attrs: "StyleAttributes") -> str | None:
    """The prompt with its emotion word replaced by "neutral"; None when the word is not in it."""
    if attrs.family == "neutral":
        return prompt
    pattern = re.compile(rf"\b{re.escape(attrs.emotion)}\b", re.IGNORECASE)
    if not pattern.search(prompt):
        return None
    return re.sub(r"\b([Aa])n neutral\b", r"\1 neutral", pattern.sub("neutral", prompt, count=1))   # "an angry"


# Emotion prototypes: a few plain prompts per family, for references (which have no words to swap).
PROTOTYPE_TEMPLATES = ("A man speaks with a moderate {} expression.", "A woman speaks with a moderate {} expression.")
PROTOTYPE_WORDS = 3


@functools.cache
def _prototype_prompts() -> dict[str, list[str]]:
    from .vocab.attributes import EMOTION_FAMILIES
    from .vocab.words import EMOTIONS, PARSE_ONLY_EMOTIONS

    words = {f: [w for w, g in EMOTIONS.items() if g == f and w not in PARSE_ONLY_EMOTIONS][:PROTOTYPE_WORDS]
             for f in EMOTION_FAMILIES}
    return {f: [t.format(w) for t in PROTOTYPE_TEMPLATES for w in ws] for f, ws in words.items()}


class StyleResolver:
    """Turns Styles into style vectors with one model (prototypes cached). `encode`: prompts ->
    (N, 384) sentence embeddings (default: the shared MiniLM encoder)."""

    def __init__(self, model: "StyleGenerator", encode: Callable[[list[str]], np.ndarray] | None = None):
        self.model = model
        self.encode = encode

    def text(self, prompts: list[str]) -> "torch.Tensor":
        """(N, style_dim) text styles of the prompts."""
        import torch

        from .text.encoder import get_text_encoder

        emb = torch.from_numpy((self.encode or get_text_encoder().encode)(prompts))
        return self.model.text_style(emb.float())

    @functools.cached_property
    def prototypes(self) -> dict[str, "torch.Tensor"]:
        prompts = _prototype_prompts()
        return {f: self.text(ps).mean(0) for f, ps in prompts.items()}

    def reference_family(self, s: "torch.Tensor") -> str:
        """The emotion family whose prototype is nearest (cosine) to a reference's style."""
        import torch

        fams = list(self.prototypes)
        sims = torch.stack([torch.cosine_similarity(s, self.prototypes[f], 0) for f in fams])
        return fams[int(sims.argmax())]

    def prompt_style(self, prompt: str) -> tuple["torch.Tensor", "torch.Tensor", float]:
        """(style s, its neutral delivery n, the intensity word's gain) of a prompt; s and n are
        read without the intensity word, which acts through the gain alone."""
        attrs = attributes(prompt)
        prompt = _without_intensity_word(prompt, attrs)
        neutral = _neutral_prompt(prompt, attrs)
        s = self.text([prompt])[0]
        if neutral is None:                    # emotion read from an unknown word: use prototypes
            n = s - self.prototypes[attrs.family] + self.prototypes["neutral"]
        else:
            n = self.text([neutral])[0]
        return s, n, word_gain(attrs.level) if attrs.family != "neutral" else 1.0

    def part_style(self, part: StylePart) -> tuple["torch.Tensor", "torch.Tensor", float]:
        """(style s, its neutral delivery n, gain) of a prompt or a (loaded) reference."""
        if part.prompt is not None:
            return self.prompt_style(part.prompt)
        from .model.generator import motion_to_array

        if not isinstance(part.ref, FaceMotion):
            raise TalkstyleError(f"style reference {part.ref} is not loaded (StylePart.ref must be a FaceMotion here)")
        s = self.model.encode_reference(motion_to_array(part.ref))
        return s, s - self.prototypes[self.reference_family(s)] + self.prototypes["neutral"], 1.0

    def chains(self, style: Style) -> list[Chain]:
        """The generation chains of a style, one per part (a joint style: one, their weighted mean).

        Each part has its neutral delivery n, an emotion direction d (s - n; an edit's replaces the
        parts' own) and a scale G = intensity x the intensity word's gain. Up to x1 the model is
        conditioned on n + G d; beyond x1 on n + d (its own x1) with guidance G - 1 away from n.
        A part asked as it is (x1, no edit) is its own style vector s, exactly."""
        if not self.model.cfg.style_conditioned:
            return [Chain(self.model.null_style, 1.0, self.model.null_style)]
        edit = self.prompt_style(style.edit) if style.edit is not None else None
        chains = []
        for part, weight in zip(style.parts, style.weights.tolist()):
            s, n, gain = self.part_style(part)
            if edit is not None:                 # the edit's emotion replaces the part's own
                edit_s, edit_n, gain = edit
                direction = edit_s - edit_n
            else:
                direction = s - n
            scale = style.intensity * gain
            vector = s if scale == 1 and edit is None else n + min(scale, 1.0) * direction
            chains.append(Chain(vector, weight, n, max(scale - 1.0, 0.0)))
        if style.joint:
            return [Chain(sum(c.weight * c.vector for c in chains), 1.0, sum(c.weight * c.neutral for c in chains),
                          sum(c.weight * c.boost for c in chains))]
        return chains

    def vector(self, style: Style) -> "torch.Tensor":
        """One vector for the style: its chains' weighted mean."""
        return sum(c.weight * c.vector for c in self.chains(style))


def style_track(model: "StyleGenerator", tl: Timeline, num_frames: int, fps: float = 25.0,
                encode: Callable[[list[str]], np.ndarray] | None = None) -> StyleTrack:
    """The generation chains of a timeline (its references loaded) and each frame's share of each."""
    import torch

    resolver = StyleResolver(model, encode)
    segments = tl.frame_weights(num_frames, fps)
    chains, columns = [], []
    with torch.no_grad():
        for i, seg in enumerate(tl.segments):         # one generation chain per part of a blend
            for c in resolver.chains(seg.style):
                chains.append(c)
                columns.append(segments[:, i] * c.weight)
    return StyleTrack(torch.stack([c.vector for c in chains]), np.stack(columns, 1),
                      torch.stack([c.neutral for c in chains]), np.array([c.boost for c in chains], np.float32))


# ------------------------------------------------------------------ lips under exaggeration
SEALED_MM = 1.0                     # inner-lip gap under which the lips count as sealed (p, b, m, rest)
# The channels that open the lips; smile, frown, press, dimple, stretch (fear's mouth) and the
# raised upper lip (disgust's) carry expressions and stay: taking them too flattened those
# families' rise with intensity.
SEAL_CHANNELS = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLowerDownLeft", "mouthLowerDownRight")
SPEECH_MARGIN_S = 0.12              # a p/b/m closure is silent, but never farther than this from sound


def neutral_timeline(tl: Timeline) -> Timeline:
    """The same timeline delivered neutrally (every segment at intensity 0)."""
    return dataclasses.replace(tl, segments=tuple(
        dataclasses.replace(s, style=dataclasses.replace(s.style, intensity=0.0)) for s in tl.segments))


def speech_frames(wav: np.ndarray, num_frames: int, fps: float = 25.0, sample_rate: int = 16000) -> np.ndarray:
    """(T,) bool: frames within SPEECH_MARGIN_S of speech (RMS above a tenth of the loud speech's),
    where the p, b and m are; pauses are not."""
    from scipy.ndimage import maximum_filter1d

    hop = sample_rate / fps
    rms = np.array([np.sqrt(np.mean(np.square(wav[int(i * hop):int((i + 1) * hop)]))) if int(i * hop) < len(wav)
                    else 0.0 for i in range(num_frames)])
    loud = rms > 0.1 * max(np.percentile(rms, 95), 1e-6)
    return maximum_filter1d(loud, 2 * round(SPEECH_MARGIN_S * fps) + 1)


def keep_neutral_closures(motion: FaceMotion, neutral: FaceMotion, share: np.ndarray, speech: np.ndarray | None = None) -> FaceMotion:
    """`motion` with the lips of `neutral` (the same style, voice and noise at intensity 0) wherever
    those are sealed during speech, for the `share` of each frame that is exaggerated (intensity or
    an intensity word beyond x1).

    Why: beyond x1 the emotion offset opens the mouth further (a surprised jaw, an angry
    sneer) and the lips stop closing on p, b, m (closed at 35 % of them instead of 46 % for
    "surprised" on real speech); the neutral delivery of the same style closes them best (76 %).
    Its closures (dilated by a frame, eased over three) replace the lip-opening channels only, and
    only near speech (`speech`, default everywhere), so that pauses keep the exaggerated face.
    """
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    from .face.arkit import ARKIT_NAMES
    from .face.rig import FaceRig

    sealed = FaceRig.default().mouth_opening(neutral) < SEALED_MM
    if speech is not None:
        sealed &= speech
    take = uniform_filter1d(maximum_filter1d(sealed.astype(float), 3), 3) * np.clip(share, 0, 1)
    idx = [ARKIT_NAMES.index(c) for c in SEAL_CHANNELS]
    weights = motion.weights.copy()
    weights[:, idx] += take[:, None] * (neutral.weights[:, idx] - weights[:, idx])
    return dataclasses.replace(motion, weights=weights.astype(np.float32))


# ------------------------------------------------------------------ head motion per segment
def timeline_head_words(motion: FaceMotion, tl: Timeline, seed: int = 0) -> FaceMotion:
    """Each segment's head-motion word applied to the whole clip, then faded in and out with the
    segment's weights (so a nod belongs to its segment and changes smoothly)."""
    from .head_motion import apply_head_words

    heads = []
    for k, seg in enumerate(tl.segments):
        word, level = "natural", MEDIUM_LEVEL
        # The heaviest prompt with a head word decides (references carry their own head motion).
        for part in sorted((p for p in seg.style.parts if p.prompt), key=lambda p: -p.weight):
            a = attributes(part.prompt)
            if a.head_motion != "natural":
                word, level = a.head_motion, a.level
                break
        level = float(np.clip(level * seg.style.intensity, 0, 1))
        heads.append(apply_head_words(motion, word, level, seed + k).head)
    weights = tl.frame_weights(motion.num_frames, motion.fps)
    head = np.einsum("tk,ktd->td", weights, np.stack(heads)).astype(np.float32)
    return dataclasses.replace(motion, head=head)
