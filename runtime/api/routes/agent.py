"""A brand's agent: its status and schedule, its runs, and the brand's event log.

Status, schedule changes and manual runs go through the gateway to the agent; the run history
and the event log are read from PostgreSQL.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import Depends, Response

from runtime.commands import AgentView, CycleResult, GetStatus, RunCycle, SetSchedule
from runtime.gateway import AgentGateway
from storage.objects import AgentRun, EventLog, RunTrigger
from storage.postgres import Database
from storage.postgres import repositories as repo

from ..access import READ, STRATEGY, BrandAccess
from ..schemas import AgentPatch
from ..routing import kairo_router
from ..services import database, gateway
from .queries import Cursor, Limit, by_created, owned, page_of, read_page

router = kairo_router("/v1/brands/{brand_id}", "agent")

RUNS = by_created("agent_runs", descending=True, column="started_at")
EVENTS = by_created("events", descending=True)
RunPage = page_of(AgentRun, "RunPage")
EventPage = page_of(EventLog, "EventPage")


@router.get("/agent", response_model=AgentView)
async def get_agent(access: BrandAccess = READ, agents: AgentGateway = Depends(gateway)) -> AgentView:
    """The agent's state, schedule and the versions it works from (activates it if needed)."""
    return AgentView.model_validate(await agents.send(access.brand.id, GetStatus()), from_attributes=True)


@router.patch("/agent", response_model=AgentView)
async def update_agent(
    body: AgentPatch,  # type: ignore[valid-type]
    access: BrandAccess = STRATEGY,
    agents: AgentGateway = Depends(gateway),
) -> AgentView:
    """Change the cadence or pause/resume (``expected_version`` = the status version read)."""
    command = SetSchedule.model_validate(body.model_dump(exclude_unset=True))
    return AgentView.model_validate(await agents.send(access.brand.id, command), from_attributes=True)


@router.post("/runs", response_model=CycleResult, status_code=201,
             responses={202: {"model": CycleResult, "description": "the run started and is still going"}})
async def start_run(
    response: Response, access: BrandAccess = STRATEGY, agents: AgentGateway = Depends(gateway)
) -> CycleResult:
    """Run one cycle now: 201 with the finished run, 202 when it is still running."""
    result = CycleResult.model_validate(
        await agents.send(access.brand.id, RunCycle(trigger=RunTrigger.MANUAL)), from_attributes=True
    )
    if result.run is None or result.run.finished_at is None:
        response.status_code = 202
    return result


@router.get("/runs", response_model=RunPage)
async def list_runs(
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database)
) -> RunPage:
    """Newest first."""
    async with db.connection() as conn:
        items, next_cursor = await read_page(
            conn, repo.agent_runs, "brand_id = $1", access.brand.id, order=RUNS, cursor=cursor, limit=limit
        )
    return RunPage(items=items, next_cursor=next_cursor)


@router.get("/runs/{run_id}", response_model=AgentRun)
async def get_run(run_id: UUID, access: BrandAccess = READ, db: Database = Depends(database)) -> AgentRun:
    async with db.connection() as conn:
        return await owned(conn, repo.agent_runs, access.brand.id, run_id)


@router.get("/events", response_model=EventPage)
async def list_events(
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database)
) -> EventPage:
    """The brand's audit log, newest first."""
    async with db.connection() as conn:
        items, next_cursor = await read_page(
            conn, repo.event_log, "brand_id = $1", access.brand.id, order=EVENTS, cursor=cursor, limit=limit
        )
    return EventPage(items=items, next_cursor=next_cursor)
