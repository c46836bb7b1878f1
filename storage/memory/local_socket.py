"""Searches of the memory store over a Unix socket: the same-machine fast path to its owner.

Why this exists: the memory store lives in one process (the memory service), and every search
from the HTTP API crosses into it. A Ray actor call costs ~1.4 ms of latency and ~1.5 ms of CPU
on the two sides together on the 2-core machines Kairo is measured on, against ~0.05 ms for a
request/response on a Unix socket between the same two processes (benchmarks/README.md (d)).
Searches are the hot read (the scout and the writer search on every card and variant), so they
take the socket when caller and store share a machine; everything else keeps the actor call.

What it keeps:

* **Only reads.** ``search`` is answered here; adds stay on the actor path with its all-or-nothing
  write and its no-retry rule. A search that fails on the socket can be retried elsewhere.
* **Same answers.** The server calls the very ``MemoryStore.search`` the actor calls (the brand's
  own collection, hits read back from PostgreSQL by brand, the query-vector cache); fragments
  cross as their JSON and are validated again on arrival; Kairo errors keep their class.
* **Who may connect.** The socket file is created ``0600`` (its directory ``0700``): only the
  service's OS user, who can read the Chroma files and the database anyway. Every connection
  first presents the instance's random token (given out through the actor handle), so a client
  never talks to a stale socket of an earlier instance, or to another runtime's.

Frames are a 4-byte big-endian length and a JSON object; requests carry an ``id`` and are
answered out of order, so one connection carries any number of concurrent searches.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog

from storage import errors as kairo_errors
from storage.errors import KairoError, UpstreamFailure
from storage.objects import BrandMemoryFragment

log = structlog.get_logger(__name__)

_LENGTH = struct.Struct(">I")
MAX_FRAME_BYTES = 16 * 2**20
# Unix socket paths are limited to 108 bytes (sun_path) on Linux, the terminating NUL included.
MAX_PATH_BYTES = 107
_ERRORS: dict[str, type[KairoError]] = {
    cls.__name__: cls for cls in vars(kairo_errors).values()
    if isinstance(cls, type) and issubclass(cls, KairoError)
}  # fmt: skip

Search = Callable[[UUID, str, int], Awaitable[list[Any]]]


def new_token() -> str:
    return secrets.token_hex(16)


def usable_path(path: Path) -> bool:
    """Whether ``path`` fits in a Unix socket address."""
    return len(os.fsencode(str(path))) <= MAX_PATH_BYTES


def _frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


async def _read(reader: asyncio.StreamReader) -> dict[str, Any]:
    (size,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if size > MAX_FRAME_BYTES:
        raise ValueError(f"frame of {size} bytes")
    message = json.loads(await reader.readexactly(size))
    if not isinstance(message, dict):
        raise ValueError("a frame must hold a JSON object")
    return message


def _hits_json(request_id: int, hits: list[Any]) -> bytes:
    """The answer to a search: each fragment as the JSON pydantic writes for it."""
    parts = [f'{{"distance":{float(h.distance)!r},"fragment":'.encode() + h.fragment.model_dump_json().encode() + b"}"
             for h in hits]  # fmt: skip
    return f'{{"id":{request_id},"hits":['.encode() + b",".join(parts) + b"]}"


def _error_json(request_id: int, exc: BaseException) -> bytes:
    if not isinstance(exc, KairoError):
        exc = UpstreamFailure(f"memory search failed: {type(exc).__name__}: {exc}",
                              details={"error": type(exc).__name__})  # fmt: skip
    return json.dumps({"id": request_id, "error": {"type": type(exc).__name__, "message": exc.message,
                                                   "details": exc.details}}, default=str).encode()  # fmt: skip


class MemorySocketServer:
    """Answers searches on ``path`` with ``search`` (normally ``MemoryStore.search``)."""

    def __init__(self, path: Path, token: str, search: Search) -> None:
        self.path = Path(path)
        self.token = token
        self._search = search
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Bind the socket (replacing a stale file of an earlier instance), owner-only."""
        if not usable_path(self.path):
            raise ValueError(f"socket path too long for a Unix socket: {self.path}")
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old_umask = os.umask(0o177)  # the file is created 0600, never briefly wider
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        finally:
            os.umask(old_umask)

    async def close(self) -> None:
        """Stop listening and end every open connection (their clients see it at once)."""
        if self._server is not None:
            self._server.close()
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        for writer in list(self._connections):
            writer.close()
        self._connections.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lock = asyncio.Lock()
        tasks: set[asyncio.Task[None]] = set()
        self._connections.add(writer)
        try:
            hello = await _read(reader)
            if not secrets.compare_digest(str(hello.get("token", "")), self.token):
                return
            writer.write(_frame(b'{"ok":true}'))
            while True:
                request = await _read(reader)
                task = asyncio.create_task(self._answer(request, writer, lock))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass  # the client went away or spoke nonsense: drop the connection
        finally:
            for task in tasks:
                task.cancel()
            self._connections.discard(writer)
            writer.close()

    async def _answer(self, request: dict[str, Any], writer: asyncio.StreamWriter, lock: asyncio.Lock) -> None:
        request_id = request.get("id")
        if not isinstance(request_id, int):
            return
        try:
            if request.get("op") != "search":
                raise kairo_errors.Invalid("unknown operation", details={"field": "op"})
            hits = await self._search(UUID(str(request["brand_id"])), str(request["text"]), int(request["k"]))
            payload = _hits_json(request_id, hits)
        except Exception as exc:  # noqa: BLE001 - every failure becomes the caller's error frame
            payload = _error_json(request_id, exc)
        async with lock:
            writer.write(_frame(payload))
            with contextlib.suppress(ConnectionError):
                await writer.drain()


class SocketUnavailable(Exception):
    """The socket path could not be used (no server, wrong instance, connection lost): the
    caller may take another route to the store."""


class MemorySocketClient:
    """One connection to a :class:`MemorySocketServer` (opened on first use, in the caller's
    event loop), carrying any number of concurrent searches."""

    def __init__(self, path: Path, token: str, *, connect_timeout: float = 1.0) -> None:
        self.path = Path(path)
        self.token = token
        self.connect_timeout = connect_timeout
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 0
        self._connecting: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _connection(self) -> asyncio.StreamWriter:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a connection belongs to the loop that opened it
            self._drop(SocketUnavailable("another event loop"))
            self._loop, self._connecting = loop, asyncio.Lock()
        if self._writer is not None:
            return self._writer
        assert self._connecting is not None
        async with self._connecting:
            if self._writer is None:
                try:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_unix_connection(str(self.path)), self.connect_timeout
                    )
                    writer.write(_frame(json.dumps({"token": self.token}).encode()))
                    answer = await asyncio.wait_for(_read(reader), self.connect_timeout)
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    raise SocketUnavailable(f"{type(exc).__name__}: {exc}") from exc
                if answer.get("ok") is not True:
                    writer.close()
                    raise SocketUnavailable("the server refused this instance token")
                self._writer = writer
                self._reader_task = asyncio.create_task(self._read_answers(reader))
        assert self._writer is not None
        return self._writer

    async def _read_answers(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                answer = await _read(reader)
                future = self._pending.pop(answer.get("id"), None)  # type: ignore[arg-type]
                if future is not None and not future.done():
                    future.set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            self._drop(SocketUnavailable(f"connection lost: {type(exc).__name__}"))

    def _drop(self, exc: Exception) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer = None
        if self._reader_task is not None and self._reader_task is not asyncio.current_task():
            self._reader_task.cancel()
        self._reader_task = None
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(exc)

    async def search(self, brand_id: UUID, text: str, k: int) -> list[tuple[BrandMemoryFragment, float]]:
        """``(fragment, distance)`` pairs, nearest first; Kairo errors as raised by the store;
        :class:`SocketUnavailable` when the answer cannot come through the socket."""
        writer = await self._connection()
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            writer.write(_frame(json.dumps({"id": request_id, "op": "search", "brand_id": str(brand_id),
                                            "text": text, "k": k}).encode()))  # fmt: skip
            answer = await future
        finally:
            self._pending.pop(request_id, None)
        error = answer.get("error")
        if error is not None:
            cls = _ERRORS.get(error.get("type"), UpstreamFailure)
            raise cls(str(error.get("message")), details=error.get("details") or {})
        return [(BrandMemoryFragment.model_validate(h["fragment"]), float(h["distance"])) for h in answer["hits"]]

    async def close(self) -> None:
        self._drop(SocketUnavailable("closed"))
