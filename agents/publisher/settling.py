"""Group commit of successes: the confirmed creates of one publisher that finish together are
settled in one statement (``store.settle_successes``), not one round trip each.

Nothing waits to fill a group: the first success starts a write at once, and the ones that
arrive while it runs go together in the next. Each caller learns its own result only after the
statement that carried it has committed. One refused row (a constraint) refuses the whole
statement, so a group refused for its data (a conflict, an invalid value) is written again one
success at a time: only the success at fault fails, and its caller handles that as it would its
own single write. A group that fails for any other reason (the database went away) fails for
each of its callers.
"""

from __future__ import annotations

import asyncio

from storage.errors import Conflict, Invalid
from storage.postgres import Database
from storage.postgres import publishing as store


class SuccessGroup:
    """Settles successes for one lease owner, grouped (see the module's docstring)."""

    def __init__(self, db: Database, owner: str) -> None:
        self.db, self.owner = db, owner
        self.pending: list[tuple[store.Success, asyncio.Future]] = []
        self.task: asyncio.Task | None = None
        self.statements = 0
        """Statements written (successes per statement = settled / statements)."""

    async def settle(self, success: store.Success) -> tuple[bool, bool]:
        """(attempt written, job written) of one success, settled with the others that finish
        with it (:func:`store.settle_successes`)."""
        future = asyncio.get_running_loop().create_future()
        self.pending.append((success, future))
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())
        # Shielded: a caller cancelled mid-write (its publisher stopping) leaves the write to
        # finish for the others; the success it carries is true either way.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        group: list[tuple[store.Success, asyncio.Future]] = []
        try:
            while self.pending:
                group, self.pending = self.pending, []
                await self._write(group)
        except asyncio.CancelledError:  # the loop is going away: nobody waits forever
            for _, future in group + self.pending:
                future.cancel()
            self.pending = []
            raise

    async def _write(self, group: list[tuple[store.Success, asyncio.Future]]) -> None:
        try:
            self.statements += 1
            results = await store.settle_successes(self.db, self.owner, [s for s, _ in group])
        except (Conflict, Invalid) as exc:  # a row refused: one at a time, so only the success at fault fails
            if len(group) == 1:
                _fail(group[0][1], exc)
                return
            for item in group:
                await self._write([item])
            return
        except Exception as exc:  # noqa: BLE001 - the database is away: every caller handles it as its own write's
            for _, future in group:
                _fail(future, exc)
            return
        for (_, future), result in zip(group, results, strict=True):
            if not future.done():
                future.set_result(result)


def _fail(future: asyncio.Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


__all__ = ["SuccessGroup"]
