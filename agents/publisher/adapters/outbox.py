"""Outbox, the embedded default: each post becomes one JSON line appended to a file.

Writing is idempotent by the post's key: under an exclusive file lock the file is checked for
the key first (reading only what was appended since the last look), so a retry, or a second
publisher, never appends the same post twice. The line
is flushed and fsynced before the result says ``published``.
"""

from __future__ import annotations

import asyncio
import fcntl
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


_INDEXES: dict[str, _Index] = {}


class OutboxAdapter(Adapter):
    name = "outbox"
    idempotent_create = True

    def _path(self, creds: Credentials) -> Path:
        return Path(creds.endpoint.removeprefix("file://"))

    def _write(self, path: Path, request: PostRequest, *, create: bool) -> dict | None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+", encoding="utf-8", newline="\n") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                index = _INDEXES.setdefault(str(path.resolve()), _Index())
                index.refresh(handle)
                found = index.entries.get(request.post_key)
                if found is not None or not create:
                    return found
                entry = {"key": request.post_key, "job_id": request.job_id, "brand_id": request.brand_id,
                         "channel": request.channel, "text": request.text,
                         "published_at": datetime.now(UTC).isoformat()}
                torn = os.fstat(handle.fileno()).st_size > index.offset  # a crash left half a line
                handle.write(("\n" if torn else "") + json.dumps(entry, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
                index.refresh(handle)
                return entry
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _result(self, path: Path, entry: dict | None) -> PublishResult:
        if entry is None:
            return PublishResult(outcome=Outcome.NOT_FOUND, error_code="not_published")
        return PublishResult(outcome=Outcome.PUBLISHED, external_id=f"outbox:{entry['key']}",
                             url=path.resolve().as_uri(), raw={"status": "written"})

    async def publish(self, creds: Credentials, request: PostRequest) -> PublishResult:
        path = self._path(creds)
        try:
            entry = await asyncio.to_thread(self._write, path, request, create=True)
        except OSError as exc:
            return PublishResult(outcome=Outcome.NOT_SENT, error_code="outbox_io", message=str(exc)[:300])
        return self._result(path, entry)

    async def reconcile(self, creds: Credentials, request: PostRequest, since: datetime | None = None) -> PublishResult:
        path = self._path(creds)
        try:
            entry = await asyncio.to_thread(self._write, path, request, create=False)
        except OSError as exc:
            return PublishResult(outcome=Outcome.NOT_SENT, error_code="outbox_io", message=str(exc)[:300])
        return self._result(path, entry)
