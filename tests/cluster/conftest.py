"""Cluster fixtures: the session's local Ray plus a migrated schema and onboarded brands."""

from __future__ import annotations

import uuid

import pytest

from runtime.settings import Settings
from storage.bootstrap import open_postgres

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
async def cluster_db(embedded_postgres_dsn, data_root):
    """A migrated schema of its own for each test module, dropped afterwards."""
    schema = f"c_{uuid.uuid4().hex[:12]}"
    handle = await open_postgres(database_url=embedded_postgres_dsn, data_dir=data_root, schema=schema, pool_max=4)
    yield handle.db
    async with handle.db.pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    await handle.close()


@pytest.fixture(scope="module")
def cluster_settings(cluster_db, embedded_postgres_dsn, data_root, ray_cluster) -> Settings:
    return Settings(
        database_url=embedded_postgres_dsn, database_schema=cluster_db.schema, data_dir=data_root,
        ray_namespace="kairo-test", brand_hosts=2, agent_idle_seconds=3600, db_pool_max=2,
    )  # fmt: skip
