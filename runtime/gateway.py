"""How callers reach a brand's agent, the memory service and the engine pools, whatever hosts them.

The HTTP API, the scheduler and the CLI depend on these small protocols. ``runtime.hosts``
implements them over Ray (agents in BrandHost actors); ``runtime.local`` implements them in
process, for tools and tests that run without a cluster.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from storage.memory.store import MemoryDraft, MemoryHit
from storage.objects import BrandMemoryFragment

from .commands import Command


class AgentGateway(Protocol):
    async def send(self, brand_id: UUID, command: Command) -> Any:
        """Deliver ``command`` to the brand's agent (activating it if needed); its result.

        Raises the agent's KairoError (NotFound, Conflict, Invalid) unchanged."""
        ...


class MemoryClient(Protocol):
    async def add(self, drafts: list[MemoryDraft]) -> list[BrandMemoryFragment]:
        """Remember ``drafts`` as one batch (one embedding call, one transaction): all of them
        with their vectors, or none. Callers that store many fragments (calibration, imports)
        pass them together rather than one call each; a draft whose id is already remembered
        makes the whole batch a Conflict."""
        ...

    async def search(self, brand_id: UUID, text: str, k: int) -> list[MemoryHit]:
        """The brand's ``k`` fragments nearest to ``text``, nearest first (repeated texts are
        answered from a cache of query vectors)."""
        ...


class EngineCaller(Protocol):
    """The engine pools as a caller reaches them (``runtime.engines.EngineRouter``)."""

    async def call(self, kind: str, op: str, payload: Any) -> Any: ...


class PooledEngine:
    """One engine pool with the engine's own call shape (``await engine.mine(payload)``), for
    the engines' service functions, which take the engine itself in tests and notebooks."""

    def __init__(self, engines: EngineCaller, kind: str) -> None:
        self._engines = engines
        self._kind = kind

    def __getattr__(self, op: str) -> Any:
        async def call(payload: Any) -> Any:
            return await self._engines.call(self._kind, op, payload)

        return call


async def call_engine(engines: EngineCaller, kind: str, op: str, payload: Any) -> Any:
    """``op`` of ``kind``'s pool; an error the engine raised on purpose (a KairoError, wrapped by
    Ray on the way as the ``cause`` of a task error) is raised as itself."""
    from storage.errors import KairoError

    try:
        return await engines.call(kind, op, payload)
    except KairoError:
        raise
    except Exception as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, KairoError):
            raise cause from None
        raise


def pooled(engines: EngineCaller, kind: str) -> Any:
    """``kind``'s pool, called as the engine is (typed ``Any``: it answers the engine's ops)."""
    return PooledEngine(engines, kind)
