"""Audio encoders: shapes, rates, dtypes, chunked stitching, errors, and the feature cache."""
from __future__ import annotations

import numpy as np
import pytest

from real_speech import load_speech
from talkstyle.audio.cache import FeatureCache
from talkstyle.audio.features import (
    HFSpeechEncoder, MelEncoder, WhisperEncoder, _mel_filters, chunk_plan, get_audio_encoder, log_mel, num_frames_for,
)
from talkstyle.errors import TalkstyleError

SR = 16000


def cosine(x: np.ndarray, y: np.ndarray) -> float:
    return float(((x * y).sum(-1) / np.linalg.norm(x, axis=-1) / np.linalg.norm(y, axis=-1)).mean())


@pytest.fixture(scope="module")
def whisper() -> WhisperEncoder:
    return get_audio_encoder("whisper")


@pytest.fixture(scope="module")
def tiny_hubert(tmp_path_factory) -> str:
    import torch
    from transformers import HubertConfig, HubertModel

    torch.manual_seed(0)
    cfg = HubertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                       conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)
    folder = tmp_path_factory.mktemp("tiny_hubert")
    HubertModel(cfg).save_pretrained(folder)
    return str(folder)


def test_num_frames_is_rounded_duration():
    assert num_frames_for(SR) == 25
    assert num_frames_for(SR + 319) == 25 and num_frames_for(SR + 321) == 26
    assert num_frames_for(10) == 1


def test_chunk_plan_covers_every_frame_once():
    plan = chunk_plan(1750, 750, 250)
    assert [s for s, _, _ in plan] == [0, 500, 1000]
    owned = np.concatenate([np.arange(a, b) for _, a, b in plan])
    assert np.array_equal(owned, np.arange(1750))
    for start, a, b in plan:           # every owned frame lies inside its chunk
        assert start <= a and b <= start + 750


def test_mel_filters_are_librosas():
    import librosa

    expected = librosa.filters.mel(sr=SR, n_fft=400, n_mels=80)
    assert np.abs(_mel_filters() - expected).max() < 1e-7
    assert (_mel_filters().max(1) > 0).all()


@pytest.mark.parametrize("seconds", [0.004, 0.0625, 1.0, 30.0])
def test_log_mel_is_whispers_through_librosa(seconds):
    """The numpy STFT equals librosa.stft (periodic Hann, centred, reflect-padded) on real speech,
    whatever the length: shorter than a window, frames that do or do not fill the last hop, 30 s."""
    import librosa

    from talkstyle import assets
    from talkstyle.audio.io import load_audio

    audio = np.resize(load_audio(assets.path("demo_speech.wav")), int(seconds * SR))
    padded = np.pad(audio, (0, max(0, 400 - len(audio))))
    power = np.abs(librosa.stft(padded, n_fft=400, hop_length=160, window="hann", center=True,
                                pad_mode="reflect")[:, :-1]) ** 2
    logm = np.log10(np.maximum(librosa.filters.mel(sr=SR, n_fft=400, n_mels=80) @ power, 1e-10))
    expected = (np.maximum(logm, logm.max() - 8.0) + 4.0) / 4.0
    ours = log_mel(audio)
    assert ours.shape == expected.shape and ours.dtype == np.float32
    assert np.abs(ours - expected).max() < 1e-5
    assert ours.std() > 0.1


def test_mel_encoder_shapes_and_rate():
    enc = MelEncoder()
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(int(2.52 * SR))).astype(np.float32)
    feats = enc.encode(audio)
    assert feats.shape == (63, enc.dim) and enc.dim == 160 and feats.dtype == np.float32
    assert enc.encode(audio, num_frames=70).shape == (70, 160)
    assert np.isfinite(enc.encode(np.zeros(SR, np.float32))).all()   # silence
    # A tone switched on at 1 s shows up in frame 25, not before: the features are time-aligned.
    tone = np.zeros(2 * SR, np.float32)
    tone[SR:] = 0.5 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)
    energy = enc.encode(tone).mean(1)
    assert energy[20:24].max() < energy[26:].min()


def test_whisper_encoder_on_real_speech(whisper):
    audio = load_speech("beckett")
    feats = whisper.encode(audio)
    assert feats.shape == (num_frames_for(len(audio)), 384) and feats.dtype == np.float32
    assert whisper.encode(audio[:SR], num_frames=30).shape == (30, 384)
    # Speech and the silence after it give different features.
    silence = whisper.encode(np.zeros(2 * SR, np.float32))
    assert cosine(feats[10:40], np.repeat(silence[:1], 30, 0)) < 0.9


@pytest.mark.slow   # 5.5 s: Whisper on 70 s of audio (--durations)
def test_whisper_chunked_70s(whisper):
    speech = load_speech("beckett")
    audio = np.tile(speech, 8)[:70 * SR]
    feats = whisper.encode(audio)
    assert feats.shape == (1750, 384)
    # Stitching: the middle stretch comes from the chunk that owns it (20-50 s), encoded on its own.
    start, a, b = chunk_plan(1750, 750, 250)[1]
    alone = whisper.encode(audio[start * 640:(start + 750) * 640])
    np.testing.assert_allclose(feats[a:b], alone[a - start:b - start], atol=1e-4)
    # Stitching is sound because the features are local: the same audio at the same window
    # position with different audio after it gives near-equal features.
    short = whisper.encode(audio[start * 640:(start + 250) * 640])
    assert cosine(short[25:225], alone[25:225]) > 0.95


def test_hf_encoder_tiny_hubert(tiny_hubert):
    enc = get_audio_encoder("hubert", tiny_hubert)
    assert isinstance(enc, HFSpeechEncoder) and enc.dim == 32
    rng = np.random.default_rng(1)
    audio = (0.1 * rng.standard_normal(3 * SR)).astype(np.float32)
    feats = enc.encode(audio)
    assert feats.shape == (75, 32) and feats.dtype == np.float32 and np.isfinite(feats).all()
    assert enc.encode(audio[:200]).shape == (1, 32)
    assert enc.cache_id.startswith("hubert-") and enc.cache_id == get_audio_encoder("wav2vec2", tiny_hubert).cache_id
    # Long audio runs in chunks and has the full length.
    enc.chunk_seconds, enc.overlap_seconds = 1.0, 0.4
    assert enc.encode(audio).shape == (75, 32)


def test_hf_encoder_tiny_wav2vec2_and_wrong_model(tmp_path):
    import torch
    from transformers import BertConfig, BertModel, Wav2Vec2Config, Wav2Vec2Model

    torch.manual_seed(0)
    Wav2Vec2Model(Wav2Vec2Config(hidden_size=24, num_hidden_layers=1, num_attention_heads=2, intermediate_size=48,
                                 conv_dim=(8,) * 7, num_conv_pos_embeddings=16,
                                 num_conv_pos_embedding_groups=2)).save_pretrained(tmp_path / "w2v")
    enc = get_audio_encoder("wav2vec2", tmp_path / "w2v")
    assert enc.encode(np.zeros(SR, np.float32) + 0.01, num_frames=26).shape == (26, 24)
    BertModel(BertConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32)).save_pretrained(tmp_path / "bert")
    with pytest.raises(TalkstyleError, match="not HuBERT / wav2vec2"):
        get_audio_encoder("hubert", tmp_path / "bert")


def test_encoder_errors(tmp_path):
    with pytest.raises(TalkstyleError, match="unknown audio encoder"):
        get_audio_encoder("nope")
    with pytest.raises(TalkstyleError, match="local model folder"):
        get_audio_encoder("hubert")
    with pytest.raises(TalkstyleError, match="no config.json"):
        get_audio_encoder("hubert", tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "hubert"}')
    with pytest.raises(TalkstyleError, match="cannot load"):
        get_audio_encoder("hubert", tmp_path)
    enc = MelEncoder()
    for bad in (np.zeros(0, np.float32), np.zeros((2, 100), np.float32), np.full(100, np.nan, np.float32)):
        with pytest.raises(TalkstyleError):
            enc.encode(bad)


def test_feature_cache(tmp_path):
    enc = MelEncoder()
    cache = FeatureCache(tmp_path / "cache")
    rng = np.random.default_rng(2)
    audio = (0.1 * rng.standard_normal(SR)).astype(np.float32)
    first = cache.encode(enc, audio)
    files = list((tmp_path / "cache" / "mel").glob("*.npy"))
    assert len(files) == 1 and not list((tmp_path / "cache" / "mel").glob(".*"))   # no temp files left
    np.testing.assert_array_equal(np.load(files[0]), first)
    # A hit reads the file (prove it by changing the stored array), other audio is a miss.
    np.save(files[0], first + 1)
    np.testing.assert_array_equal(cache.encode(enc, audio), first + 1)
    cache.encode(enc, audio * 0.5)
    assert len(list((tmp_path / "cache" / "mel").glob("*.npy"))) == 2
    assert cache.encode(enc, audio, num_frames=30).shape == (30, 160)
    # A corrupt entry is recomputed, not an error.
    files[0].write_bytes(b"garbage")
    np.testing.assert_array_equal(cache.encode(enc, audio), first)
