"""Kairo's memory store, vector half: offline embeddings and per-brand Chroma collections.

Nothing here imports Ray; the store is usable from actors, the API and plain scripts alike.
"""

from storage.memory.embeddings import (
    MINILM_DIM,
    MINILM_MODEL_NAME,
    Embedder,
    HashingEmbedder,
    KairoEmbeddingFunction,
    TextEmbedder,
)
from storage.memory.vectors import VectorIndex, collection_name

__all__ = [
    "MINILM_DIM",
    "MINILM_MODEL_NAME",
    "Embedder",
    "HashingEmbedder",
    "KairoEmbeddingFunction",
    "TextEmbedder",
    "VectorIndex",
    "collection_name",
]
