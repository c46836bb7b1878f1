"""The embedded PostgreSQL as a Ray actor, so it lives as long as the cluster, not a driver.

``kairo up`` and ``serve run serve_config.yaml`` both need the system of record before any
agent starts. With ``KAIRO_DATABASE_URL`` set there is nothing to run; without it, this
detached actor starts the embedded server in the data dir (Unix socket only), applies the
migrations and hands out the DSN. A restarted actor starts the server again on the same data.
"""

from __future__ import annotations

import ray

from storage.bootstrap import open_postgres

from .database import open_database
from .logs import configure_logging
from .settings import Settings

EMBEDDED_POSTGRES = "kairo-embedded-postgres"


@ray.remote(num_cpus=0, max_restarts=-1)
class EmbeddedPostgresService:
    def __init__(self, settings: Settings) -> None:
        configure_logging(settings.log_level, settings.log_format)  # JSON lines in this actor too
        self.settings = settings
        self._handle = None

    async def dsn(self) -> str:
        """Start the server if needed (and migrate); its DSN."""
        if self._handle is None:
            s = self.settings
            self._handle = await open_postgres(
                database_url=None, data_dir=s.data_dir, schema=s.database_schema, pool_min=0, pool_max=1
            )
        return self._handle.embedded.dsn

    async def stop(self) -> None:
        if self._handle is not None:
            await self._handle.close()
            self._handle = None


async def resolve_database(settings: Settings) -> Settings:
    """Settings whose ``database_url`` points at a migrated database: the configured one
    (migrated here), or the embedded server run by the EmbeddedPostgresService actor."""
    if settings.database_url:
        handle = await open_database(settings, pool_min=0, pool_max=1, migrate=True)
        await handle.close()
        return settings
    service = EmbeddedPostgresService.options(
        name=EMBEDDED_POSTGRES, namespace=settings.ray_namespace, lifetime="detached", get_if_exists=True
    ).remote(settings)
    dsn = await service.dsn.remote()
    return settings.model_copy(update={"database_url": dsn})


async def stop_embedded_postgres(settings: Settings) -> None:
    try:
        service = ray.get_actor(EMBEDDED_POSTGRES, namespace=settings.ray_namespace)
    except ValueError:
        return
    await service.stop.remote()
    ray.kill(service, no_restart=True)
