"""The embedded PostgreSQL as a Ray actor, so it lives as long as the cluster, not a driver.

``kairo up`` and ``serve run serve_config.yaml`` both need the system of record before any
agent starts. With ``KAIRO_DATABASE_URL`` set there is nothing to run; without it, this
detached actor starts the embedded server in the data dir (Unix socket only), applies the
migrations and hands out the DSN. A restarted actor takes the running server over (or starts
it again on the same data). Ray kills actors without running their shutdown, so a watchdog
process stops the server once the actor is gone for good (``serve run`` exiting, ``ray stop``).
"""

from __future__ import annotations

import ray

from storage.bootstrap import open_postgres
from storage.postgres import EmbeddedPostgres, embedded_watchdog

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
        self._adopted: EmbeddedPostgres | None = None
        self._watched = False
        if ray.get_runtime_context().was_current_actor_reconstructed:
            # Restarted after a crash: take the running server over at once (other actors'
            # pools use it), before the dead incarnation's watchdog would stop it.
            self._adopted = EmbeddedPostgres(settings.data_dir / "postgres")
            self._adopted.start()
            self._watch(self._adopted)

    async def dsn(self) -> str:
        """Start the server if needed (and migrate); its DSN."""
        if self._handle is None:
            s = self.settings
            self._handle = await open_postgres(
                database_url=None, data_dir=s.data_dir, schema=s.database_schema, pool_min=0, pool_max=1
            )
            self._watch(self._handle.embedded)
        return self._handle.embedded.dsn

    def _watch(self, server: EmbeddedPostgres) -> None:
        """One watchdog per actor process. Ray kills this actor without running atexit handlers;
        the watchdog stops the server then, unless another live process still uses it."""
        if not self._watched:
            embedded_watchdog.watch(server.data_dir)
            self._watched = True

    async def stop(self) -> None:
        if self._handle is not None:
            await self._handle.close()
            self._handle = None
        if self._adopted is not None:
            self._adopted.stop()
            self._adopted = None


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
