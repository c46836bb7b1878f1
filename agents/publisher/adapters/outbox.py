"""Outbox, the embedded default: each post becomes one JSON line appended to a file.

Writing is idempotent by the post's key: under an exclusive file lock the file is scanned for
the key first, so a retry, or a second publisher, never appends the same post twice. The line
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


def _find(handle, key: str) -> dict | None:
    handle.seek(0)
    for line in handle:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a torn last line from a crash: ignored, the post is written again
        if entry.get("key") == key:
            return entry
    return None


class OutboxAdapter(Adapter):
    name = "outbox"
    idempotent_create = True

    def _path(self, creds: Credentials) -> Path:
        return Path(creds.endpoint.removeprefix("file://"))

    def _write(self, path: Path, request: PostRequest, *, create: bool) -> dict | None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                found = _find(handle, request.post_key)
                if found is not None or not create:
                    return found
                entry = {"key": request.post_key, "job_id": request.job_id, "brand_id": request.brand_id,
                         "channel": request.channel, "text": request.text,
                         "published_at": datetime.now(UTC).isoformat()}
                handle.seek(0, os.SEEK_END)
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
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
