"""The vector half of Kairo's memory: one Chroma collection per brand, behind an async interface.

Why it looks like this:

* **One collection per brand** (``brand_<uuid hex>``). Isolation is structural: every call resolves
  exactly one brand's collection by name, so a query for brand A cannot touch brand B's vectors.
  It is also faster: a ``where`` filter on a shared collection made top-5 queries ~8x slower.
* **Two backends, one interface.** The embedded default is ``chromadb.PersistentClient`` in the
  data dir; its calls are blocking, so they run in worker threads (``asyncio.to_thread``). At
  scale, ``chromadb.AsyncHttpClient`` talks to a Chroma server by URL. Both expose collections
  with the same method names, so the operations below are written once.
* **Precomputed vectors only.** Collections are always created/opened with
  :class:`~storage.memory.embeddings.KairoEmbeddingFunction`, so Chroma never builds its default
  embedding function (which downloads a model). Distances are cosine (0 = same direction).
* **Errors never leak.** Anything Chroma (or its HTTP transport) raises becomes
  :class:`~storage.errors.UpstreamFailure`; bad arguments are refused with
  :class:`~storage.errors.Invalid` before Chroma sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

import chromadb
import numpy as np
from chromadb.config import Settings
from chromadb.errors import NotFoundError

from storage.errors import Conflict, Invalid, KairoError, UpstreamFailure
from storage.memory.embeddings import Embedder, KairoEmbeddingFunction, TextEmbedder

T = TypeVar("T")

COLLECTION_PREFIX = "brand_"
# HNSW in cosine space; Chroma 1.5.9 honours both this and the legacy metadata={"hnsw:space": ...}.
COLLECTION_CONFIGURATION: dict[str, Any] = {"hnsw": {"space": "cosine"}}
MetadataValue = str | int | float | bool


def collection_name(brand_id: UUID) -> str:
    """The Chroma collection holding ``brand_id``'s vectors (38 characters, Chroma-safe)."""
    return f"{COLLECTION_PREFIX}{brand_id.hex}"


def _parse_url(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"Chroma URL must look like http://host:8000, got {url!r}",
                      details={"field": "url"})
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise Invalid(f"Chroma URL must not carry a path or query, got {url!r}",
                      details={"field": "url"})
    ssl = parts.scheme == "https"
    try:
        port = parts.port or (443 if ssl else 8000)
    except ValueError as exc:
        raise Invalid(f"bad port in Chroma URL {url!r}", details={"field": "url"}) from exc
    return parts.hostname, port, ssl


def _clean_metadata(raw: Mapping[str, Any] | None, index: int) -> dict[str, MetadataValue] | None:
    """Chroma refuses ``None`` values and empty dicts: drop the first, map the second to None."""
    if raw is None:
        return None
    clean: dict[str, MetadataValue] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if isinstance(value, UUID):
            value = str(value)
        if not isinstance(key, str) or not isinstance(value, str | int | float | bool):
            raise Invalid(
                f"metadata values must be str, int, float or bool; {key!r} is "
                f"{type(value).__name__}",
                details={"field": f"metadatas[{index}].{key}"},
            )
        clean[key] = value
    return clean or None


class VectorIndex:
    """Per-brand vector collections in Chroma. Open with :meth:`open`; always :meth:`close`."""

    def __init__(
        self,
        client: Any,
        *,
        is_async: bool,
        embedder: TextEmbedder,
        max_batch_size: int,
        location: str,
    ) -> None:
        self._client = client
        self._is_async = is_async
        self._embedder = embedder
        self._ef = KairoEmbeddingFunction(embedder)
        self._max_batch = max(1, max_batch_size)
        self._collections: dict[UUID, Any] = {}
        self._write_locks: dict[UUID, asyncio.Lock] = {}
        self._closed = False
        self.location = location

    # -- construction -------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: Path | None = None,
        url: str | None = None,
        embedder: TextEmbedder | None = None,
    ) -> VectorIndex:
        """Open the embedded store at ``path`` or the Chroma server at ``url`` (exactly one).

        ``embedder`` only describes the vector space (model name and dimension, recorded in each
        collection's configuration and checked on every open); vectors are passed precomputed.
        """
        if (path is None) == (url is None):
            raise Invalid("give exactly one of path or url", details={"field": "path"})
        embedder = embedder if embedder is not None else Embedder()
        settings = Settings(anonymized_telemetry=False)
        if path is not None:
            location = str(Path(path))
            Path(path).mkdir(parents=True, exist_ok=True)

            def connect() -> tuple[Any, int]:
                client = chromadb.PersistentClient(path=location, settings=settings)
                return client, client.get_max_batch_size()

            async with _translated("open", location):
                client, max_batch = await asyncio.to_thread(connect)
            return cls(client, is_async=False, embedder=embedder, max_batch_size=max_batch,
                       location=location)

        assert url is not None
        host, port, ssl = _parse_url(url)
        async with _translated("open", url):
            client = await chromadb.AsyncHttpClient(host=host, port=port, ssl=ssl,
                                                    settings=settings)
            max_batch = await client.get_max_batch_size()
        return cls(client, is_async=True, embedder=embedder, max_batch_size=max_batch,
                   location=url)

    @property
    def embedder(self) -> TextEmbedder:
        return self._embedder

    # -- public operations --------------------------------------------------------------------

    async def add(
        self,
        brand_id: UUID,
        ids: Sequence[UUID],
        vectors: Sequence[Sequence[float]] | np.ndarray,
        documents: Sequence[str] | None = None,
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> None:
        """Store new vectors for one brand; an id already stored keeps its vector (so a retried
        add is harmless). Use :meth:`replace` to change a stored vector.

        Creates the brand's collection on first use. Large inputs are sent in batches no larger
        than the server accepts. Writes to one brand are serialized in this process.

        Why ``add`` and never ``upsert``: Chroma 1.5's local HNSW writer re-reads its log tail
        (every write since the index was last persisted, up to ``hnsw:sync_threshold``) and, after
        a read of a collection that has nothing new to apply, forgets how far it had applied it.
        The next write then replays that whole tail: a replayed *add* of a stored id is skipped,
        a replayed *upsert* rewrites the point in place (hnswlib's ``updatePoint``) — seconds of
        CPU for one write at ~1,000 vectors, and every rewrite re-prunes the neighbours' links,
        which with near-duplicates can leave a point that no search reaches.
        """
        matrix = self._checked(ids, vectors, documents, metadatas)
        if matrix is None:
            return
        str_ids = [str(i) for i in ids]
        docs = list(documents) if documents is not None else None
        metas = [_clean_metadata(m, i) for i, m in enumerate(metadatas)] if metadatas else None
        if metas is not None and all(m is None for m in metas):
            metas = None
        n = len(str_ids)

        async def insert(collection: Any) -> None:
            for start in range(0, n, self._max_batch):
                end = start + self._max_batch
                await self._call(
                    collection.add,
                    ids=str_ids[start:end],
                    embeddings=matrix[start:end],
                    documents=docs[start:end] if docs is not None else None,
                    metadatas=metas[start:end] if metas is not None else None,
                )

        async with self._write_lock(brand_id):
            await self._with_collection(brand_id, "add", insert, create=True)

    async def replace(
        self,
        brand_id: UUID,
        ids: Sequence[UUID],
        vectors: Sequence[Sequence[float]] | np.ndarray,
        documents: Sequence[str] | None = None,
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> None:
        """Store vectors, replacing any stored under the same ids (a delete, then an add: a new
        graph node each, never an in-place rewrite — see :meth:`add`)."""
        self._checked(ids, vectors, documents, metadatas)
        await self.delete(brand_id, ids)
        await self.add(brand_id, ids, vectors, documents, metadatas)

    def _checked(
        self,
        ids: Sequence[UUID],
        vectors: Sequence[Sequence[float]] | np.ndarray,
        documents: Sequence[str] | None,
        metadatas: Sequence[Mapping[str, Any] | None] | None,
    ) -> np.ndarray | None:
        """The vectors as a float32 matrix after checking every argument; None when empty."""
        n = len(ids)
        if len(vectors) != n:
            raise Invalid(f"{n} ids but {len(vectors)} vectors", details={"field": "vectors"})
        if documents is not None and len(documents) != n:
            raise Invalid(f"{n} ids but {len(documents)} documents", details={"field": "documents"})
        if metadatas is not None and len(metadatas) != n:
            raise Invalid(f"{n} ids but {len(metadatas)} metadatas", details={"field": "metadatas"})
        if len(set(ids)) != n:
            raise Invalid("duplicate ids in one add", details={"field": "ids"})
        for i, vector in enumerate(vectors):
            if len(vector) != self._embedder.dim:
                raise Invalid(
                    f"vector {i} has {len(vector)} dimensions, the index uses {self._embedder.dim}",
                    details={"field": f"vectors[{i}]"},
                )
        if n == 0:
            return None
        return np.asarray(vectors, dtype=np.float32).reshape(n, self._embedder.dim)

    def _write_lock(self, brand_id: UUID) -> asyncio.Lock:
        """One writer per brand collection at a time: two writes in flight let Chroma's second
        log read find nothing new, the condition that makes its writer replay (see :meth:`add`)."""
        lock = self._write_locks.get(brand_id)
        if lock is None:
            lock = self._write_locks[brand_id] = asyncio.Lock()
        return lock

    async def delete(self, brand_id: UUID, ids: Sequence[UUID]) -> None:
        """Remove vectors by id; unknown ids and unknown brands are a no-op."""
        if not ids:
            return
        str_ids = [str(i) for i in ids]

        async def delete(collection: Any) -> None:
            for start in range(0, len(str_ids), self._max_batch):
                await self._call(collection.delete, ids=str_ids[start:start + self._max_batch])

        async with self._write_lock(brand_id):
            await self._with_collection(brand_id, "delete", delete)

    async def query(
        self, brand_id: UUID, vector: Sequence[float] | np.ndarray, k: int
    ) -> list[tuple[UUID, float]]:
        """The ``k`` nearest vectors of one brand as ``(id, cosine distance)``, nearest first.

        Returns fewer than ``k`` when the brand has fewer, and ``[]`` when it has none.
        """
        query_vector = self._query_vector(vector)
        return await self._query(brand_id, lambda: query_vector, k)

    async def query_computed(
        self, brand_id: UUID, compute: Callable[[], Sequence[float] | np.ndarray], k: int
    ) -> list[tuple[UUID, float]]:
        """:meth:`query` with a vector ``compute()`` makes (the embedding of a search text) in
        the same worker thread as the query on the embedded backend: one thread hand-off per
        search instead of two. ``compute`` is not called for a brand that has no collection."""
        return await self._query(brand_id, lambda: self._query_vector(compute()), k)

    def _query_vector(self, vector: Sequence[float] | np.ndarray) -> np.ndarray:
        if len(vector) != self._embedder.dim:
            raise Invalid(
                f"query vector has {len(vector)} dimensions, the index uses {self._embedder.dim}",
                details={"field": "vector"},
            )
        return np.asarray(vector, dtype=np.float32).reshape(1, self._embedder.dim)

    async def _query(
        self, brand_id: UUID, vector: Callable[[], np.ndarray], k: int
    ) -> list[tuple[UUID, float]]:
        if k < 1:
            raise Invalid("k must be >= 1", details={"field": "k"})

        async def run(collection: Any) -> list[tuple[UUID, float]]:
            if self._is_async:
                result = await collection.query(
                    query_embeddings=await asyncio.to_thread(vector), n_results=k, include=["distances"]
                )
            else:
                result = await asyncio.to_thread(
                    lambda: collection.query(query_embeddings=vector(), n_results=k, include=["distances"])
                )
            ids = (result.get("ids") or [[]])[0]
            distances = (result.get("distances") or [[]])[0]
            # float32 rounding gives identical vectors a distance of about -1e-6: clamp at 0.
            return [(self._uuid(i, brand_id), max(0.0, float(d))) for i, d in zip(ids, distances)]

        found = await self._with_collection(brand_id, "query", run)
        return found if found is not None else []

    async def ids(self, brand_id: UUID) -> set[UUID]:
        """Every id stored for one brand (for reconciliation with the system of record)."""

        async def run(collection: Any) -> set[UUID]:
            out: set[UUID] = set()
            offset = 0
            while True:
                page = await self._call(
                    collection.get, include=[], limit=self._max_batch, offset=offset
                )
                page_ids = page.get("ids") or []
                out.update(self._uuid(i, brand_id) for i in page_ids)
                if len(page_ids) < self._max_batch:
                    return out
                offset += len(page_ids)

        found = await self._with_collection(brand_id, "ids", run)
        return found if found is not None else set()

    async def count(self, brand_id: UUID) -> int:
        """How many vectors one brand has (0 when it has no collection)."""

        async def run(collection: Any) -> int:
            return int(await self._call(collection.count))

        found = await self._with_collection(brand_id, "count", run)
        return found if found is not None else 0

    async def drop_brand(self, brand_id: UUID) -> None:
        """Delete a brand's whole collection; a no-op when it does not exist."""
        self._ensure_open()
        self._collections.pop(brand_id, None)
        name = collection_name(brand_id)
        async with _translated("drop_brand", self.location, brand_id):
            try:
                await self._call(self._client.delete_collection, name)
            except NotFoundError:
                pass

    async def close(self) -> None:
        """Release the client. Idempotent; the index refuses calls afterwards."""
        if self._closed:
            return
        self._closed = True
        self._collections.clear()
        async with _translated("close", self.location):
            if not self._is_async:
                await asyncio.to_thread(self._client.close)
                return
            # Chroma 1.5.9's AsyncClient has no close(); its HTTP API object keeps its httpx
            # clients (one per event loop, in a class-level dict) and closes them in _cleanup().
            cleanup = getattr(getattr(self._client, "_server", None), "_cleanup", None)
            if cleanup is not None:
                await cleanup()

    async def __aenter__(self) -> VectorIndex:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- internals ------------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run one Chroma call: awaited on the HTTP backend, in a worker thread when embedded."""
        if self._is_async:
            return await fn(*args, **kwargs)
        return await asyncio.to_thread(fn, *args, **kwargs)

    def _ensure_open(self) -> None:
        if self._closed:
            raise UpstreamFailure("the vector index is closed", details={"location": self.location})

    async def _collection(self, brand_id: UUID, *, create: bool) -> Any | None:
        """The brand's collection handle (cached), or None if it does not exist and not create."""
        cached = self._collections.get(brand_id)
        if cached is not None:
            return cached
        name = collection_name(brand_id)
        if create:
            collection = await self._call(
                self._client.get_or_create_collection, name,
                configuration=COLLECTION_CONFIGURATION, embedding_function=self._ef,
            )
        else:
            try:
                collection = await self._call(
                    self._client.get_collection, name, embedding_function=self._ef
                )
            except NotFoundError:
                return None
        self._check_model(collection, brand_id)
        self._collections[brand_id] = collection
        return collection

    def _check_model(self, collection: Any, brand_id: UUID) -> None:
        """Refuse to mix vector spaces: the collection must have been made by the same model."""
        stored = (collection.configuration_json or {}).get("embedding_function") or {}
        stored_model = (stored.get("config") or {}).get("model_name")
        if stored.get("name") != KairoEmbeddingFunction.name() or stored_model is None:
            raise Conflict(
                f"collection {collection.name} was not created by Kairo",
                details={"brand_id": str(brand_id), "embedding_function": stored.get("name")},
            )
        if stored_model != self._embedder.model_name:
            raise Conflict(
                f"collection {collection.name} holds {stored_model} vectors, "
                f"this index embeds with {self._embedder.model_name}",
                details={"brand_id": str(brand_id), "stored_model": stored_model},
            )

    async def _with_collection(
        self,
        brand_id: UUID,
        op: str,
        fn: Callable[[Any], Awaitable[T]],
        *,
        create: bool = False,
    ) -> T | None:
        """Run ``fn`` on the brand's collection; None when it is missing and ``create`` is False.

        A cached handle goes stale when another process drops (or drops and recreates) the
        collection: Chroma then answers NotFound, so the handle is refreshed once and retried.
        """
        self._ensure_open()
        async with _translated(op, self.location, brand_id):
            for attempt in (1, 2):
                collection = await self._collection(brand_id, create=create)
                if collection is None:
                    return None
                try:
                    return await fn(collection)
                except NotFoundError:
                    self._collections.pop(brand_id, None)
                    if attempt == 2:
                        if not create:
                            return None
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _uuid(raw: str, brand_id: UUID) -> UUID:
        try:
            return UUID(raw)
        except ValueError as exc:
            raise UpstreamFailure(
                f"vector store holds a non-UUID id {raw!r} for brand {brand_id}",
                details={"brand_id": str(brand_id), "id": raw},
            ) from exc


@contextlib.asynccontextmanager
async def _translated(op: str, location: str, brand_id: UUID | None = None) -> AsyncIterator[None]:
    """Turn whatever Chroma or its transport raises into UpstreamFailure; Kairo errors pass."""
    try:
        yield
    except KairoError:
        raise
    except Exception as exc:  # the storage boundary: nothing from chromadb/httpx leaks upward
        details: dict[str, Any] = {"operation": op, "location": location,
                                   "error": type(exc).__name__}
        if brand_id is not None:
            details["brand_id"] = str(brand_id)
        raise UpstreamFailure(
            f"vector store {op} failed at {location}: {type(exc).__name__}: {exc}",
            details=details,
        ) from exc
