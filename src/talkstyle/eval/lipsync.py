"""Lip sync on real speech, with no ground-truth motion.

1. A transcript: given, or from Whisper tiny.en (the CTranslate2 model the audio encoder uses),
   audio over 25 s cut into pieces at pauses.
2. Phone timings: pocketsphinx forced alignment of the transcript (ARPAbet phones, 10 ms frames).
3. Scores of a FaceMotion against them, on the FaceRig's inner-lip gap (mm):
   - bilabials (P B M): the mouth should be closed at the phone's centre;
   - open vowels (AA AE AH AO AW AY): it should be open, wider than its median over the speech;
   - the lag at which the mouth opening best correlates with the speech envelope
     (positive: the mouth moves after the sound);
   - viseme AUC: how well the gap alone tells bilabial time from open-vowel time (10 ms grid);
   - the mean gap at open vowels in mm (mouth amplitude).
`phone_gaps` keeps the raw per-phone values, so that `pooled` can score many recordings over all
their phones together (not as a mean of per-recording means).
"""
from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np

from ..audio.features import SAMPLES_PER_FRAME, WHISPER_SECONDS, load_whisper, log_mel, whisper_model_dir
from ..audio.io import SAMPLE_RATE
from ..vocab.attributes import Phone
from ..errors import TalkstyleError
from ..face.motion import FaceMotion

BILABIALS = frozenset({"P", "B", "M"})
OPEN_VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY"})
CLOSED_MM = 1.5            # inner-lip gap below this counts as closed (jawOpen 0.1 alone gives ~2.8 mm)
MAX_LAG_S = 0.3            # lags searched: +-300 ms, in 10 ms steps
ENVELOPE_HZ = 100


@dataclasses.dataclass
class LipSyncScores:
    transcript: str
    num_bilabials: int
    bilabial_closed_fraction: float    # share of bilabial centres with the lips closed (higher is better)
    bilabial_opening_ratio: float      # mean gap at bilabial centres / median gap in speech (lower is better)
    num_open_vowels: int
    vowel_open_fraction: float         # share of open-vowel centres wider than the speech median (higher)
    vowel_opening_ratio: float         # mean gap at open-vowel centres / median gap in speech (higher)
    lag_ms: float                      # best lag of mouth opening behind the speech envelope (near 0)
    lag_correlation: float             # the correlation at that lag (higher)
    median_opening_mm: float           # median inner-lip gap over the aligned speech
    viseme_auc: float = float("nan")   # P(gap in a bilabial < gap in an open vowel), 10 ms grid (higher)
    open_vowel_gap_mm: float = float("nan")   # mean gap at open-vowel centres (mouth amplitude)


# ---------------------------------------------------------------------- transcript
@functools.cache
def _whisper_tokenizer():
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(whisper_model_dir() / "tokenizer.json"))


def transcribe(audio: np.ndarray) -> str:
    """English transcript of at most 30 s of audio by Whisper tiny.en (greedy)."""
    import ctranslate2

    if len(audio) > WHISPER_SECONDS * SAMPLE_RATE:
        raise TalkstyleError("transcribe() takes at most 30 s: split longer audio with pause_segments()")
    padded = np.zeros(WHISPER_SECONDS * SAMPLE_RATE, np.float32)
    padded[:len(audio)] = audio
    mel = ctranslate2.StorageView.from_array(log_mel(padded)[None])
    result = load_whisper().generate(mel, [["<|startoftranscript|>", "<|notimestamps|>"]], beam_size=1,
                                     max_length=224, suppress_blank=True)
    return _whisper_tokenizer().decode(result[0].sequences_ids[0]).strip()


def pause_segments(audio: np.ndarray, max_seconds: float = 25.0, min_seconds: float = 10.0) -> list[tuple[int, int]]:
    """Cut audio into pieces of at most `max_seconds` at its quietest moments, as (start, stop) samples.

    Whisper cut mid-word repeats or invents words, and a forced alignment fails on any word
    that is not there: cutting in pauses keeps both sound.
    """
    env = speech_envelope(audio)
    hop = SAMPLE_RATE // ENVELOPE_HZ
    bounds, start = [], 0
    while len(audio) - start > max_seconds * SAMPLE_RATE:
        lo, hi = ((start + int(x * SAMPLE_RATE)) // hop for x in (min_seconds, max_seconds))
        cut = (lo + int(np.argmin(env[lo:hi]))) * hop
        bounds.append((start, cut))
        start = cut
    return bounds + [(start, len(audio))]


# ---------------------------------------------------------------------- alignment
@functools.cache
def _decoder():
    from pocketsphinx import Decoder

    return Decoder(bestpath=False, loglevel="FATAL")


def _words(text: str) -> list[str]:
    """Lower-case words the pocketsphinx dictionary knows (others, digits included, are dropped)."""
    decoder = _decoder()
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())
    return [w for w in words if decoder.lookup_word(w) is not None]


def align_phones(audio: np.ndarray, transcript: str) -> list[Phone]:
    """ARPAbet phones of `transcript` force-aligned to 16 kHz audio (silences left out)."""
    words = _words(transcript)
    if not words:
        raise TalkstyleError("no English words to align in the transcript")
    # Digital silence (TTS, padding) leaves pocketsphinx with no path at all: dither at -60 dBFS.
    dither = 1e-3 * np.random.default_rng(0).standard_normal(len(audio))
    pcm = (np.clip(audio + dither, -1, 1) * 32767).astype(np.int16).tobytes()
    decoder = _decoder()
    frame = 1.0 / decoder.config["frate"]
    try:
        decoder.set_align_text(" ".join(words))
        _decode(decoder, pcm)                    # word-level pass
        decoder.set_alignment()
        _decode(decoder, pcm)                    # phone-level pass over the word alignment
        alignment = decoder.get_alignment()
    except (RuntimeError, ValueError) as e:
        raise TalkstyleError(f"forced alignment failed: {e}") from None
    if alignment is None:
        raise TalkstyleError("forced alignment found no path: does the transcript match the audio?")
    return [Phone(ph.name, ph.start * frame, (ph.start + ph.duration) * frame)
            for word in alignment for ph in word if ph.name != "SIL"]


def _decode(decoder, pcm: bytes) -> None:
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


# ---------------------------------------------------------------------- scoring
def speech_envelope(audio: np.ndarray, rate: int = ENVELOPE_HZ) -> np.ndarray:
    """RMS amplitude in 1 / rate s frames, smoothed over ~50 ms (the syllable scale, not pitch)."""
    from scipy.ndimage import uniform_filter1d

    hop = SAMPLE_RATE // rate
    n = len(audio) // hop
    frames = audio[:n * hop].reshape(n, hop).astype(np.float64)
    return uniform_filter1d(np.sqrt((frames ** 2).mean(1)), size=5, mode="nearest")


def best_lag(opening: np.ndarray, fps: float, envelope: np.ndarray, rate: int = ENVELOPE_HZ,
             max_lag: float = MAX_LAG_S) -> tuple[float, float]:
    """(lag in s, correlation): the shift of the mouth opening that best matches the envelope."""
    t = np.arange(len(envelope)) / rate
    mouth = np.interp(t, np.arange(len(opening)) / fps, opening)
    best = (0.0, -np.inf)
    for k in range(-int(max_lag * rate), int(max_lag * rate) + 1):
        # Lag k: mouth[t + k] against envelope[t].
        m = mouth[max(k, 0):len(mouth) + min(k, 0)]
        e = envelope[max(-k, 0):len(envelope) - max(k, 0)]
        if len(m) < 2 or m.std() == 0 or e.std() == 0:
            continue
        r = float(np.corrcoef(m, e)[0, 1])
        if r > best[1]:
            best = (k / rate, r)
    return best if np.isfinite(best[1]) else (0.0, 0.0)


@dataclasses.dataclass
class PhoneGaps:
    """The inner-lip gap (mm) where the aligned phones say the lips should be shut or open, kept raw
    so that recordings pool over phones. Frames: a 10 ms grid (the aligner's) over each phone."""
    bilabial: np.ndarray          # gap at each bilabial centre
    vowel: np.ndarray             # gap at each open-vowel centre
    vowel_open: np.ndarray        # (bool) that vowel is wider than the recording's speech median
    bilabial_frames: np.ndarray   # gaps on the 10 ms grid inside bilabials
    vowel_frames: np.ndarray      # ... inside open vowels
    median_mm: float              # median gap over the aligned speech
    lag_s: float                  # best lag of the gap behind the speech envelope
    correlation: float            # correlation at that lag
    duration: float               # s of audio


def phone_gaps(opening: np.ndarray, fps: float, phones: list[Phone], audio: np.ndarray) -> PhoneGaps:
    """Raw scores of an inner-lip gap track (mm, frame i at i / fps) against aligned phones and the
    envelope of `audio` (16 kHz)."""
    opening = np.asarray(opening, np.float64)
    frames = np.arange(len(opening))
    # The median over speech (frames inside aligned phones): long pauses would drag it to "closed".
    frame_t = frames / fps
    speaking = np.zeros(len(opening), bool)
    for p in phones:
        speaking |= (frame_t >= p.start) & (frame_t < p.end)
    median = float(np.median(opening[speaking] if speaking.any() else opening))

    def at_centres(symbols: frozenset[str]) -> np.ndarray:
        centres = np.array([(p.start + p.end) / 2 for p in phones if p.symbol in symbols])
        return np.interp(centres * fps, frames, opening) if len(centres) else np.zeros(0)

    def on_grid(symbols: frozenset[str]) -> np.ndarray:
        # Every 10 ms step inside the phones (at least its centre), interpolated between frames.
        t = [np.arange(p.start + 0.005, p.end, 0.01) if p.end - p.start >= 0.01 else np.array([(p.start + p.end) / 2])
             for p in phones if p.symbol in symbols]
        return np.interp(np.concatenate(t) * fps, frames, opening) if t else np.zeros(0)

    vowel = at_centres(OPEN_VOWELS)
    lag, corr = best_lag(opening, fps, speech_envelope(audio))
    return PhoneGaps(at_centres(BILABIALS), vowel, vowel > median, on_grid(BILABIALS), on_grid(OPEN_VOWELS),
                     median, lag, corr, len(audio) / SAMPLE_RATE)


def viseme_auc(closed: np.ndarray, open_: np.ndarray) -> float:
    """ROC AUC of "smaller gap means closed": the chance that a random `closed` sample has a smaller
    gap than a random `open_` one (ties count half); NaN when either is empty."""
    closed, open_ = np.asarray(closed, np.float64), np.asarray(open_, np.float64)
    if not len(closed) or not len(open_):
        return float("nan")
    # Mann-Whitney U from midranks: exact, with ties, in O(n log n).
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([closed, open_]))
    u_open = ranks[len(closed):].sum() - len(open_) * (len(open_) + 1) / 2
    return float(u_open / (len(closed) * len(open_)))


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if len(x) else float("nan")


def pooled(gaps: list[PhoneGaps]) -> dict[str, float]:
    """Scores over all the phones of several recordings together; lag and correlation are
    duration-weighted means over the recordings."""
    cat = {k: np.concatenate([getattr(g, k) for g in gaps]) if gaps else np.zeros(0)
           for k in ("bilabial", "vowel", "vowel_open", "bilabial_frames", "vowel_frames")}
    w = np.array([g.duration for g in gaps])
    weighted = (lambda k: float(np.average([getattr(g, k) for g in gaps], weights=w))) if len(gaps) else (
        lambda k: float("nan"))
    return {"num_bilabials": len(cat["bilabial"]), "num_open_vowels": len(cat["vowel"]),
            "bilabial_closed_fraction": _mean(cat["bilabial"] < CLOSED_MM),
            "vowel_open_fraction": _mean(cat["vowel_open"]),
            "viseme_auc": viseme_auc(cat["bilabial_frames"], cat["vowel_frames"]),
            "open_vowel_gap_mm": _mean(cat["vowel"]),
            "lag_ms": 1000 * weighted("lag_s"), "lag_correlation": weighted("correlation")}


def score(motion: FaceMotion, audio: np.ndarray, phones: list[Phone], transcript: str = "") -> LipSyncScores:
    """Scores of `motion` (frame i at time i / fps) against aligned `phones` and the audio envelope."""
    from ..face.rig import FaceRig

    g = phone_gaps(FaceRig.default().mouth_opening(motion), motion.fps, phones, audio)
    ref = max(g.median_mm, 1e-3)                 # a mouth that never opens has ratios, not NaN
    return LipSyncScores(
        transcript=transcript,
        num_bilabials=len(g.bilabial), bilabial_closed_fraction=_mean(g.bilabial < CLOSED_MM),
        bilabial_opening_ratio=_mean(g.bilabial) / ref,
        num_open_vowels=len(g.vowel), vowel_open_fraction=_mean(g.vowel_open),
        vowel_opening_ratio=_mean(g.vowel) / ref,
        lag_ms=1000 * g.lag_s, lag_correlation=g.correlation, median_opening_mm=g.median_mm,
        viseme_auc=viseme_auc(g.bilabial_frames, g.vowel_frames), open_vowel_gap_mm=_mean(g.vowel))


def lipsync_report(motion: FaceMotion, audio: np.ndarray | None = None, transcript: str | None = None,
                   sample_rate: int = SAMPLE_RATE) -> LipSyncScores:
    """Transcribe (unless given), align, and score `motion` against `audio` (default: the motion's own)."""
    if audio is None:
        audio, sample_rate = motion.audio, motion.sample_rate or SAMPLE_RATE
    if audio is None:
        raise TalkstyleError("lip sync needs the speech audio: pass it or attach it to the motion")
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 1 or len(audio) < SAMPLES_PER_FRAME:
        raise TalkstyleError("lip sync needs mono audio of at least 40 ms")
    if sample_rate != SAMPLE_RATE:
        import librosa

        audio = librosa.resample(audio, orig_sr=sample_rate, target_sr=SAMPLE_RATE)
    if abs(len(audio) / SAMPLE_RATE - motion.duration) > 0.5:
        raise TalkstyleError(f"motion ({motion.duration:.1f} s) and audio ({len(audio) / SAMPLE_RATE:.1f} s) "
                             "differ in length")
    if transcript is not None:
        return score(motion, audio, align_phones(audio, transcript), transcript)
    # No transcript: transcribe and align piece by piece, cut in pauses.
    texts, phones = [], []
    for a, b in pause_segments(audio):
        text = transcribe(audio[a:b])
        if _words(text):
            texts.append(text)
            offset = a / SAMPLE_RATE
            phones += [Phone(p.symbol, p.start + offset, p.end + offset) for p in align_phones(audio[a:b], text)]
    if not phones:
        raise TalkstyleError("no speech recognised in the audio: pass a transcript")
    return score(motion, audio, phones, " ".join(texts))
