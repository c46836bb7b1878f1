"""Numbered SQL migrations, applied automatically and idempotently at start.

Each file ``NNNN_name.sql`` runs once, in its own transaction, recorded in
``schema_migrations`` with a checksum. Concurrent starters serialize on an advisory lock; an
applied file that was edited afterwards is refused rather than silently diverging.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources


from storage.errors import Conflict

from .database import Database

_LOCK_KEY = 0x6B6169726F  # "kairo"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    folder = resources.files("storage.postgres") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


async def apply_migrations(db: Database) -> list[int]:
    """Bring the database's schema up to date; returns the versions applied now."""
    applied_now = []
    async with db.pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            # Under the lock: CREATE SCHEMA IF NOT EXISTS itself races between starters.
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {db.schema}")
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version integer PRIMARY KEY,
                       name text NOT NULL,
                       checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = {r["version"]: r["checksum"] for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")}
            for migration in available_migrations():
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise Conflict(
                            f"migration {migration.version} ({migration.name}) changed after it was applied",
                            details={"version": migration.version},
                        )
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
                applied_now.append(migration.version)
        finally:
            try:
                await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
            except BaseException:
                # Never return a connection that may still hold the lock to the pool.
                conn.terminate()
                raise
    return applied_now


__all__ = ["Migration", "apply_migrations", "available_migrations"]
