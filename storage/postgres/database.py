"""A small asyncpg pool per process, explicit transactions, and error translation."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from storage.errors import Conflict, Invalid, NotFound, UpstreamFailure

SCHEMA_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Constraints whose violation is a state conflict rather than bad input.
_CONFLICT_CONSTRAINTS = re.compile(
    r"(_unique|_one_per_\w+|_dedupe|_immutable|_version_sequence|_locked|_keeps_active_admin)$"
)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection goes through on its way back to the pool, besides asyncpg's own rollback
    of an open transaction: nothing. asyncpg's default sends ``pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL`` — one more round trip for every pooled query — and Kairo leaves
    none of that behind: its locks and settings are transaction-scoped (``pg_advisory_xact_lock``,
    ``SET LOCAL``), and the migration lock, the one session lock, is released (or its connection
    terminated) before the connection goes back."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


class Database:
    """An asyncpg pool bound to one schema.

    Pools stay small (default 1–4 connections): every Ray process holds its own pool and the
    server's connection budget is shared by all of them.
    """

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = schema

    @classmethod
    async def connect(
        cls, dsn: str, *, schema: str = "public", min_size: int = 1, max_size: int = 4
    ) -> Database:
        if not SCHEMA_PATTERN.match(schema):
            raise Invalid(f"schema name {schema!r} is not a plain identifier", details={"field": "schema"})
        try:
            pool = await asyncpg.create_pool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                init=_init_connection,
                reset=_keep_session,
                server_settings={"search_path": schema, "application_name": "kairo"},
            )
        except (OSError, asyncpg.PostgresError) as exc:
            raise UpstreamFailure(f"cannot connect to PostgreSQL: {exc}") from exc
        return cls(pool, schema)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection in autocommit mode, for reads; errors are translated."""
        async with self.pool.acquire() as conn:
            with translate_errors():
                yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection inside one transaction: committed on success, rolled back on any
        exception, cancellation included. A connection whose rollback fails is discarded."""
        async with self.pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            try:
                with translate_errors():
                    yield conn
            except BaseException:
                try:
                    await asyncio.shield(tx.rollback())
                except BaseException:
                    conn.terminate()
                raise
            else:
                with translate_errors():
                    await tx.commit()


class translate_errors:
    """Turn asyncpg errors into Kairo errors that name the constraint that was broken."""

    def __enter__(self) -> translate_errors:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or not isinstance(exc, asyncpg.PostgresError):
            return False
        raise database_error(exc) from exc


def database_error(exc: asyncpg.PostgresError) -> Exception:
    """The Kairo error for a PostgreSQL refusal, naming the constraint. The server's own report
    travels with it as ``error.database`` (it survives pickling between processes), so an HTTP
    boundary can answer in its own words and log PostgreSQL's."""
    error = _database_error(exc)
    error.database = {  # type: ignore[attr-defined]
        "sqlstate": exc.sqlstate, "message": getattr(exc, "message", None) or str(exc),
        "detail": getattr(exc, "detail", None), "constraint": getattr(exc, "constraint_name", None),
        "table": getattr(exc, "table_name", None), "column": getattr(exc, "column_name", None),
    }  # fmt: skip
    return error


def _database_error(exc: asyncpg.PostgresError) -> Exception:
    constraint = getattr(exc, "constraint_name", None)
    column = getattr(exc, "column_name", None)
    details = {k: v for k, v in {"constraint": constraint, "field": column, "table": getattr(exc, "table_name", None)}.items() if v}
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return Invalid(f"a referenced object does not exist: {exc.detail or message}", details=details)
    if isinstance(exc, asyncpg.UniqueViolationError):
        return Conflict(f"already exists: {exc.detail or message}", details=details)
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        if constraint and _CONFLICT_CONSTRAINTS.search(constraint):
            return Conflict(message, details=details)
        return Invalid(message, details=details)
    if isinstance(exc, asyncpg.DataError):
        return Invalid(message, details=details)
    if isinstance(exc, asyncpg.exceptions.SerializationError | asyncpg.exceptions.DeadlockDetectedError):
        return Conflict(message, details=details)
    return UpstreamFailure(f"database error: {message}", details=details)


__all__ = ["Database", "NotFound", "database_error", "translate_errors"]
