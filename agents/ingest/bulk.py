"""Bulk imports: JSON (an array of objects), JSONL (one object a line) or CSV (a header row).

Every record needs ``text``; ``url`` (or ``source_url``), ``title``, ``author_handle``,
``published_at`` (ISO 8601 with a time zone; a bare date is taken as midnight UTC) and
``source_type`` are optional. A CSV without a ``text`` column, a line that is not JSON, a
record without text or with an unknown field is :class:`storage.errors.Invalid` naming the
field as ``records[<row>].<field>`` (rows count from 0, the CSV header excluded), and nothing
of the import is kept.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import ValidationError

from storage.errors import Invalid
from storage.objects import SourceDocType

from .models import RawItem

BulkFormat = Literal["json", "jsonl", "csv"]
MAX_RECORDS = 5000
FIELDS = {"text", "url", "source_url", "title", "author_handle", "published_at", "source_type"}


def _fail(row: int | None, field: str, message: str) -> Invalid:
    where = "records" if row is None else f"records[{row}]"
    return Invalid(message, details={"field": f"{where}.{field}" if field else where})


def _published(row: int, value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise _fail(row, "published_at", "published_at must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise _fail(row, "published_at", f"published_at is not an ISO 8601 date: {value[:40]!r}") from None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _item(row: int, record: Any, org_id: UUID | None) -> RawItem:
    if not isinstance(record, dict):
        raise _fail(row, "", "each record must be an object")
    unknown = sorted(set(record) - FIELDS)
    if unknown:
        raise _fail(row, unknown[0], f"unknown field {unknown[0]!r} (known: {', '.join(sorted(FIELDS))})")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _fail(row, "text", "text is required and must be a non-empty string")
    source_type = record.get("source_type") or SourceDocType.PASTED_TEXT.value
    if source_type not in {t.value for t in SourceDocType}:
        raise _fail(row, "source_type", f"unknown source_type {source_type!r}")
    try:
        return RawItem(
            source_type=SourceDocType(source_type), text=text, source_url=(record.get("url") or record.get("source_url")) or None,
            title=record.get("title") or None, author_handle=record.get("author_handle") or None,
            published_at=_published(row, record.get("published_at")), org_id=org_id,
        )  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(row, str(first["loc"][0]) if first["loc"] else "", first["msg"]) from None


def parse_bulk(body: str | bytes, fmt: BulkFormat, *, org_id: UUID | None = None) -> list[RawItem]:
    """Every record of an import as a raw item, or Invalid for the first bad one."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _fail(None, "", "the import is not UTF-8 text") from None
    records: list[Any]
    if fmt == "json":
        try:
            records = json.loads(body)
        except json.JSONDecodeError as exc:
            raise _fail(None, "", f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(records, list):
            raise _fail(None, "", "a JSON import is an array of records")
    elif fmt == "jsonl":
        records = []
        for number, line in enumerate(l for l in body.splitlines() if l.strip()):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise _fail(number, "", f"line {number + 1} is not valid JSON: {exc.msg}") from None
    else:
        reader = csv.DictReader(io.StringIO(body))
        if not reader.fieldnames or "text" not in [f.strip() for f in reader.fieldnames]:
            raise _fail(None, "text", "the CSV header has no 'text' column")
        records = []
        for number, row in enumerate(reader):
            if None in row:
                raise _fail(number, "", "the row has more cells than the header")
            records.append({k.strip(): (v if v is None else v.strip()) for k, v in row.items() if v not in (None, "")})
    if len(records) > MAX_RECORDS:
        raise _fail(None, "", f"at most {MAX_RECORDS} records per import, got {len(records)}")
    return [_item(i, r, org_id) for i, r in enumerate(records)]
