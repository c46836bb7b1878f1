"""Fencing tokens: a brand agent writes only while its host's incarnation holds the brand.

A brand host that lost its brands without knowing it (its Ray node gone but its process alive,
a network partition, a long pause) must not keep writing next to the activation that replaced
it. Every write transaction of a brand agent therefore starts by locking the brand's row in
``agent_activations`` ``FOR SHARE`` where it still names this incarnation: a claim by another
incarnation (an ``UPDATE`` of that row) waits for the write to commit, and a write that finds
the row gone or taken is refused before anything is written. The transaction then stamps
``kairo.incarnation`` (transaction-local), which the ``incarnation`` columns of ``event_log``
and ``agent_runs`` default to, and which their trigger checks again (migration 0011). Reads
that answer as the brand's owner (``GetStatus``) check ``holds`` first, so a stale incarnation
never answers for a brand it lost (its host drops the agent instead).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from storage.errors import Conflict
from storage.postgres import Database

FENCE_SQL = "SELECT host FROM agent_activations WHERE brand_id = $1 AND incarnation = $2 FOR SHARE"
HOLDS_SQL = "SELECT EXISTS (SELECT 1 FROM agent_activations WHERE brand_id = $1 AND incarnation = $2)"
STAMP_SQL = "SELECT set_config('kairo.incarnation', $1, true)"


class ActivationLost(Conflict):
    """This agent's host no longer holds the brand's activation: the write was refused and
    nothing of it was written. ``details['applied']`` says whether an earlier write of the same
    command had already committed (a caller may re-send the command only when it had not)."""

    code = "activation_lost"


@dataclass(frozen=True)
class Fence:
    """The token one activation writes under: the brand, the host and its incarnation."""

    brand_id: UUID
    host: str
    incarnation: UUID

    def lost(self, *, applied: bool = False) -> ActivationLost:
        return ActivationLost(
            f"brand {self.brand_id}: host {self.host} (incarnation {self.incarnation}) no longer holds its activation",
            details={"brand_id": str(self.brand_id), "host": self.host, "incarnation": str(self.incarnation),
                     "applied": applied},
        )  # fmt: skip

    async def check(self, conn: Any) -> None:
        """Lock the activation row in the caller's transaction, or raise ActivationLost."""
        if await conn.fetchval(FENCE_SQL, self.brand_id, self.incarnation) is None:
            raise self.lost()
        await self.stamp(conn)

    async def holds(self, conn: Any) -> bool:
        """Whether this incarnation still holds the brand, read without a lock: what a read
        that answers as the brand's owner (``GetStatus``) checks before answering."""
        return bool(await conn.fetchval(HOLDS_SQL, self.brand_id, self.incarnation))

    async def stamp(self, conn: Any) -> None:
        """Make the transaction's events and runs record this incarnation."""
        await conn.execute(STAMP_SQL, str(self.incarnation))

    @asynccontextmanager
    async def transaction(self, db: Database) -> AsyncIterator[Any]:
        """One transaction that writes only while this incarnation holds the brand."""
        async with db.transaction() as conn:
            await self.check(conn)
            yield conn
