"""Cluster fixtures: the session's local Ray plus a migrated schema and onboarded brands."""

from __future__ import annotations


import pytest

from runtime.settings import Settings

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
async def cluster_db(embedded_postgres_dsn, data_root, fresh_schema):
    """A migrated schema of its own for each test module, dropped afterwards."""
    async with fresh_schema(embedded_postgres_dsn, data_root, prefix="c", pool_max=4) as handle:
        yield handle.db


@pytest.fixture(scope="module")
def cluster_settings(cluster_db, embedded_postgres_dsn, data_root, ray_cluster) -> Settings:
    return Settings(
        database_url=embedded_postgres_dsn, database_schema=cluster_db.schema, data_dir=data_root,
        ray_namespace="kairo-test", brand_hosts=2, agent_idle_seconds=3600, db_pool_max=2,
    )  # fmt: skip
