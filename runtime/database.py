"""Settings → the system of record: one way for every Kairo process to open its own small pool."""

from __future__ import annotations

from storage.bootstrap import PostgresHandle, open_postgres

from .settings import Settings


async def open_database(
    settings: Settings, *, pool_max: int, pool_min: int = 1, migrate: bool = False
) -> PostgresHandle:
    """A pool on the configured database (``settings.database_url``, already resolved to the
    embedded server's DSN by the process that started Kairo). Only start-up migrates; actors,
    replicas and tools connect to a migrated schema."""
    return await open_postgres(
        database_url=settings.database_url, data_dir=settings.data_dir, schema=settings.database_schema,
        pool_min=pool_min, pool_max=pool_max, migrate=migrate,
    )  # fmt: skip
