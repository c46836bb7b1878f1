"""The planning phase of a brand agent's cycle: new source documents → screen → scout → cards.

A cycle reads the documents the brand may read (its org's pasted sources and feeds, and public
ones) that arrived since its last planning, screens them against the brand's pillars in the
scout pool (a cheap vectorized pass: ``screen``), and only when some pass runs the full scout
on those (``scout``: persona, freshness, novelty, competitive angle, score, story joining).
The cards, the day's batch and an EventLog line are written in one fenced transaction of the
agent (``agent.write()``), so a host that lost the brand writes none of them.

"Since the last planning" is the ``planned_until`` time of the brand's latest scouting event
(a cycle's or an API scout's), minus a small overlap: a document committed just after a
planning began is read by the next one, and scouting a document twice is idempotent (its card
is refreshed, never duplicated). A brand never planned reads the scout's whole look-back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import structlog

from agents.scout.models import ScreenInput
from agents.scout.service import (
    LOOKBACK,
    ScoutState,
    read_scout_state,
    save_scout,
    scout_doc,
)
from storage.errors import Invalid
from storage.objects import EventLog, EventType
from storage.objects.base import utcnow
from storage.postgres import repositories as repo

log = structlog.get_logger(__name__)

OVERLAP = timedelta(minutes=10)
"""How far before the last planning's end a cycle reads again (late commits are not missed)."""
DOCS_PER_CYCLE = 1000
"""At most this many new documents (the newest) are screened per cycle."""

_LAST_PLANNED_SQL = (
    "SELECT max((meta->>'planned_until')::timestamptz) FROM event_log "
    "WHERE brand_id = $1 AND event_type = 'opportunity_created' AND meta ? 'planned_until'"
)


class PlanningAgent(Protocol):
    """What planning needs of a :class:`runtime.brand_agent.BrandAgent`."""

    brand_id: UUID
    db: Any
    engines: Any

    def write(self) -> Any: ...


@dataclass(frozen=True)
class PlanningReport:
    """What one planning phase did (the run's summary and the EventLog line carry it)."""

    new_docs: int
    screened_in: int = 0
    created: int = 0
    updated: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    batch_id: UUID | None = None
    skipped: str | None = None

    @property
    def note(self) -> str:
        if self.skipped:
            return f"planning: {self.skipped}"
        if not self.new_docs:
            return "planning: no new source documents"
        return (f"planning: screened {self.new_docs} source documents, {self.screened_in} on the brand's pillars, "
                f"{self.created} new cards, {self.updated} updated")  # fmt: skip

    @property
    def counts(self) -> dict[str, Any]:
        return {"new_docs": self.new_docs, "screened_in": self.screened_in, "created": self.created,
                "updated": self.updated, "outcomes": dict(self.outcomes)}  # fmt: skip


async def since_last_planning(conn: Any, brand_id: UUID, now: datetime) -> datetime:
    """Where this planning starts reading: the last planning's end minus :data:`OVERLAP`, at
    most :data:`LOOKBACK` ago."""
    last = await conn.fetchval(_LAST_PLANNED_SQL, brand_id)
    floor = now - LOOKBACK
    return floor if last is None else max(floor, last - OVERLAP)


async def plan(agent: PlanningAgent, run_id: UUID | None, *, now: datetime | None = None) -> PlanningReport:
    """One planning phase for ``agent``'s brand (see the module docstring)."""
    now = now or utcnow()
    async with agent.db.connection() as conn:
        since = await since_last_planning(conn, agent.brand_id, now)
        try:
            state = await read_scout_state(conn, agent.brand_id, since=since, limit=DOCS_PER_CYCLE)
        except Invalid as exc:  # no active pillar or persona: nothing to scout for
            return PlanningReport(new_docs=0, skipped=f"nothing to scout for ({exc.message})")
    if not state.docs:
        return PlanningReport(new_docs=0)
    screened = await agent.engines.call(
        "scout", "screen", ScreenInput(brands=[state.profile], docs=[scout_doc(d) for d in state.docs])
    )
    passing = set(screened.hits[0].doc_ids) if screened.hits else set()
    chosen = [d for d in state.docs if d.doc.id in passing]
    if not chosen:
        report = PlanningReport(new_docs=len(state.docs))
        await _record(agent, state, run_id, now, report)
        return report
    result = await agent.engines.call("scout", "scout", state.scout_input(now, chosen))
    async with agent.write() as conn:
        saved = await save_scout(conn, state, result, docs=len(chosen), now=now, run_id=run_id,
                                 meta={"new_docs": len(state.docs), "screened_in": len(chosen)})
    report = PlanningReport(new_docs=len(state.docs), screened_in=len(chosen), created=saved.created,
                            updated=saved.updated, outcomes=saved.outcomes, batch_id=saved.batch.id)  # fmt: skip
    log.info("agent.planned", **report.counts)
    return report


async def _record(agent: PlanningAgent, state: ScoutState, run_id: UUID | None, now: datetime,
                  report: PlanningReport) -> None:  # fmt: skip
    """A planning that made no card still leaves its line (and where it read up to)."""
    async with agent.write() as conn:
        await repo.event_log.insert(conn, EventLog(
            org_id=state.org_id, brand_id=agent.brand_id, run_id=run_id, event_type=EventType.OPPORTUNITY_CREATED,
            subject_type="planning", subject_id=str(run_id) if run_id else None, message=report.note,
            meta={**report.counts, "planned_until": now.isoformat()},
        ))  # fmt: skip


__all__ = ["DOCS_PER_CYCLE", "OVERLAP", "PlanningReport", "plan", "since_last_planning"]
