"""Outbox, the embedded default: each post becomes one JSON line appended to a file.

Writing is idempotent by the post's key: under an exclusive file lock the file is checked for
the key first (reading only what was appended since the last look), so a retry, or a second
publisher, never appends the same post twice. The line is flushed and fsynced before the result
says ``published``; posts that arrive together share one lock and one fsync (group commit).
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from ..outcomes import Outcome, PublishResult
from .base import Adapter, Credentials, PostRequest


class _Index:
    """The keys already in one outbox file, read incrementally: only what was appended since the
    last look (by anyone: the file is the truth, this is a cache of it)."""

    def __init__(self) -> None:
        self.offset = 0
        self.entries: dict[str, dict] = {}

    def refresh(self, handle) -> None:
        size = os.fstat(handle.fileno()).st_size
        if size < self.offset:  # the file was truncated or replaced: start over
            self.offset, self.entries = 0, {}
        if size == self.offset:
            return
        handle.seek(self.offset)
        for line in handle:
            if not line.endswith("\n"):
                break  # a torn last line from a crash: ignored (the next write starts a new line)
            self.offset += len(line.encode("utf-8"))
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            self.entries.setdefault(entry.get("key"), entry)


class _GroupWriter:
    """Group commit for one outbox file in one event loop: posts that arrive while a write is
    under way are written together by the next one, under one file lock and one fsync, and each
    caller learns its result only after that fsync. The key check runs under the lock, against
    the file as anyone left it, so a post is never appended twice."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.index = _Index()
        self.pending: list[tuple[PostRequest, bool, asyncio.Future]] = []
        self.task: asyncio.Task | None = None

    async def submit(self, request: PostRequest, *, create: bool) -> dict | None:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((request, create, future))
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            try:
                found = await asyncio.to_thread(self._write, [(r, c) for r, c, _ in batch])
            except OSError as exc:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, future), entry in zip(batch, found, strict=True):
                if not future.done():
                    future.set_result(entry)

    def _write(self, batch: list[tuple[PostRequest, bool]]) -> list[dict | None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8", newline="\n") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self.index.refresh(handle)
                torn = os.fstat(handle.fileno()).st_size > self.index.offset  # a crash left half a line
                fresh: dict[str, dict] = {}  # this batch's lines: a repeat within it finds its first
                results, now = [], datetime.now(UTC).isoformat()
                for request, create in batch:
                    entry = self.index.entries.get(request.post_key) or fresh.get(request.post_key)
                    if entry is None and create:
                        entry = fresh[request.post_key] = {
                            "key": request.post_key, "job_id": request.job_id, "brand_id": request.brand_id,
                            "channel": request.channel, "text": request.text, "published_at": now}
                    results.append(entry)
                if fresh:
                    lines = "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in fresh.values())
                    handle.write(("\n" if torn else "") + lines)
                    handle.flush()
                    os.fsync(handle.fileno())
                    self.index.refresh(handle)  # only what is on disk counts as written
                return results
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


_WRITERS: dict[tuple[str, int], _GroupWriter] = {}


@functools.lru_cache(maxsize=1024)
def _resolved(path: Path) -> tuple[str, str]:
    """The outbox file's absolute path and its file URI, worked out once per endpoint (the
    file system walk of ``resolve`` was a sixth of a published post's CPU)."""
    absolute = path.resolve()
    return str(absolute), absolute.as_uri()


def _writer(path: Path) -> _GroupWriter:
    key = (_resolved(path)[0], id(asyncio.get_running_loop()))
    writer = _WRITERS.get(key)
    if writer is None:
        writer = _WRITERS[key] = _GroupWriter(path)
    return writer


class OutboxAdapter(Adapter):
    name = "outbox"
    idempotent_create = True

    def _path(self, creds: Credentials) -> Path:
        return Path(creds.endpoint.removeprefix("file://"))

    def _result(self, path: Path, entry: dict | None) -> PublishResult:
        if entry is None:
            return PublishResult(outcome=Outcome.NOT_FOUND, error_code="not_published")
        return PublishResult(outcome=Outcome.PUBLISHED, external_id=f"outbox:{entry['key']}",
                             url=_resolved(path)[1], raw={"status": "written"})

    async def publish(self, creds: Credentials, request: PostRequest) -> PublishResult:
        path = self._path(creds)
        try:
            entry = await _writer(path).submit(request, create=True)
        except OSError as exc:
            return PublishResult(outcome=Outcome.NOT_SENT, error_code="outbox_io", message=str(exc)[:300])
        return self._result(path, entry)

    async def reconcile(self, creds: Credentials, request: PostRequest, since: datetime | None = None) -> PublishResult:
        path = self._path(creds)
        try:
            entry = await _writer(path).submit(request, create=False)
        except OSError as exc:
            return PublishResult(outcome=Outcome.NOT_SENT, error_code="outbox_io", message=str(exc)[:300])
        return self._result(path, entry)
