"""BrandAgent: the one logical agent of a brand, hosted in memory by a BrandHost.

It owns the brand's runtime context, latest snapshot, preferences and agent status, and
processes one command at a time: every command runs under the agent's lock, so two commands
never interleave across an ``await``. PostgreSQL is the truth and memory a cache: every write
carries the version it was based on, and a conflict reloads the cache before surfacing.

Every write runs in a fenced transaction (``runtime/fencing.py``): it first checks that the
brand's activation row still holds this host's incarnation, and is refused otherwise with
nothing written. On the first refusal the agent is lost for good: it tells its host
(``on_lost``), which drops it from memory, and refuses every later command without a write.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import structlog
from pydantic import ValidationError

from agents.brand_agent import is_due, schedule_next, transition
from agents.brand_brain.defaults import default_override
from storage.errors import Conflict, Invalid, KairoError, expect_version
from storage.objects import (
    AgentRun,
    AgentState,
    AgentStatus,
    Brand,
    BrandBrainSnapshot,
    BrandPreferences,
    BrandRuntimeContext,
    EventLog,
    EventType,
    RunResult,
    RunTrigger,
)
from storage.objects.base import new_id, utcnow
from storage.postgres import Database
from storage.postgres import repositories as repo

from . import agent_calibration, agent_writing
from .agent_planning import plan
from .commands import (
    AgentView,
    Calibrate,
    CreateSnapshot,
    CycleResult,
    EditVariant,
    GetStatus,
    KillPackage,
    Noop,
    RegenerateVariants,
    ReviewVariant,
    RunCycle,
    SetSchedule,
    SnapshotCreated,
    UpdateRuntimeContext,
    Wake,
    WritePackage,
)
from .fencing import ActivationLost, Fence
from .logs import bound_context

log = structlog.get_logger(__name__)

class EngineCaller(Protocol):
    async def call(self, kind: str, op: str, payload: Any) -> Any: ...


def invalid_from(exc: ValidationError) -> Invalid:
    """A pydantic error as Kairo's Invalid, naming the first offending field."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    return Invalid(first["msg"], details={"field": field, "errors": exc.errors(include_url=False, include_input=False)})


class BrandAgent:
    """``fence`` is the activation's token (None only in process, where no host claims brands:
    ``runtime.local``); ``on_lost`` is called once, with the agent, when a write was refused."""

    def __init__(self, brand_id: UUID, db: Database, engines: EngineCaller, host: str, *,
                 fence: Fence | None = None, on_lost: Callable[[BrandAgent], None] | None = None,
                 fetch: Any = None) -> None:
        self.brand_id = brand_id
        self.db = db
        self.engines = engines
        self.host = host
        self.fence = fence
        self.on_lost = on_lost
        self.fetch = fetch  # the FetchConfig of the pages it is asked to write about (None: agent_pages.PAGE_FETCH)
        self.lost = False
        self._commits = 0  # fenced transactions committed by the current command
        self.lock = asyncio.Lock()
        self.last_used = time.monotonic()
        self.activated_at: datetime = utcnow()
        self.brand: Brand
        self.status: AgentStatus
        self.snapshot: BrandBrainSnapshot
        self.context: BrandRuntimeContext
        self.preferences: BrandPreferences | None

    # -- lifecycle ------------------------------------------------------------------------------

    async def load(self, conn: Any = None) -> None:
        """Read the brand's state from PostgreSQL (activation, and after a conflict), in the
        caller's transaction when one is given."""
        if conn is None:
            async with self.db.transaction() as own:
                return await self.load(own)
        self.brand = await repo.brands.get(conn, self.brand_id)
        self.status = await repo.agent_states.ensure(conn, self.brand_id)
        snapshot = await repo.snapshots.latest(conn, self.brand_id)
        context = await repo.runtime_contexts.for_brand(conn, self.brand_id)
        self.preferences = await repo.brand_preferences.for_brand(conn, self.brand_id)
        if snapshot is None or context is None:
            raise Conflict("the brand has not finished onboarding", details={"brand_id": str(self.brand_id)})
        self.snapshot, self.context = snapshot, context

    def _mark_lost(self) -> None:
        if self.lost:
            return
        self.lost = True
        log.warning("agent.activation_lost", brand_id=str(self.brand_id), host=self.host,
                    incarnation=str(self.fence.incarnation) if self.fence else None)
        if self.on_lost is not None:
            self.on_lost(self)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Any]:
        """The one way this agent writes: a transaction fenced by its activation (see the module
        docstring). Engine results the agent stores (cards, packages, variants, jobs) go through
        it too, so a host that lost the brand writes none of them."""
        if self.lost:
            raise self.fence.lost() if self.fence else ActivationLost("the agent was stopped")
        if self.fence is None:
            async with self.db.transaction() as conn:
                yield conn
        else:
            try:
                async with self.fence.transaction(self.db) as conn:
                    yield conn
            except ActivationLost:
                self._mark_lost()
                raise
        self._commits += 1

    @property
    def idle_seconds(self) -> float:
        return time.monotonic() - self.last_used

    # -- the mailbox ----------------------------------------------------------------------------

    async def handle(self, command: Any) -> Any:
        """Run one command; commands queue on the agent's lock and never interleave."""
        async with self.lock:
            if self.lost:  # a command that queued behind the refused one
                raise self.fence.lost() if self.fence else ActivationLost("the agent was stopped")
            self.last_used = time.monotonic()
            self._commits = 0
            with bound_context(brand_id=str(self.brand_id), command=command.kind):
                try:
                    return await self._dispatch_fresh(command)
                except ValidationError as exc:
                    raise invalid_from(exc) from None
                except ActivationLost as exc:
                    self._mark_lost()
                    exc.details["applied"] = self._commits > 0
                    raise
                except Conflict:
                    await self.load()  # our cache may be what was stale
                    raise
                finally:
                    self.last_used = time.monotonic()

    async def _dispatch_fresh(self, command: Any) -> Any:
        """Run a command; when it is refused as stale because the agent's own cache was behind
        (a write made around the agent, such as ``kairo calibrate`` from a shell) and nothing was
        written yet, read the brand again and run it once more against what is stored."""
        try:
            return await self._dispatch(command)
        except Conflict:
            seen = self._versions()
            await self.load()
            if self._commits or self._versions() == seen:
                raise  # a real conflict: the caller's version is the stale one
        return await self._dispatch(command)

    def _versions(self) -> tuple[int, int, int]:
        return self.snapshot.version, self.context.version, self.status.version

    async def _dispatch(self, command: Any) -> Any:
        handlers: dict[type, Callable[[Any], Awaitable[Any]]] = {
            GetStatus: self._get_status,
            Noop: self._noop,
            UpdateRuntimeContext: self._update_runtime_context,
            CreateSnapshot: self._create_snapshot,
            RunCycle: self._run_cycle,
            Wake: self._wake,
            SetSchedule: self._set_schedule,
            WritePackage: lambda c: agent_writing.write(self, c),
            EditVariant: lambda c: agent_writing.edit(self, c),
            ReviewVariant: lambda c: agent_writing.review(self, c),
            RegenerateVariants: lambda c: agent_writing.regenerate(self, c),
            KillPackage: lambda c: agent_writing.kill(self, c),
            Calibrate: lambda c: agent_calibration.calibrate(self, c),
        }
        return await handlers[type(command)](command)

    async def _noop(self, _: Noop) -> None:
        return None

    async def _get_status(self, _: GetStatus) -> AgentView:
        return AgentView(
            status=self.status, snapshot_version=self.snapshot.version,
            runtime_context_version=self.context.version, host=self.host, activated_at=self.activated_at,
        )  # fmt: skip

    # -- strategy and knobs ---------------------------------------------------------------------

    async def _update_runtime_context(self, command: UpdateRuntimeContext) -> BrandRuntimeContext:
        expect_version("runtime context", command.expected_version, self.context.version)
        overrides = dict(self.context.channel_overrides)
        for channel in command.remove_channels:
            overrides.pop(channel, None)
        for channel, patch in command.channel_overrides.items():
            current = overrides.get(channel) or default_override(channel)
            changes = patch.model_dump(exclude_none=True)
            if "tone_bias" in changes:
                changes["tone_bias"] = {**current.tone_bias, **changes["tone_bias"]}
            overrides[channel] = current.model_validate({**current.model_dump(), **changes})
        updated = BrandRuntimeContext.model_validate({**self.context.model_dump(), "channel_overrides": overrides})
        async with self.write() as conn:
            saved = await repo.runtime_contexts.save(conn, updated, expected_version=command.expected_version)
            await self._event(conn, EventType.RUNTIME_CONTEXT_UPDATED, "runtime_context", saved.id,
                              f"runtime context v{saved.version}",
                              {"channels": sorted(command.channel_overrides), "removed": sorted(command.remove_channels)})
        self.context = saved
        return saved

    async def _create_snapshot(self, command: CreateSnapshot) -> SnapshotCreated:
        expect_version("snapshot", command.expected_version, self.snapshot.version)
        changes = command.model_dump(exclude_none=True, exclude={"kind", "expected_version"})
        draft = BrandBrainSnapshot.model_validate(
            {**self.snapshot.model_dump(), **changes, "id": new_id(), "created_at": utcnow()}
        )
        async with self.write() as conn:
            snapshot = await repo.snapshots.create_next(conn, draft, expected_version=command.expected_version)
            context = await repo.runtime_contexts.save(
                conn, self.context.model_copy(update={"brand_brain_snapshot_id": snapshot.id}),
                expected_version=self.context.version,
            )  # fmt: skip
            await self._event(conn, EventType.SNAPSHOT_CREATED, "snapshot", snapshot.id,
                              f"strategy snapshot v{snapshot.version}", {"changed": sorted(changes)})
        self.snapshot, self.context = snapshot, context
        return SnapshotCreated(snapshot=snapshot, runtime_context=context)

    async def _set_schedule(self, command: SetSchedule) -> AgentView:
        expect_version("agent status", command.expected_version, self.status.version)
        changes = command.model_dump(exclude_none=True, include={"cadence_seconds", "paused"})
        status = schedule_next(AgentStatus.model_validate({**self.status.model_dump(), **changes}), now=utcnow())
        await self._save_status(status, "schedule changed", changes)
        return await self._get_status(GetStatus())

    # -- the autonomous cycle -------------------------------------------------------------------

    async def _wake(self, _: Wake) -> CycleResult:
        if not is_due(self.status, now=utcnow()):
            return CycleResult(run=None, status=self.status)
        return await self._run_cycle(RunCycle(trigger=RunTrigger.SCHEDULE))

    async def _run_cycle(self, command: RunCycle) -> CycleResult:
        run = AgentRun(brand_id=self.brand_id, trigger_type=command.trigger)
        async with self.write() as conn:
            await repo.agent_runs.insert(conn, run)
            await self._event(conn, EventType.RUN_STARTED, "run", run.id, f"{command.trigger} run started", {},
                              run_id=run.id)
        with bound_context(run_id=str(run.id)):
            notes: list[str] = []
            result = RunResult.SUCCESS
            try:
                await self._move(AgentState.PLANNING, run.id)
                notes.append(await self._plan(run.id))
                await self._move(AgentState.CREATING, run.id)
                if created := await agent_writing.create(self, run.id):  # its variants wait for approval
                    notes.append(created)
                # Publishing, analyzing and adapting join the cycle with their engines
                # (publisher, learner); until then a cycle ends after creating.
                await self._move(AgentState.IDLE, run.id)
            except ActivationLost:  # another activation owns the brand now: record nothing
                raise
            except KairoError as exc:
                result = RunResult.ERROR
                notes.append(f"{exc.code}: {exc.message}")
                await self._move(AgentState.ERROR, run.id, error=exc.message[:500])
            except Exception as exc:  # an engine or a dependency failed: the agent records it
                log.exception("agent.cycle_failed")
                result = RunResult.ERROR
                notes.append(f"{type(exc).__name__}: {exc}")
                await self._move(AgentState.ERROR, run.id, error=f"{type(exc).__name__}: {exc}"[:500])
            finished = AgentRun.model_validate(
                {**run.model_dump(), "finished_at": utcnow(), "result": result, "summary": "; ".join(notes)}
            )
            status = schedule_next(self.status, now=utcnow()).model_copy(update={"last_run_id": run.id})
            async with self.write() as conn:
                await repo.agent_runs.update(conn, finished)
                saved = await repo.agent_states.save(conn, status, expected_version=self.status.version)
                await self._event(conn, EventType.RUN_FINISHED, "run", run.id, f"run finished: {result}",
                                  {"result": str(result)}, run_id=run.id)
            self.status = saved
        return CycleResult(run=finished, status=saved)

    async def _plan(self, run_id: UUID) -> str:
        """New source documents screened and scouted into the day's cards (``agent_planning``)."""
        return (await plan(self, run_id)).note

    # -- persistence helpers --------------------------------------------------------------------

    async def _move(self, state: AgentState, run_id: UUID | None, *, error: str | None = None) -> None:
        previous = self.status.state
        await self._save_status(transition(self.status, state, now=utcnow(), error=error),
                                f"{previous} → {state}", {"from": str(previous), "to": str(state)}, run_id=run_id)

    async def _save_status(self, status: AgentStatus, message: str, meta: dict[str, Any], *,
                           run_id: UUID | None = None) -> None:
        async with self.write() as conn:
            saved = await repo.agent_states.save(conn, status, expected_version=self.status.version)
            await self._event(conn, EventType.AGENT_STATE_CHANGED, "agent", self.brand_id, message, meta,
                              run_id=run_id)
        self.status = saved

    async def _event(self, conn: Any, event_type: EventType, subject_type: str, subject_id: Any, message: str,
                     meta: dict[str, Any], *, run_id: UUID | None = None) -> None:
        await repo.event_log.insert(conn, EventLog(
            org_id=self.brand.org_id, brand_id=self.brand_id, run_id=run_id, event_type=event_type,
            subject_type=subject_type, subject_id=str(subject_id), message=message, meta=meta,
        ))  # fmt: skip

