"""Phones -> visemes -> mouth and jaw ARKit weights, with coarticulation.

Each espeak IPA phone is split into units (a diphthong "aɪ" is an open then a spread vowel), each
unit has a viseme class with an ARKit target and a dominance over time (Cohen and Massaro 1993):
at every frame the mouth is the dominance-weighted mean of the nearby targets. Two parameter groups
have their own dominances: lip rounding (pucker, funnel), which rounded sounds spread ~150 ms ahead
over consonants that do not care, and everything else, where bilabials and labiodentals dominate
hard and velars, glottals and pauses follow their neighbours. The whole mouth leads the sound by
one frame, and the lips of p/b/m are then sealed (mouthClose = jawOpen) in proportion to the
bilabial dominance, so closures are never missed.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...vocab.attributes import Phone
from ...face.arkit import INDEX, NUM_BLENDSHAPES
from ...face.lip_seal import seal_lips
from .voice_rules import is_vowel

LEAD_S = 0.04                       # mouth moves about one frame before the sound (typical; per person)
ROUNDING = ("mouthPucker", "mouthFunnel")

# class -> ARKit target at articulation 1 (L/R pairs are written once, without the side).
TARGETS: dict[str, dict[str, float]] = {
    "sil": {},
    "bilabial": {"jawOpen": 0.05, "mouthPress": 0.35, "mouthRollLower": 0.15, "mouthRollUpper": 0.10},
    "labiodental": {"jawOpen": 0.06, "mouthRollLower": 0.70, "mouthUpperUp": 0.30},
    "dental": {"jawOpen": 0.18, "tongueOut": 0.25, "mouthLowerDown": 0.10},
    "alveolar": {"jawOpen": 0.15, "mouthLowerDown": 0.10, "mouthStretch": 0.08},
    "sibilant": {"jawOpen": 0.06, "mouthStretch": 0.20, "mouthLowerDown": 0.15, "mouthUpperUp": 0.15},
    "postalveolar": {"jawOpen": 0.12, "mouthFunnel": 0.45, "mouthPucker": 0.25, "mouthUpperUp": 0.15},
    "velar": {"jawOpen": 0.20},
    "glottal": {"jawOpen": 0.25},
    "r": {"jawOpen": 0.15, "mouthPucker": 0.25, "mouthFunnel": 0.15},
    "w": {"jawOpen": 0.10, "mouthPucker": 0.65, "mouthFunnel": 0.25},
    "j": {"jawOpen": 0.12, "mouthStretch": 0.25},
    "open": {"jawOpen": 0.50, "mouthLowerDown": 0.25, "mouthUpperUp": 0.10},
    "open_mid": {"jawOpen": 0.36, "mouthLowerDown": 0.20},
    "open_rounded": {"jawOpen": 0.40, "mouthFunnel": 0.40, "mouthPucker": 0.15},
    "mid": {"jawOpen": 0.28, "mouthLowerDown": 0.10},
    "spread": {"jawOpen": 0.20, "mouthStretch": 0.35, "mouthUpperUp": 0.10, "mouthSmile": 0.08},
    "spread_mid": {"jawOpen": 0.32, "mouthStretch": 0.25, "mouthLowerDown": 0.15},
    "rounded": {"jawOpen": 0.20, "mouthPucker": 0.55, "mouthFunnel": 0.35},
    "rounded_mid": {"jawOpen": 0.30, "mouthPucker": 0.40, "mouthFunnel": 0.40},
}

UNIT_CLASS: dict[str, str] = {
    **dict.fromkeys("pbm", "bilabial"), **dict.fromkeys("fv", "labiodental"),
    **dict.fromkeys("θð", "dental"), **dict.fromkeys(["t", "d", "n", "l", "ɾ", "ɬ", "ɫ"], "alveolar"),
    **dict.fromkeys("sz", "sibilant"), **dict.fromkeys(["ʃ", "ʒ", "tʃ", "dʒ"], "postalveolar"),
    **dict.fromkeys(["k", "g", "ɡ", "ŋ", "x"], "velar"), **dict.fromkeys("hʔ", "glottal"),
    **dict.fromkeys("ɹrɻ", "r"), "w": "w", "j": "j",
    **dict.fromkeys("aɑæ", "open"), **dict.fromkeys("ɐʌ", "open_mid"), **dict.fromkeys("ɔɒ", "open_rounded"),
    **dict.fromkeys("əɜɚɝɘ", "mid"), **dict.fromkeys("iɪyᵻɨ", "spread"), **dict.fromkeys("eɛ", "spread_mid"),
    **dict.fromkeys("uʊʉ", "rounded"), **dict.fromkeys("oɵ", "rounded_mid"),
}


@dataclasses.dataclass(frozen=True)
class Dominance:
    """Strength and time constants (s) before / after the unit, for one parameter group."""
    alpha: float
    before: float
    after: float


# Main group (jaw and all lip shapes but rounding): closures dominate, velars/glottals follow.
_MAIN = {"bilabial": Dominance(8.0, 0.02, 0.02), "labiodental": Dominance(4.0, 0.025, 0.025),
         "sibilant": Dominance(2.0, 0.03, 0.03), "postalveolar": Dominance(2.0, 0.04, 0.04),
         "velar": Dominance(0.3, 0.03, 0.03), "glottal": Dominance(0.2, 0.03, 0.03),
         "sil": Dominance(0.6, 0.06, 0.06)}
_MAIN_DEFAULT = Dominance(1.0, 0.045, 0.045)
# Rounding group: rounded sounds anticipate ~150 ms; consonants that do not round barely pull.
_ROUND = {"w": Dominance(4.0, 0.12, 0.06), "rounded": Dominance(3.0, 0.12, 0.06),
          "rounded_mid": Dominance(3.0, 0.12, 0.06), "open_rounded": Dominance(2.0, 0.10, 0.05),
          "postalveolar": Dominance(2.0, 0.08, 0.05), "r": Dominance(1.0, 0.06, 0.04),
          "spread": Dominance(1.5, 0.04, 0.04), "spread_mid": Dominance(1.2, 0.04, 0.04),
          "j": Dominance(1.2, 0.04, 0.04), "sil": Dominance(0.6, 0.06, 0.06)}
_ROUND_DEFAULT = Dominance(0.15, 0.03, 0.03)
# Channels whose size scales with articulation and loudness (closures and presses are not scaled).
OPENING = ("jawOpen", "mouthLowerDown", "mouthUpperUp", "mouthStretch", "mouthFunnel", "mouthPucker",
           "mouthSmile", "tongueOut")


@dataclasses.dataclass(frozen=True)
class Unit:
    viseme: str
    start: float
    end: float


def _split_symbol(symbol: str) -> list[str]:
    """'ˈaɪ' -> ['a', 'ɪ'], 'tʃ' -> ['tʃ'], 'əl' -> ['ə', 'l']; diacritics and length dropped."""
    core = "".join(ch for ch in symbol if ch not in "ˈˌːˑ̩̃͡")
    units, i = [], 0
    while i < len(core):
        if core[i:i + 2] in UNIT_CLASS:
            units.append(core[i:i + 2])
            i += 2
        else:
            units.append(core[i])
            i += 1
    return units


def viseme_class(unit: str) -> str:
    """Viseme class of one IPA unit; unknown vowels count as mid, unknown consonants as alveolar."""
    if unit in UNIT_CLASS:
        return UNIT_CLASS[unit]
    return "mid" if is_vowel(unit) else "alveolar"


def units(phones: list[Phone]) -> list[Unit]:
    """Phones -> viseme units; a multi-unit phone gives its first unit 60 % of the time."""
    out: list[Unit] = []
    for ph in phones:
        parts = _split_symbol(ph.symbol) if ph.symbol else []
        if not parts:
            out.append(Unit("sil", ph.start, ph.end))
            continue
        dur = ph.end - ph.start
        shares = [1.0] if len(parts) == 1 else [0.6] + [0.4 / (len(parts) - 1)] * (len(parts) - 1)
        t = ph.start
        for part, share in zip(parts, shares):
            out.append(Unit(viseme_class(part), t, t + dur * share))
            t += dur * share
    return out


def arkit_vector(spec: dict[str, float]) -> np.ndarray:
    """(52,) weights from {name: value}; a name without Left/Right sets both sides."""
    out = np.zeros(NUM_BLENDSHAPES, np.float32)
    for name, value in spec.items():
        for full in ((name,) if name in INDEX else (name + "Left", name + "Right")):
            out[INDEX[full]] = value
    return out


def _dominance(table: dict[str, Dominance], default: Dominance, us: list[Unit], t: np.ndarray,
               lead: float) -> np.ndarray:
    """(U, T) dominance of each unit at each frame time, flat inside the unit (moved `lead` s early)."""
    d = [table.get(u.viseme, default) for u in us]
    alpha, before, after = (np.array([getattr(x, k) for x in d])[:, None] for k in ("alpha", "before", "after"))
    start = np.array([u.start for u in us])[:, None] - lead
    end = np.array([u.end for u in us])[:, None] - lead
    gap_before = np.clip(start - t[None], 0, None) / before
    gap_after = np.clip(t[None] - end, 0, None) / after
    return alpha * np.exp(-(gap_before ** 2) - gap_after ** 2) + 1e-9


_ROUND_MASK = arkit_vector(dict.fromkeys(ROUNDING, 1.0)) > 0
_OPENING_MASK = arkit_vector(dict.fromkeys(OPENING, 1.0)) > 0


@dataclasses.dataclass
class MouthTrack:
    weights: np.ndarray      # (T, 52) mouth and jaw channels
    closure: np.ndarray      # (T,) share of the bilabial closures in the dominance, 0..1


def mouth_track(phones: list[Phone], num_frames: int, fps: float, gain: float | np.ndarray = 1.0,
                lead: float = LEAD_S) -> MouthTrack:
    """Mouth/jaw weights for the phones. `gain` (scalar or (T,)) scales the opening channels:
    person articulation x delivery x loudness; `lead`: how early the mouth moves (s). Layers
    added later are sealed with `seal_lips`."""
    us = units(phones)
    t = np.arange(num_frames) / fps
    if not us:
        return MouthTrack(np.zeros((num_frames, NUM_BLENDSHAPES), np.float32), np.zeros(num_frames, np.float32))
    targets = np.stack([arkit_vector(TARGETS[u.viseme]) for u in us])   # (U, 52)
    d_main = _dominance(_MAIN, _MAIN_DEFAULT, us, t, lead)               # (U, T)
    d_round = _dominance(_ROUND, _ROUND_DEFAULT, us, t, lead)
    w = np.where(_ROUND_MASK[None], (d_round.T @ targets) / d_round.sum(0)[:, None],
                 (d_main.T @ targets) / d_main.sum(0)[:, None])
    gain = np.broadcast_to(np.asarray(gain, np.float32), (num_frames,))[:, None]
    w = np.where(_OPENING_MASK[None], w * gain, w)
    share = (d_main * np.array([u.viseme == "bilabial" for u in us])[:, None]).sum(0) / d_main.sum(0)
    closure = np.minimum(1.0, 1.5 * share)   # a lip seal is all or nothing once the closure leads
    closure = np.maximum(closure, bilabial_hold(us, num_frames, fps, lead))
    return MouthTrack(seal_lips(w, closure), closure.astype(np.float32))


def bilabial_hold(us: list[Unit], num_frames: int, fps: float, lead: float) -> np.ndarray:
    """(T,) 1 where the lips must be shut: from `lead` before a p/b/m until its end, and on the
    frames either side of its centre. The lips stay shut through the whole acoustic closure however
    fast the speech: at 1.5x a TTS p lasts ~25 ms, under one 40 ms frame, and a seal that only the
    dominance makes then falls between frames (measured: ground truth closed at 0.56 of p/b/m)."""
    hold = np.zeros(num_frames, np.float32)
    t = np.arange(num_frames) / fps
    for u in us:
        if u.viseme != "bilabial":
            continue
        hold[(t >= u.start - lead) & (t <= u.end)] = 1.0
        centre = (u.start + u.end) / 2 * fps
        hold[np.clip([int(np.floor(centre)), int(np.ceil(centre))], 0, num_frames - 1)] = 1.0
    return hold


def lip_gap(weights: np.ndarray) -> np.ndarray:
    """(T,) how open the lips are, in weight units: jaw not cancelled by mouthClose, plus lip pulls."""
    w = weights
    pull = (w[:, INDEX["mouthLowerDownLeft"]] + w[:, INDEX["mouthLowerDownRight"]]
            + w[:, INDEX["mouthUpperUpLeft"]] + w[:, INDEX["mouthUpperUpRight"]]) / 4
    return np.clip(w[:, INDEX["jawOpen"]] - w[:, INDEX["mouthClose"]], 0, None) + pull
