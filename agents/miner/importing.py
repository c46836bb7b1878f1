"""Importing PatternSourcePosts from JSON, JSONL or CSV, validated before anything is stored.

Columns (JSON keys), documented in ``docs`` and the API:

* ``text`` (or ``raw_text``, ``body``, ``post``, ``content``) - required, the full post;
* ``channel`` - required unless the import names a default channel (linkedin, x, mastodon,
  bluesky, youtube_script);
* ``impressions``, ``engagements`` - optional non-negative integers, engagements ≤ impressions;
* ``created_at`` (or ``posted_at``, ``date``) - optional ISO 8601 time, the import time if absent;
* ``author_handle`` (or ``author``) - optional.

Every row is checked; the error (``storage.errors.Invalid``) names the row (1-based, the header
of a CSV is row 0) and the field of the first problem, and lists up to 20 in ``details``. Nothing
is returned unless the whole file is valid, so a caller stores a file all or nothing.

A post's id is derived from its scope (brand or global), channel and text, so the same post
imported twice is the same row; within one file a repeated post is kept once (the last metrics
win).
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from pydantic import TypeAdapter, ValidationError

from storage.errors import Invalid
from storage.objects import Channel, PatternSourcePost

from .segmentation import has_words

POST_NAMESPACE = UUID("0d8a3c56-5f43-4b8e-9d5e-2f1f3c7a9b20")
TEXT_COLUMNS = ("text", "raw_text", "body", "post", "content")
TIME_COLUMNS = ("created_at", "posted_at", "date")
AUTHOR_COLUMNS = ("author_handle", "author")
FORMATS = ("json", "jsonl", "csv")
MAX_ERRORS = 20
_TIME = TypeAdapter(datetime)


def post_id(brand_id: UUID | None, channel: Channel, text: str) -> UUID:
    """The stable id of a post: same scope, channel and (NFC, whitespace-trimmed) text → same id."""
    scope = str(brand_id) if brand_id else "global"
    return uuid5(POST_NAMESPACE, f"{scope}\n{channel.value}\n{unicodedata.normalize('NFC', text.strip())}")


@dataclass(frozen=True)
class ImportedPosts:
    posts: list[PatternSourcePost]
    rows: int
    duplicates: int


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, row: int, field: str, message: str) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append({"row": row, "field": field, "message": message})

    def raise_if_any(self, total: int) -> None:
        if self.items:
            first = self.items[0]
            more = f" (and {len(self.items) - 1} more)" if len(self.items) > 1 else ""
            raise Invalid(f"row {first['row']}, {first['field']}: {first['message']}{more}",
                          details={"field": first["field"], "row": first["row"], "errors": self.items, "rows": total})


def _records(content: str, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(content, newline=""))
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if not any(col in header for col in TEXT_COLUMNS):
            raise Invalid(f"the CSV has no text column (one of: {', '.join(TEXT_COLUMNS)})",
                          details={"field": "text", "row": 0, "columns": header})
        for number, raw in enumerate(reader, start=1):
            yield number, {(k or "").strip().lower(): v for k, v in raw.items() if k is not None}
        return
    if fmt == "jsonl":
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise Invalid(f"row {number}: not JSON ({exc.msg})", details={"field": "file", "row": number}) from exc
            yield number, record
        return
    try:
        doc = json.loads(content)
    except json.JSONDecodeError as exc:
        raise Invalid(f"not JSON: {exc.msg} at line {exc.lineno}", details={"field": "file", "line": exc.lineno}) from exc
    items = doc.get("posts") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise Invalid("a JSON import is a list of posts or {\"posts\": [...]}", details={"field": "posts"})
    yield from enumerate(items, start=1)


def _first(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return value
    return None


def _count(record: dict[str, Any], field: str, row: int, errors: _Errors) -> int | None:
    value = record.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors.add(row, field, "must be a whole number")
        return None
    if isinstance(value, str):
        try:
            value = int(value.strip().replace(",", "").replace("_", ""))
        except ValueError:
            errors.add(row, field, f"must be a whole number, got {value!r}")
            return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        errors.add(row, field, f"must be a whole number, got {value!r}")
        return None
    if value < 0:
        errors.add(row, field, f"must not be negative, got {value}")
        return None
    return value


def parse_posts(
    content: str | bytes,
    fmt: str,
    *,
    brand_id: UUID | None,
    default_channel: Channel | None = None,
    now: datetime,
    max_bytes: int = 20_000_000,
) -> ImportedPosts:
    """Validated posts of one file for one scope (``brand_id`` or global); raises Invalid."""
    if fmt not in FORMATS:
        raise Invalid(f"format must be one of {', '.join(FORMATS)}", details={"field": "format"})
    size = len(content.encode("utf-8") if isinstance(content, str) else content)
    if size > max_bytes:
        raise Invalid(f"the file is {size:,} bytes; at most {max_bytes:,} are accepted per import "
                      "(split it into several files)", details={"field": "file", "bytes": size, "max_bytes": max_bytes})
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Invalid("the file is not UTF-8 text", details={"field": "file", "byte": exc.start}) from exc
    errors = _Errors()
    posts: dict[UUID, PatternSourcePost] = {}
    rows = 0
    for row, record in _records(content, fmt):
        rows += 1
        if not isinstance(record, dict):
            errors.add(row, "post", "must be an object")
            continue
        record = {str(k).lower(): v for k, v in record.items()}
        text = _first(record, TEXT_COLUMNS)
        if not isinstance(text, str) or not has_words(text):
            errors.add(row, "text", "the post is empty or has no words (only emoji or punctuation)")
            continue
        channel_value = record.get("channel") or (default_channel.value if default_channel else None)
        try:
            channel = Channel(str(channel_value).strip().lower())
        except ValueError:
            errors.add(row, "channel", f"must be one of {', '.join(c.value for c in Channel)}, got {channel_value!r}")
            continue
        impressions = _count(record, "impressions", row, errors)
        engagements = _count(record, "engagements", row, errors)
        if impressions is not None and engagements is not None and engagements > impressions:
            errors.add(row, "engagements", f"{engagements} engagements exceed {impressions} impressions")
            continue
        raw_time = _first(record, TIME_COLUMNS)
        try:
            created_at = _TIME.validate_python(raw_time) if raw_time is not None else now
        except ValidationError:
            errors.add(row, "created_at", f"must be an ISO 8601 time, got {raw_time!r}")
            continue
        if created_at.tzinfo is None:
            errors.add(row, "created_at", "needs a time zone (e.g. 2025-01-15T09:00:00Z)")
            continue
        author = _first(record, AUTHOR_COLUMNS)
        try:
            post = PatternSourcePost(
                id=post_id(brand_id, channel, text), brand_id=brand_id, is_global=brand_id is None,
                channel=channel, raw_text=text, impressions=impressions, engagements=engagements,
                created_at=created_at, author_handle=str(author) if author is not None else None,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            errors.add(row, ".".join(map(str, first["loc"])) or "post", first["msg"])
            continue
        posts[post.id] = post
    errors.raise_if_any(rows)
    if rows == 0:
        raise Invalid("the file has no posts", details={"field": "file"})
    return ImportedPosts(posts=list(posts.values()), rows=rows, duplicates=rows - len(posts))
