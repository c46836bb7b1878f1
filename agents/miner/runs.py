"""How a mining run is recorded: an AgentRun of the brand and two EventLog lines.

A brand's run is an ``AgentRun`` (trigger as given, ``manual`` from the API and the CLI) whose
``summary`` says what it did in words, with a ``run_started`` line when it begins and a
``run_finished`` line when it ends (``subject_type`` ``pattern_mining``, ``subject_id`` the run's
id, ``run_id`` set), the finished line carrying the counts in ``meta``.

A global run (swipe files, no brand) has no AgentRun: an AgentRun is one brand's (its
``brand_id`` is required), and a global run belongs to no brand. It is recorded by the same two
EventLog lines with no brand and no org, ``run_id`` null and the run's own id as
``subject_id``, so both kinds of run are read the same way from the log.

A run that fails is finished with result ``error`` and the error's words, so no run is left
open by a failure the caller sees.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from storage.errors import NotFound
from storage.objects import AgentRun, EventLog, EventType, RunResult, RunTrigger
from storage.objects.base import new_id, utcnow
from storage.postgres import repositories as repo

SUBJECT = "pattern_mining"


@dataclass(frozen=True)
class MiningCounts:
    """What one run did (the ``meta`` of its ``run_finished`` line)."""

    posts_read: int = 0
    beats: int = 0
    distinct_signatures: int = 0
    clusters: int = 0
    templates_created: int = 0
    templates_merged: int = 0  # existing templates that gained evidence
    unassigned: int = 0  # posts whose structure has too little evidence for a template yet
    failures: int = 0  # posts in which no beat was found, plus a hook library that failed
    hooks_indexed: int = 0  # hooks new to the library
    hooks_removed: int = 0  # hooks of posts no longer among the scope's best performers

    def as_meta(self) -> dict[str, int]:
        return asdict(self)

    def summary(self) -> str:
        return (f"read {self.posts_read} posts ({self.beats} beats, {self.distinct_signatures} structures, "
                f"{self.clusters} clusters): {self.templates_created} templates created, "
                f"{self.templates_merged} merged, {self.unassigned} posts in no template, "
                f"{self.failures} failures, {self.hooks_indexed} hooks indexed, {self.hooks_removed} removed")


@dataclass(frozen=True)
class MiningRunRecord:
    id: UUID
    brand_id: UUID | None
    org_id: UUID | None
    user_id: UUID | None
    agent_run: AgentRun | None  # None for a global run


async def org_of(conn: Any, brand_id: UUID) -> UUID:
    org_id = await conn.fetchval("SELECT org_id FROM brands WHERE id = $1", brand_id)
    if org_id is None:
        raise NotFound(f"Brand {brand_id} not found", details={"field": "brand_id", "id": str(brand_id)})
    return org_id


async def start_run(conn: Any, brand_id: UUID | None, trigger: RunTrigger = RunTrigger.MANUAL,
                    user_id: UUID | None = None) -> MiningRunRecord:
    """Open the run (its AgentRun for a brand) and write its ``run_started`` line."""
    if brand_id is not None:
        org_id: UUID | None = await org_of(conn, brand_id)
        run: AgentRun | None = await repo.agent_runs.insert(conn, AgentRun(brand_id=brand_id, trigger_type=trigger))
        record = MiningRunRecord(run.id, brand_id, org_id, user_id, run)
    else:
        record = MiningRunRecord(new_id(), None, None, user_id, None)
    scope = "the brand's posts" if brand_id is not None else "the global swipe files"
    await _line(conn, record, EventType.RUN_STARTED, f"pattern mining of {scope} started ({trigger})",
                {"trigger": str(trigger), "scope": "brand" if brand_id is not None else "global"})
    return record


async def finish_run(conn: Any, record: MiningRunRecord, result: RunResult, counts: MiningCounts,
                     notes: list[str] | tuple[str, ...] = ()) -> AgentRun | None:
    """Close the run with its result, summary and counts; returns the finished AgentRun."""
    summary = "; ".join([counts.summary(), *notes])
    finished = None
    if record.agent_run is not None:
        finished = AgentRun.model_validate({**record.agent_run.model_dump(), "finished_at": utcnow(),
                                            "result": result, "summary": summary})
        await repo.agent_runs.update(conn, finished)
    await _line(conn, record, EventType.RUN_FINISHED, f"pattern mining {result}: {summary}"[:4000],
                {**counts.as_meta(), "result": str(result), "notes": list(notes)})
    return finished


async def _line(conn: Any, record: MiningRunRecord, event_type: EventType, message: str, meta: dict[str, Any]) -> None:
    await repo.event_log.insert(conn, EventLog(
        org_id=record.org_id, brand_id=record.brand_id, user_id=record.user_id,
        run_id=record.agent_run.id if record.agent_run is not None else None, event_type=event_type,
        subject_type=SUBJECT, subject_id=str(record.id), message=message, meta=meta,
    ))  # fmt: skip
