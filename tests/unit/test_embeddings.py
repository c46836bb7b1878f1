"""Unit tests of the embedders and the Chroma adapter: no model is loaded here."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from chromadb.utils.embedding_functions import (
    config_to_embedding_function,
    known_embedding_functions,
)

from storage.memory import embeddings as emb
from storage.memory import (
    MINILM_DIM,
    MINILM_MODEL_NAME,
    Embedder,
    HashingEmbedder,
    KairoEmbeddingFunction,
    TextEmbedder,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything tries to load MiniLM."""

    def refuse() -> None:
        raise AssertionError("the MiniLM model must not be loaded here")

    monkeypatch.setattr(emb, "_load_model", refuse)


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


# -- HashingEmbedder ------------------------------------------------------------------------------


def test_hashing_is_deterministic_across_instances() -> None:
    texts = ["Spring menu: oat-milk latte", "Hiking boots sale", ""]
    assert HashingEmbedder().embed(texts) == HashingEmbedder().embed(texts)


def test_hashing_vectors_are_unit_length_and_sized() -> None:
    for dim in (8, 64, MINILM_DIM):
        for vec in HashingEmbedder(dim).embed(["a b c", "x", "", "!!!", "Ünïcode wörds ok"]):
            assert len(vec) == dim
            assert math.isclose(math.sqrt(sum(x * x for x in vec)), 1.0, rel_tol=1e-9)


def test_hashing_is_case_insensitive_and_tokenised() -> None:
    h = HashingEmbedder()
    assert h.embed(["Coffee, BEANS!"]) == h.embed(["coffee beans"])


def test_hashing_shared_words_are_closer() -> None:
    q, near, far = HashingEmbedder().embed(
        ["fresh coffee beans roasted", "coffee beans roasted daily", "quarterly tax filing"]
    )
    assert _cos(q, near) > _cos(q, far)


async def test_hashing_aembed_matches_embed() -> None:
    h = HashingEmbedder(32)
    assert await h.aembed(["one", "two"]) == h.embed(["one", "two"])


def test_hashing_interface() -> None:
    h = HashingEmbedder(16)
    assert isinstance(h, TextEmbedder)
    assert h.dim == 16 and h.model_name == "hashing-16"
    assert h.embed([]) == []
    with pytest.raises(ValueError):
        HashingEmbedder(1)


# -- Embedder (without loading) -----------------------------------------------------------------


def test_embedder_is_lazy_and_describes_itself(no_model_load: None) -> None:
    e = Embedder()
    assert isinstance(e, TextEmbedder)
    assert e.model_name == MINILM_MODEL_NAME == "all-MiniLM-L6-v2"
    assert e.dim == MINILM_DIM == 384
    assert e.num_threads == 1
    assert e.embed([]) == []  # nothing to embed: no model needed


def test_embedder_rejects_bad_thread_count() -> None:
    with pytest.raises(ValueError):
        Embedder(num_threads=0)


def test_importing_forces_hugging_face_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    emb.force_offline()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert hf_constants.HF_HUB_OFFLINE is True  # read at import time, so patched directly


# -- KairoEmbeddingFunction ---------------------------------------------------------------------


def test_function_is_registered_with_chroma() -> None:
    assert KairoEmbeddingFunction.name() == "kairo"
    assert known_embedding_functions["kairo"] is KairoEmbeddingFunction


def test_config_round_trip_hashing() -> None:
    ef = KairoEmbeddingFunction(HashingEmbedder(48))
    config = ef.get_config()
    assert config == {"model_name": "hashing-48", "dim": 48}
    rebuilt = KairoEmbeddingFunction.build_from_config(config)
    assert isinstance(rebuilt.embedder, HashingEmbedder)
    assert rebuilt.get_config() == config
    np.testing.assert_allclose(np.stack(rebuilt(["same text"])), np.stack(ef(["same text"])))


def test_config_round_trip_minilm_without_loading(no_model_load: None) -> None:
    ef = KairoEmbeddingFunction(Embedder(num_threads=2))
    config = ef.get_config()
    assert config == {"model_name": "all-MiniLM-L6-v2", "dim": 384}
    rebuilt = KairoEmbeddingFunction.build_from_config(config)
    assert isinstance(rebuilt.embedder, Embedder)
    assert rebuilt.get_config() == config
    # Chroma rebuilds functions from stored config on every collection get: it must stay cheap.
    via_chroma = config_to_embedding_function({"name": "kairo", "config": config})
    assert isinstance(via_chroma, KairoEmbeddingFunction)
    assert via_chroma.get_config() == config


def test_not_legacy_and_cosine(no_model_load: None) -> None:
    ef = KairoEmbeddingFunction(Embedder())
    assert ef.is_legacy() is False  # legacy functions make Chroma fall back to its defaults
    assert ef.default_space() == "cosine"


def test_call_returns_chroma_embeddings() -> None:
    out = KairoEmbeddingFunction(HashingEmbedder(12))(["a", "b c"])
    assert len(out) == 2
    assert all(isinstance(v, np.ndarray) and v.shape == (12,) for v in out)


def test_unknown_or_changed_model_is_refused() -> None:
    with pytest.raises(ValueError):
        KairoEmbeddingFunction.build_from_config({"model_name": "text-embedding-3", "dim": 3})
    ef = KairoEmbeddingFunction(HashingEmbedder())
    with pytest.raises(ValueError):
        ef.validate_config_update(
            {"model_name": "hashing-384", "dim": 384},
            {"model_name": "all-MiniLM-L6-v2", "dim": 384},
        )


# -- the query-vector cache ---------------------------------------------------------------------


def test_query_cache_is_least_recently_used() -> None:
    import numpy as np

    from storage.memory.query_cache import QueryVectorCache

    cache = QueryVectorCache(max_entries=2)
    a, b, c = (np.full(3, x, dtype=np.float32) for x in (1.0, 2.0, 3.0))
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is not None  # "a" is now the most recent
    cache.put("c", c)
    assert cache.get("b") is None and len(cache) == 2
    assert cache.get("a").tolist() == a.tolist() and cache.get("c").tolist() == c.tolist()
    assert (cache.hits, cache.misses) == (3, 1)


def test_query_cache_vectors_cannot_be_changed_by_a_caller() -> None:
    import numpy as np

    from storage.memory.query_cache import QueryVectorCache

    cache = QueryVectorCache()
    original = np.ones(4, dtype=np.float32)
    cache.put("q", original)
    original[0] = 5.0  # the caller's array is copied, not kept
    stored = cache.get("q")
    assert stored.tolist() == [1.0] * 4
    with pytest.raises(ValueError):
        stored[0] = 9.0


def test_query_cache_of_size_zero_keeps_nothing() -> None:
    import numpy as np

    from storage.memory.query_cache import QueryVectorCache

    cache = QueryVectorCache(max_entries=0)
    cache.put("q", np.ones(2, dtype=np.float32))
    assert cache.get("q") is None and len(cache) == 0
    with pytest.raises(ValueError):
        QueryVectorCache(max_entries=-1)


def test_hashing_embed_array_matches_embed() -> None:
    e = HashingEmbedder(dim=16)
    matrix = e.embed_array(["a b", "c"])
    assert matrix.shape == (2, 16) and str(matrix.dtype) == "float32"
    assert [[round(x, 6) for x in row] for row in matrix.tolist()] == [
        [round(x, 6) for x in row] for row in e.embed(["a b", "c"])
    ]
