"""Open the storage a Kairo process needs: PostgreSQL (embedded or by DSN) and migrations.

Callers (the runtime's settings) pass plain values in; nothing here reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog

from .postgres import Database, EmbeddedPostgres, apply_migrations

log = structlog.get_logger(__name__)


@dataclass
class PostgresHandle:
    """A connected, migrated database and, for the embedded default, the server behind it."""

    db: Database
    embedded: EmbeddedPostgres | None

    async def close(self) -> None:
        await self.db.close()
        if self.embedded is not None:
            self.embedded.stop()


async def open_postgres(
    *,
    database_url: str | None,
    data_dir: Path,
    schema: str = "public",
    pool_min: int = 1,
    pool_max: int = 4,
    migrate: bool = True,
) -> PostgresHandle:
    """Connect to ``database_url``, or start the embedded server under ``data_dir/postgres``
    when no URL is given; apply pending migrations."""
    embedded = None
    dsn = database_url
    if dsn is None:
        embedded = EmbeddedPostgres(Path(data_dir) / "postgres")
        dsn = embedded.start()
        log.info("postgres.embedded.started", data_dir=str(embedded.data_dir))
    try:
        db = await Database.connect(dsn, schema=schema, min_size=pool_min, max_size=pool_max)
        if migrate:
            applied = await apply_migrations(db)
            if applied:
                log.info("postgres.migrated", versions=applied, schema=schema)
    except BaseException:
        if embedded is not None:
            embedded.stop()
        raise
    return PostgresHandle(db=db, embedded=embedded)
