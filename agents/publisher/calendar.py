"""A brand's calendar as people read it (``kairo calendar BRAND``, the demo): the jobs of a window
of days, each with where it went and how its last attempt ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from storage.objects import Brand
from storage.postgres import Database
from storage.postgres import publishing as store
from storage.postgres import repositories as repo

PREVIEW_CHARS = 60


@dataclass(frozen=True)
class CalendarRow:
    """One line of the calendar."""

    when: str
    channel: str
    status: str
    attempts: int
    outcome: str
    """The external id or URL of a published post, else the last error."""
    preview: str


async def find_brand(db: Database, ref: str) -> Brand | None:
    """A brand by id or slug."""
    async with db.connection() as conn:
        found = await repo.brands.list(conn, "slug = $1 OR id::text = $1", ref, limit=1)
    return found[0] if found else None


async def brand_calendar(db: Database, brand: Brand, start: date | None = None, days: int = 7,
                         *, limit: int = 500) -> list[store.CalendarEntry]:
    """The brand's jobs scheduled in ``days`` days from ``start`` (default today, UTC)."""
    first = start or datetime.now(UTC).date()
    begin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    async with db.connection() as conn:
        return await store.calendar(conn, brand.id, begin, begin + timedelta(days=days), limit=limit)


def calendar_rows(entries: list[store.CalendarEntry]) -> list[CalendarRow]:
    rows = []
    for entry in entries:
        job, last = entry.job, (entry.attempts[-1] if entry.attempts else None)
        if last is not None and last.external_post_id:
            outcome = last.external_url or last.external_post_id
        else:
            outcome = job.last_error or (last.error_code if last is not None and last.error_code else "")
        text = " ".join(entry.body.split())
        rows.append(CalendarRow(
            when=job.scheduled_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"), channel=job.channel.value,
            status=job.status.value, attempts=len(entry.attempts), outcome=outcome,
            preview=text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…",
        ))  # fmt: skip
    return rows


__all__ = ["CalendarRow", "brand_calendar", "calendar_rows", "find_brand"]
