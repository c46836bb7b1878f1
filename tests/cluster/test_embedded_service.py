"""The EmbeddedPostgresService actor on a real local Ray: its server survives a restart of the
actor (the new incarnation takes it over) and stops once the actor is gone for good — Ray kills
actors without running their shutdown, so this is the watchdog's work."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
import ray

from runtime.services import EmbeddedPostgresService
from runtime.settings import Settings
from tests.integration.test_embedded_watchdog import server_running, stop_if_running, wait_for, watchdogs

pytestmark = pytest.mark.cluster

NAMESPACE = "kairo-test"


async def test_the_server_outlives_an_actor_restart_and_stops_with_the_actor(ray_cluster, data_root):
    data_dir = data_root / f"service-{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=data_dir, ray_namespace=NAMESPACE)  # no database_url: embedded
    service = EmbeddedPostgresService.options(name=f"kairo-pg-{data_dir.name}", namespace=NAMESPACE).remote(settings)
    pgdata = (data_dir / "postgres").resolve()
    try:
        dsn = await service.dsn.remote()
        first = watchdogs(pgdata)
        assert len(first) == 1

        ray.kill(service, no_restart=False)  # a crash: Ray restarts the actor
        # The dead incarnation's watchdog waits out its grace, finds the new one's handle, leaves.
        assert wait_for(lambda: not any(p.is_running() for p in first), seconds=90)
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()
        assert watchdogs(pgdata), "the restarted actor watches the server too"

        ray.kill(service, no_restart=True)  # gone for good, without running its shutdown
        assert wait_for(lambda: not server_running(pgdata), seconds=90)
    finally:
        try:
            ray.kill(service, no_restart=True)
        except Exception:
            pass
        stop_if_running(pgdata)
