"""CO-07 memory: fragment rows in PostgreSQL, their vectors in the brand's Chroma collection.

A fragment exists only with both halves. ``add`` embeds first (no connection held during CPU
work), then, inside one database transaction, writes the vectors and the rows; if anything
fails before the commit, the vectors written so far are deleted again and the rows roll back.
Only a process dying between the vector write and the commit can leave an orphan vector:
searches never return one (every hit is read back from PostgreSQL, by brand), and
``reconcile`` removes orphans and re-embeds rows that lost their vector.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import numpy as np
import structlog
from pydantic import AwareDatetime, Field

from storage.errors import Conflict, Invalid
from storage.objects import BrandMemoryFragment, MemorySourceType
from storage.objects.base import KairoObject, Label, new_id, utcnow
from storage.objects.brain import MEMORY_TEXT_MAX
from storage.postgres import Database
from storage.postgres import repositories as repo

from .embeddings import TextEmbedder, embed_matrix
from .query_cache import QueryVectorCache
from .vectors import VectorIndex

log = structlog.get_logger(__name__)

SEARCH_K_MAX = 100
QUERY_CACHE_ENTRIES = 512


class MemoryDraft(KairoObject):
    """A fragment to remember, before it has an embedding."""

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    source_type: MemorySourceType
    raw_text: str = Field(min_length=1, max_length=MEMORY_TEXT_MAX)
    persona_id: UUID | None = None
    pillar_id: UUID | None = None
    pattern_template_id: UUID | None = None
    tags: list[Label] = []
    created_at: AwareDatetime = Field(default_factory=utcnow)


@dataclass(frozen=True)
class MemoryHit:
    fragment: BrandMemoryFragment
    distance: float

    @property
    def similarity(self) -> float:
        """Cosine similarity in [-1, 1] (1 = same direction)."""
        return 1.0 - self.distance


@dataclass(frozen=True)
class ReconcileReport:
    orphan_vectors_removed: int
    rows_reembedded: int


class MemoryStore:
    """The brand memory: ``add`` (any number of fragments, one embedding batch, one transaction),
    ``search``, ``list``, ``delete`` and ``reconcile``.

    Search texts are embedded once per process and text (``query_cache``), so the scout and the
    writer asking the same question again cost the index alone.
    """

    def __init__(
        self, db: Database, index: VectorIndex, embedder: TextEmbedder,
        query_cache: QueryVectorCache | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        self.index = index
        self.embedder = embedder
        self.query_cache = query_cache if query_cache is not None else QueryVectorCache(QUERY_CACHE_ENTRIES)

    def _fragment(self, draft: MemoryDraft) -> BrandMemoryFragment:
        return BrandMemoryFragment(
            **draft.model_dump(), embedding_model=self.embedder.model_name, embedding_dim=self.embedder.dim
        )

    async def add(self, drafts: Sequence[MemoryDraft]) -> list[BrandMemoryFragment]:
        """Remember fragments (any brands, one batch): rows and vectors together or not at all."""
        fragments = [self._fragment(d) for d in drafts]
        if not fragments:
            return []
        vectors = await embed_matrix(self.embedder, [f.raw_text for f in fragments])
        by_brand: dict[UUID, list[int]] = defaultdict(list)
        for i, fragment in enumerate(fragments):
            by_brand[fragment.brand_id].append(i)
        written: list[tuple[UUID, list[UUID]]] = []
        try:
            async with self.db.transaction() as conn:
                await self._refuse_known_ids(conn, fragments)
                for brand_id, positions in by_brand.items():
                    ids = [fragments[i].id for i in positions]
                    await self.index.add(
                        brand_id,
                        ids,
                        vectors[positions],
                        documents=[fragments[i].raw_text for i in positions],
                        metadatas=[{"source_type": str(fragments[i].source_type)} for i in positions],
                    )
                    written.append((brand_id, ids))
                await self._insert_rows(conn, fragments)
        except BaseException:
            await self._forget_vectors(written)
            raise
        log.info("memory.added", fragments=len(fragments), brands=len(by_brand))
        return fragments

    @staticmethod
    async def _refuse_known_ids(conn: Any, fragments: list[BrandMemoryFragment]) -> None:
        """A draft whose id is already remembered is a Conflict, found before any vector is
        written: the compensation of a failed add must only ever remove vectors it wrote."""
        known = await conn.fetch(
            "SELECT id FROM memory_fragments WHERE id = ANY($1::uuid[])", [f.id for f in fragments]
        )
        if known:
            ids = sorted(str(r["id"]) for r in known)
            raise Conflict(f"{len(ids)} fragment(s) already remembered", details={"field": "id", "ids": ids[:20]})

    async def _insert_rows(self, conn: Any, fragments: list[BrandMemoryFragment]) -> None:
        """The row half of :meth:`add`, inside its transaction (one statement for the batch)."""
        await repo.memory_fragments.insert_many(conn, fragments)

    def _embed_query(self, text: str) -> np.ndarray:
        """The search text's vector from the model, remembered in the cache (runs in the
        query's worker thread, see :meth:`VectorIndex.query_computed`)."""
        native = getattr(self.embedder, "embed_array", None)
        matrix = native([text]) if native is not None else np.asarray(self.embedder.embed([text]), dtype=np.float32)
        vector = matrix[0]
        self.query_cache.put(text, vector)
        return vector

    async def _forget_vectors(self, written: list[tuple[UUID, list[UUID]]]) -> None:
        for brand_id, ids in written:
            # Shielded: a cancelled add must still clean up what it wrote.
            with suppress(Exception):
                await asyncio.shield(self.index.delete(brand_id, ids))

    async def search(self, brand_id: UUID, text: str, k: int = 5) -> list[MemoryHit]:
        """The brand's ``k`` fragments nearest in meaning to ``text``, nearest first.

        Only the brand's own collection is queried, and every hit is read back from PostgreSQL
        filtered by the same brand: a fragment of another brand can never come back.
        """
        if not text.strip():
            raise Invalid("search text must not be blank", details={"field": "text"})
        if not 1 <= k <= SEARCH_K_MAX:
            raise Invalid(f"k must be between 1 and {SEARCH_K_MAX}", details={"field": "k"})
        cached = self.query_cache.get(text)
        if cached is not None:
            nearest = await self.index.query(brand_id, cached, k)
        else:
            nearest = await self.index.query_computed(brand_id, lambda: self._embed_query(text), k)
        if not nearest:
            return []
        async with self.db.connection() as conn:
            rows = await repo.memory_fragments.list(
                conn, "brand_id = $1 AND id = ANY($2::uuid[])", brand_id, [i for i, _ in nearest]
            )
        by_id = {f.id: f for f in rows}
        return [MemoryHit(by_id[i], distance) for i, distance in nearest if i in by_id]

    async def list(self, brand_id: UUID, *, limit: int = 50) -> list[BrandMemoryFragment]:
        async with self.db.connection() as conn:
            return await repo.memory_fragments.list(
                conn, "brand_id = $1", brand_id, order_by="created_at DESC, id", limit=limit
            )

    async def delete(self, brand_id: UUID, ids: Sequence[UUID]) -> int:
        """Forget fragments: the rows go in a transaction, then their vectors."""
        async with self.db.transaction() as conn:
            status = await conn.execute(
                "DELETE FROM memory_fragments WHERE brand_id = $1 AND id = ANY($2::uuid[])", brand_id, list(ids)
            )
        await self.index.delete(brand_id, list(ids))
        return int(status.split()[-1])

    async def reconcile(self, brand_id: UUID) -> ReconcileReport:
        """Repair what a crash between the two writes can leave: drop vectors that have no row,
        re-embed rows that have no vector."""
        vector_ids = await self.index.ids(brand_id)
        async with self.db.connection() as conn:
            rows = await repo.memory_fragments.list(conn, "brand_id = $1", brand_id)
        row_ids = {f.id for f in rows}
        orphans = sorted(vector_ids - row_ids)
        await self.index.delete(brand_id, orphans)
        missing = [f for f in rows if f.id not in vector_ids]
        if missing:
            vectors = await embed_matrix(self.embedder, [f.raw_text for f in missing])
            await self.index.add(
                brand_id, [f.id for f in missing], vectors, documents=[f.raw_text for f in missing]
            )
        if orphans or missing:
            log.warning("memory.reconciled", brand_id=str(brand_id), orphans=len(orphans), reembedded=len(missing))
        return ReconcileReport(orphan_vectors_removed=len(orphans), rows_reembedded=len(missing))
