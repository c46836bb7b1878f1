"""The memory service: the one actor that owns the brand memory store.

Why one actor: the embedded Chroma store is a ``PersistentClient`` over files in the data dir,
and a PersistentClient is not safe to open from several processes at once; and the MiniLM model
costs ~800 MiB per process that loads it. So exactly one process (this named, detached actor)
opens the vector index and the model, and everyone else (brand agents, the HTTP API, the CLI)
reaches memory through :class:`RayMemoryClient`. With a Chroma server (``KAIRO_CHROMA_URL``) the
first reason goes away, the second stays.

Searches from a process on the same machine skip the actor call: the service also answers them
on a Unix socket in its data dir (``storage.memory.local_socket``; ~1.4 ms less per search),
which a client finds through :meth:`MemoryService.socket_address` and falls back from to the
actor whenever it is unusable (another node, a restart, a lost connection).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import ray
import structlog
from ray.actor import ActorHandle
from ray.exceptions import ActorUnavailableError

from storage.memory.local_socket import MemorySocketClient, MemorySocketServer, SocketUnavailable, new_token, usable_path
from storage.memory.store import MemoryDraft, MemoryHit, MemoryStore, ReconcileReport
from storage.objects import BrandMemoryFragment

from . import names
from .database import open_database
from .logs import configure_logging
from .settings import Settings

log = structlog.get_logger(__name__)

SOCKET_NAME = "memory.sock"
# After the socket path failed, searches take the actor path for this long before trying again.
SOCKET_RETRY_SECONDS = 2.0


def socket_path(settings: Settings) -> Path:
    return settings.data_dir / "run" / SOCKET_NAME


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0)
class MemoryService:
    """Owns one :class:`MemoryStore`: its own small DB pool, the vector index, the embedder.

    Everything is opened lazily on the first call, under a lock, so a restarted actor comes back
    without any set-up call. Schema migrations are not this actor's job (``migrate=False``): the
    process that starts Kairo applies them before any actor runs.
    """

    def __init__(self, settings: Settings) -> None:
        configure_logging(settings.log_level, settings.log_format)  # JSON lines in this actor too
        self.settings = settings
        self._store: MemoryStore | None = None
        self._postgres: Any = None
        self._lock = asyncio.Lock()
        self._started_at = time.time()
        self._socket: MemorySocketServer | None = None
        self._token = new_token()

    async def _get_store(self) -> MemoryStore:
        if self._store is None:
            async with self._lock:
                if self._store is None:
                    self._store = await self._open()
        return self._store

    async def _open(self) -> MemoryStore:
        from storage.memory import Embedder, VectorIndex

        s = self.settings
        embedder = Embedder(num_threads=s.embedding_threads)
        await asyncio.to_thread(embedder.load)
        postgres = await open_database(s, pool_max=2)
        try:
            if s.chroma_url:
                index = await VectorIndex.open(url=s.chroma_url, embedder=embedder)
            else:
                index = await VectorIndex.open(path=s.chroma_dir, embedder=embedder)
        except BaseException:
            await postgres.close()
            raise
        self._postgres = postgres
        log.info("memory_service.opened", pid=os.getpid(), chroma=s.chroma_url or str(s.chroma_dir))
        store = MemoryStore(postgres.db, index, embedder)
        await self._open_socket(store)
        return store

    async def _open_socket(self, store: MemoryStore) -> None:
        """Answer searches on the Unix socket too; without it (a path too long for a socket, a
        read-only data dir) every search simply takes the actor call."""
        path = socket_path(self.settings)
        if self._socket is not None or not self.settings.memory_socket or not usable_path(path):
            return
        server = MemorySocketServer(path, self._token, store.search)
        try:
            await server.start()
        except OSError as exc:
            log.warning("memory_service.socket_failed", path=str(path), error=f"{type(exc).__name__}: {exc}")
            return
        self._socket = server

    async def socket_address(self) -> dict[str, str] | None:
        """Where this instance answers searches without an actor call: its node, socket path and
        token; None until its store is open or when it has no socket."""
        await self._get_store()
        if self._socket is None:
            return None
        node_id = ray.get_runtime_context().get_node_id()
        return {"node_id": node_id, "path": str(self._socket.path), "token": self._token}

    async def warm(self) -> None:
        """Open the store now (model, pool, index): called once right after the actor is created,
        so the first remember or search does not wait ~5 s for the model to load. A failure here
        (database not up yet) is only logged: the next call opens the store again."""
        try:
            await self._get_store()
        except Exception as exc:  # noqa: BLE001 - a warm-up, never the caller's error
            log.warning("memory_service.warm_failed", error=f"{type(exc).__name__}: {exc}")

    async def add(self, drafts: list[MemoryDraft]) -> list[BrandMemoryFragment]:
        return await (await self._get_store()).add(drafts)

    async def search(self, brand_id: UUID, text: str, k: int = 5) -> list[MemoryHit]:
        return await (await self._get_store()).search(brand_id, text, k)

    async def list(self, brand_id: UUID, limit: int = 50) -> list[BrandMemoryFragment]:
        return await (await self._get_store()).list(brand_id, limit=limit)

    async def reconcile(self, brand_id: UUID) -> ReconcileReport:
        return await (await self._get_store()).reconcile(brand_id)

    async def describe(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "opened": self._store is not None, "started_at": self._started_at}

    async def close(self) -> None:
        """Release the DB pool (the actor stays; the next call reopens everything)."""
        async with self._lock:
            if self._socket is not None:
                await self._socket.close()
            if self._postgres is not None:
                await self._postgres.close()
            self._store = None
            self._postgres = None
            self._socket = None


class RayMemoryClient:
    """:class:`runtime.gateway.MemoryClient` over the memory service actor.

    Reads (search, list) are retried with short backoff while the actor restarts. ``add`` is not
    retried: an interrupted add "may or may not have been executed"; drafts carry their ids, so a
    caller's deliberate retry of a completed add fails with Conflict rather than duplicating.

    ``search`` from the service's own machine goes over its Unix socket (same store call, no
    actor call); on any trouble with the socket it takes the actor path, and tries the socket
    again :data:`SOCKET_RETRY_SECONDS` later. ``use_socket=False`` always takes the actor path.
    """

    def __init__(
        self, handle: ActorHandle, *, read_retries: int = 5, backoff_seconds: float = 0.1, use_socket: bool = True
    ) -> None:
        self.handle = handle
        self.read_retries = read_retries
        self.backoff_seconds = backoff_seconds
        self.use_socket = use_socket
        self._socket: MemorySocketClient | None = None
        self._socket_retry_at = 0.0

    async def _socket_client(self) -> MemorySocketClient | None:
        if self._socket is not None or not self.use_socket or time.monotonic() < self._socket_retry_at:
            return self._socket
        self._socket_retry_at = time.monotonic() + SOCKET_RETRY_SECONDS
        try:
            address = await self.handle.socket_address.remote()
        except Exception as exc:  # noqa: BLE001 - the actor path answers instead (and reports)
            log.debug("memory_client.no_socket", error=type(exc).__name__)
            return None
        if address is not None and address["node_id"] == ray.get_runtime_context().get_node_id():
            self._socket = MemorySocketClient(Path(address["path"]), address["token"])
        return self._socket

    def _socket_failed(self, client: MemorySocketClient) -> None:
        if self._socket is client:
            self._socket = None
            self._socket_retry_at = time.monotonic() + SOCKET_RETRY_SECONDS

    async def _read(self, method: str, *args: Any) -> Any:
        for attempt in range(self.read_retries + 1):
            try:
                return await getattr(self.handle, method).remote(*args)
            except ActorUnavailableError:
                if attempt == self.read_retries:
                    raise
                await asyncio.sleep(self.backoff_seconds * 2**attempt)
        raise AssertionError("unreachable")

    async def add(self, drafts: list[MemoryDraft]) -> list[BrandMemoryFragment]:
        return await self.handle.add.remote(list(drafts))

    async def search(self, brand_id: UUID, text: str, k: int) -> list[MemoryHit]:
        client = await self._socket_client()
        if client is not None:
            try:
                return [MemoryHit(fragment, distance) for fragment, distance in await client.search(brand_id, text, k)]
            except SocketUnavailable as exc:
                log.info("memory_client.socket_lost", error=str(exc))
                self._socket_failed(client)
        return await self._read("search", brand_id, text, k)

    async def close(self) -> None:
        """Close the socket connection (the actor handle needs no closing)."""
        if self._socket is not None:
            await self._socket.close()
            self._socket = None

    async def list(self, brand_id: UUID, limit: int = 50) -> list[BrandMemoryFragment]:
        return await self._read("list", brand_id, limit)

    async def reconcile(self, brand_id: UUID) -> ReconcileReport:
        return await self._read("reconcile", brand_id)


def start_memory_service(settings: Settings) -> ActorHandle:
    """The memory service actor, created if absent (named, detached, restarts forever), asked to
    open its store in the background (not awaited: start-up does not wait for the model)."""
    handle = MemoryService.options(
        name=names.MEMORY, namespace=settings.ray_namespace, lifetime="detached", get_if_exists=True
    ).remote(settings)
    handle.warm.remote()
    return handle


def get_memory_client(settings: Settings) -> RayMemoryClient:
    """A client of the running memory service, starting it if nobody has yet."""
    try:
        handle = ray.get_actor(names.MEMORY, namespace=settings.ray_namespace)
    except ValueError:
        handle = start_memory_service(settings)
    return RayMemoryClient(handle, use_socket=settings.memory_socket)


__all__ = ["MemoryService", "RayMemoryClient", "get_memory_client", "start_memory_service"]
