"""Recording-condition degradations: a far-field, noisy, band-limited, lossy copy of clean speech.

Like `augment`, every transform takes 16 kHz mono float32 audio and returns audio of the same
length, and none of them moves the speech in time: the room's impulse response starts at its direct
path, filters run forwards and backwards (zero phase), and a codec's delay is measured and removed.
So the phone times of the clean recording hold for the degraded one, which the real-speech
benchmark relies on (it aligns the clean audio once and scores both copies against it), and
training can later pair a degraded input with the motion of the clean one.

`far_field()` draws one whole chain (room, babble, street noise, distant microphone, codec) from a
seed. pyroomacoustics (the optional extra `bench`) simulates the rooms.
"""
from __future__ import annotations

import dataclasses
import io

import numpy as np

from ..errors import TalkstyleError
from .io import SAMPLE_RATE

SPEED_OF_SOUND = 343.0
MAX_ISM_ORDER = 40        # image-source order cap: RT60 0.8 s needs ~90, but 40 keeps a room at ~30 ms
MAX_CODEC_DELAY_S = 0.1   # codec delays searched (mp3 ~ 25-70 ms at 16 kHz, opus ~ 6.5 ms)


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)) + 1e-20))


def _fit(audio: np.ndarray, n: int) -> np.ndarray:
    """Trim or zero-pad to n samples."""
    out = np.zeros(n, np.float32)
    out[:min(n, len(audio))] = audio[:n]
    return out


def _check(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise TalkstyleError("degradations take non-empty mono 16 kHz audio")
    return audio


# ---------------------------------------------------------------------- room
def room_impulse_response(rng: np.random.Generator, rt60: float, distance: float) -> np.ndarray:
    """Impulse response of a random shoebox room (pyroomacoustics image sources), cut so that
    sample 0 is the direct path (no delay) and scaled so the direct path is 1."""
    try:
        import pyroomacoustics as pra
    except ImportError:
        raise TalkstyleError("simulated rooms need pyroomacoustics: pip install 'talkstyle[bench]'") from None
    dims = np.array([rng.uniform(4.0, 9.0), rng.uniform(3.5, 7.0), rng.uniform(2.5, 3.5)])
    # Source at mouth height, the microphone `distance` away in a random horizontal direction
    # (distance shrunk until both fit 0.5 m inside the walls).
    src = np.array([rng.uniform(0.5, dims[0] - 0.5), rng.uniform(0.5, dims[1] - 0.5), 1.6])
    angle = rng.uniform(0, 2 * np.pi)
    d = distance
    while True:
        mic = src + np.array([d * np.cos(angle), d * np.sin(angle), rng.uniform(-0.5, 0.0)])
        if np.all(mic[:2] > 0.5) and np.all(mic[:2] < dims[:2] - 0.5) or d < 0.3:
            break
        d *= 0.9
    absorption, order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(dims, fs=SAMPLE_RATE, materials=pra.Material(absorption),
                       max_order=int(min(order, MAX_ISM_ORDER)))
    room.add_source(src)
    room.add_microphone(mic)
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], np.float64)
    # pyroomacoustics puts the direct path at distance / c plus half its fractional-delay filter.
    direct = int(round(np.linalg.norm(mic - src) / SPEED_OF_SOUND * SAMPLE_RATE
                       + pra.constants.get("frac_delay_length") // 2))
    peak = direct - 3 + int(np.argmax(np.abs(rir[max(direct - 3, 0):direct + 4])))
    rir = rir[peak:]
    return (rir / rir[0]).astype(np.float32)


def apply_room(audio: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve with a direct-path-first impulse response, loudness kept (the distance's level
    drop is `distant_mic`'s job)."""
    from scipy.signal import fftconvolve

    audio = _check(audio)
    out = fftconvolve(audio, rir)[:len(audio)]
    return (out * _rms(audio) / _rms(out)).astype(np.float32)


# ---------------------------------------------------------------------- noise
def babble(others: list[np.ndarray], n: int, rng: np.random.Generator, voices: int = 4) -> np.ndarray:
    """Babble of n samples: `voices` of the `others` recordings (looped, random start), each at
    equal loudness, summed; RMS 1."""
    if not others:
        raise TalkstyleError("babble needs other recordings to mix")
    out = np.zeros(n, np.float64)
    for i in rng.choice(len(others), size=min(voices, len(others)), replace=False):
        voice = np.asarray(others[i], np.float64)
        if not len(voice):
            continue
        reps = int(np.ceil((n + len(voice)) / len(voice)))
        start = int(rng.integers(len(voice)))
        out += np.tile(voice, reps)[start:start + n] / _rms(voice)
    return (out / _rms(out)).astype(np.float32)


def street_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Street-like noise of n samples, RMS 1: brown-ish rumble whose level drifts slowly (traffic
    coming and going, 0.05-0.5 Hz) with a few louder passes."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spectrum *= 1 / np.maximum(f, 30.0) ** 0.8 * (f < 6000)      # 1/f^1.6 power from 30 Hz, no hiss above 6 kHz
    noise = np.fft.irfft(spectrum, n)
    t = np.arange(n) / SAMPLE_RATE
    level = np.zeros(n)
    for hz in rng.uniform(0.05, 0.5, size=3):
        level += np.sin(2 * np.pi * hz * t + rng.uniform(0, 2 * np.pi))
    for centre in rng.uniform(0, t[-1] + 1e-9, size=max(1, int(t[-1] / 8))):
        level += 2.0 * np.exp(-0.5 * ((t - centre) / rng.uniform(0.7, 2.0)) ** 2)   # a car passing
    noise *= 10 ** (6 * (level - level.mean()) / max(np.ptp(level), 1e-9) / 20)      # +-6 dB
    return (noise / _rms(noise)).astype(np.float32)


def mix_at_snr(audio: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """audio + noise scaled to `snr_db` below the audio's RMS."""
    audio = _check(audio)
    noise = _fit(np.asarray(noise, np.float32), len(audio))
    return (audio + noise * (_rms(audio) / _rms(noise) / 10 ** (snr_db / 20))).astype(np.float32)


# ---------------------------------------------------------------------- microphone and codec
def distant_mic(audio: np.ndarray, gain_db: float, low_hz: float, high_hz: float,
                rng: np.random.Generator, self_noise_db: float = -70.0) -> np.ndarray:
    """A cheap, far microphone: level `gain_db`, pass band low_hz..high_hz (4th-order Butterworth,
    zero phase), its own hiss at `self_noise_db` dBFS, then 16-bit-like clipping at full scale."""
    from scipy.signal import butter, sosfiltfilt

    audio = _check(audio)
    high_hz = min(high_hz, 0.45 * SAMPLE_RATE)
    sos = butter(4, [low_hz, high_hz], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    out = sosfiltfilt(sos, audio.astype(np.float64)) * 10 ** (gain_db / 20)
    out += 10 ** (self_noise_db / 20) * rng.standard_normal(len(out))
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def _codec_delay(reference: np.ndarray, decoded: np.ndarray) -> int:
    """Samples by which `decoded` lags `reference` (cross-correlation peak within MAX_CODEC_DELAY_S)."""
    from scipy.signal import correlate

    m = int(MAX_CODEC_DELAY_S * SAMPLE_RATE)
    n = min(len(reference), len(decoded))
    xc = correlate(decoded[:n].astype(np.float64), reference[:n].astype(np.float64), mode="full", method="fft")
    lags = np.arange(-n + 1, n)
    keep = np.abs(lags) <= m
    return int(lags[keep][np.argmax(xc[keep])])


def lossy_codec(audio: np.ndarray, codec: str = "mp3", bitrate: int = 32000) -> np.ndarray:
    """Encode and decode with PyAV: "mp3" (LAME, at 16 kHz) or "opus" (at 48 kHz); the codec's
    delay is removed, so the output lines up with the input sample for sample."""
    import av
    from scipy.signal import resample_poly

    audio = _check(audio)
    if codec == "mp3":
        name, fmt, rate = "libmp3lame", "mp3", SAMPLE_RATE
    elif codec == "opus":
        name, fmt, rate = "libopus", "ogg", 48000
    else:
        raise TalkstyleError(f"unknown codec '{codec}': use mp3 or opus")
    x = audio if rate == SAMPLE_RATE else resample_poly(audio, rate // SAMPLE_RATE, 1).astype(np.float32)
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(name, rate=rate, layout="mono")
        stream.bit_rate = bitrate
        frame = av.AudioFrame.from_ndarray(np.clip(x, -1, 1)[None], format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buf.seek(0)
    with av.open(buf) as inp:
        decoded = np.concatenate([f.to_ndarray().reshape(-1, f.samples)[0].astype(np.float32)
                                  for f in inp.decode(audio=0)])
    if rate != SAMPLE_RATE:
        decoded = resample_poly(decoded, 1, rate // SAMPLE_RATE).astype(np.float32)
    delay = _codec_delay(audio, decoded)
    decoded = decoded[delay:] if delay >= 0 else np.concatenate([np.zeros(-delay, np.float32), decoded])
    return _fit(decoded, len(audio))


# ---------------------------------------------------------------------- the whole chain
@dataclasses.dataclass(frozen=True)
class FarField:
    """One drawn degradation: every number that shapes it."""
    rt60: float           # s
    distance: float       # m, talker to microphone
    babble_snr: float     # dB
    street_snr: float     # dB
    gain_db: float        # level of the recording, dB relative to -20 dBFS RMS
    low_hz: float
    high_hz: float
    codec: str
    bitrate: int

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "FarField":
        """A distant phone or laptop in a lively room, people talking and traffic outside."""
        return cls(rt60=float(rng.uniform(0.3, 0.8)), distance=float(rng.uniform(1.5, 3.5)),
                   babble_snr=float(rng.uniform(8, 15)), street_snr=float(rng.uniform(10, 20)),
                   gain_db=float(rng.uniform(-22, -10)), low_hz=float(rng.uniform(150, 300)),
                   high_hz=float(rng.uniform(3400, 7000)), codec=str(rng.choice(["mp3", "opus"])),
                   bitrate=int(rng.choice([24000, 32000])))


def far_field(audio: np.ndarray, seed: int, others: list[np.ndarray] | None = None,
              params: FarField | None = None) -> tuple[np.ndarray, FarField]:
    """Degrade clean speech as a distant, noisy, compressed recording; deterministic for a seed.

    `others`: recordings of other voices for the babble (none: street noise only). Returns the
    audio (same length, same timing) and the parameters drawn.
    """
    audio = _check(audio)
    rng = np.random.default_rng(seed)
    p = params or FarField.draw(rng)
    out = apply_room(audio, room_impulse_response(rng, p.rt60, p.distance))
    # Noise levels are set against the dry speech: the room keeps its loudness anyway.
    noise = street_noise(len(out), rng) * (_rms(audio) / 10 ** (p.street_snr / 20))
    if others:
        noise += babble(others, len(out), rng) * (_rms(audio) / 10 ** (p.babble_snr / 20))
    out = distant_mic(out + noise, p.gain_db - 20 * np.log10(max(_rms(out + noise), 1e-9) / 0.1),
                      p.low_hz, p.high_hz, rng)
    return lossy_codec(out, p.codec, p.bitrate), p
