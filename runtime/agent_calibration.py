"""A brand agent's ``Calibrate`` command: the voice learned in the scout pool, written by the
agent with its own versions.

1. the calibration engine (``scout`` pool, op ``calibrate``) turns the agent's snapshot and
   runtime context plus the examples into drafts: snapshot n+1, the context's tone knobs, one
   memory draft per example chunk, the event with before/after values;
2. snapshot, runtime context and the calibration's EventLog line are written in one fenced
   transaction of the agent (``agent.write()``), based on the versions the engine started from:
   a host that lost the brand, or a snapshot written meanwhile, writes none of it;
3. the memory drafts come back with the result, and the caller, who holds the brand's memory
   client (the API replica, a tool), remembers them (:func:`remember`): memory is not agent
   state, and a brand host has no memory client of its own. A memory that fails then leaves a
   valid snapshot whose examples are not remembered yet; calibrating again remembers them.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

import structlog

from agents.brand_brain.calibration_store import MemoryWriter, write_brain
from agents.calibration.models import CalibrationInput, CalibrationResult
from storage.errors import expect_version

from .commands import Calibrate, Calibrated

log = structlog.get_logger(__name__)


class CalibratingAgent(Protocol):
    """What calibration needs of a :class:`runtime.brand_agent.BrandAgent`."""

    brand_id: UUID
    db: Any
    engines: Any
    brand: Any
    snapshot: Any
    context: Any

    def write(self) -> Any: ...


async def calibrate(agent: CalibratingAgent, command: Calibrate) -> Calibrated:
    """Run ``command`` for ``agent`` (see the module docstring); the agent's cached snapshot and
    context are the written ones afterwards."""
    expect_version("snapshot", command.expected_version, agent.snapshot.version)
    result: CalibrationResult = await agent.engines.call("scout", "calibrate", CalibrationInput(
        snapshot=agent.snapshot, runtime_context=agent.context, examples=command.examples,
        banned_words=command.banned_words, trigger=command.trigger,
    ))  # fmt: skip
    drafts = list(result.memory_drafts)
    async with agent.write() as conn:
        snapshot, context, _ = await write_brain(conn, result, agent.brand.org_id, command.user_id, len(drafts))
    agent.snapshot, agent.context = snapshot, context
    log.info("agent.calibrated", snapshot_version=snapshot.version, memory_drafts=len(drafts))
    return Calibrated(snapshot=snapshot, runtime_context=context, calibration=result.event, tone=result.tone,
                      markers=list(result.markers), memory_drafts=drafts)  # fmt: skip


async def remember(memory: MemoryWriter, done: Calibrated) -> int:
    """Add a calibration's examples to the brand's memory (one batch); how many fragments."""
    return len(await memory.add(list(done.memory_drafts))) if done.memory_drafts else 0


__all__ = ["calibrate", "remember"]
