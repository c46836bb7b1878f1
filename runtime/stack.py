"""Start and stop a whole Kairo runtime on a Ray cluster (local or joined).

Order matters: the system of record first (migrated), then the operator bootstrap, the memory
service and engine pools, the brand hosts, the publishers (one per node) and the scheduler, and
the HTTP API last, so that the first request finds everything it needs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import ray
import structlog

from . import names
from .database import open_database
from .engines import start_engine_pools, stop_engine_pools
from .hosts import RayAgentGateway
from .memory_service import start_memory_service
from .placement import (
    alive_nodes,
    api_replicas,
    host_names,
    publisher_placements,
    resolve_brand_hosts,
    spread_engine_pools,
)
from .publisher import start_publisher
from .scheduler import start_scheduler
from .services import resolve_database, stop_embedded_postgres
from .settings import Settings

log = structlog.get_logger(__name__)
Step = Callable[[str], None]


@dataclass
class RuntimeInfo:
    settings: Settings
    api_url: str | None
    docs_url: str | None
    dashboard_url: str | None
    admin_key: str | None


def init_ray(settings: Settings, *, dashboard: bool = True) -> str | None:
    """Join ``RAY_ADDRESS`` when set, else start a local Ray on loopback; the dashboard URL."""
    address = os.environ.get("RAY_ADDRESS")
    if address:
        context = ray.init(address=address, namespace=settings.ray_namespace, ignore_reinit_error=True)
    else:
        # Local runs stay on 127.0.0.1: the process called runtime.loopback.prepare_local_ray()
        # before importing Ray (the CLI does), and the node address is pinned here.
        context = ray.init(
            namespace=settings.ray_namespace, include_dashboard=dashboard, dashboard_host="127.0.0.1",
            _node_ip_address="127.0.0.1", ignore_reinit_error=True, log_to_driver=False,
        )  # fmt: skip
    url = getattr(context, "dashboard_url", None)
    return f"http://{url}" if url and not url.startswith("http") else url


async def start_runtime(settings: Settings, *, api: bool = True, step: Step = lambda _: None) -> RuntimeInfo:
    from .api.bootstrap import bootstrap_operator

    step("Starting PostgreSQL and applying migrations")
    settings = resolve_brand_hosts(await resolve_database(settings), alive_nodes())
    handle = await open_database(settings, pool_min=0, pool_max=1)
    try:
        admin_key = await bootstrap_operator(handle.db)
    finally:
        await handle.close()
    step("Starting the memory service and engine pools")
    start_memory_service(settings)
    spread_engine_pools(settings)
    start_engine_pools(settings)
    step("Starting brand hosts")
    gateway = RayAgentGateway(settings)
    if not settings.host_per_brand:
        for name in host_names(settings.brand_hosts):
            await gateway.host(name).ready.remote()
    step("Starting the publishers and the scheduler")
    start_publishers(settings)
    start_scheduler(settings, partial(RayAgentGateway, settings))
    api_url = docs_url = None
    if api:
        step("Starting the HTTP API (Ray Serve)")
        from ray import serve

        from .api.app import api_application

        serve.start(http_options={"host": settings.api_host, "port": settings.api_port})
        serve.run(replicated(api_application(settings), settings), name=names.API_APP, route_prefix="/")
        api_url = f"http://{settings.api_host}:{settings.api_port}/v1"
        docs_url = f"http://{settings.api_host}:{settings.api_port}/docs"
    return RuntimeInfo(settings=settings, api_url=api_url, docs_url=docs_url, dashboard_url=None, admin_key=admin_key)


def start_publishers(settings: Settings) -> dict[str, Any]:
    """One publisher per alive node (``placement.publisher_placements``), created if absent:
    name → handle. They share the job leases, so each job is still published once."""
    return {
        name: start_publisher(settings, name=name, placement=placement)
        for name, placement in publisher_placements().items()
    }


def replicated(app: Any, settings: Settings) -> Any:
    """The API application with its replica count (``placement.api_replicas``), at most
    ``api_max_replicas_per_node`` per node, and Serve's health checks: a replica on a lost node
    is replaced, and the proxy routes to the replicas that still answer meanwhile."""
    from ray.serve import Application

    deployment = app._bound_deployment.options(  # noqa: SLF001 - options of a bound deployment keep its args
        num_replicas=api_replicas(settings, alive_nodes()),
        max_replicas_per_node=settings.api_max_replicas_per_node,
        health_check_period_s=settings.api_health_check_period_seconds,
        health_check_timeout_s=settings.api_health_check_timeout_seconds,
    )
    return Application(deployment)


def ensure_runtime(settings: Settings) -> Settings:
    """Make sure storage and every Kairo actor exist (idempotent); the resolved settings.

    Used by ``serve run serve_config.yaml``, whose application builder runs in a Ray task with no
    event loop of its own. The operator's first API key, if this created it, goes to the log.
    """
    import asyncio
    import concurrent.futures

    def run() -> RuntimeInfo:
        return asyncio.run(start_runtime(settings, api=False))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        info = run()
    else:  # called from async code: run the start-up on a thread with its own loop
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            info = pool.submit(run).result()
    if info.admin_key:
        log.warning("operator.api_key_created", api_key=info.admin_key,
                    note="shown once: store it now (first start of this installation)")
    return info.settings


def kairo_actors(settings: Settings) -> list[str]:
    """Names of Kairo's named actors alive in the namespace."""
    found = ray.util.list_named_actors(all_namespaces=True)
    return sorted(
        a["name"] for a in found if a.get("namespace") == settings.ray_namespace and a["name"].startswith("kairo-")
    )


async def stop_runtime(settings: Settings, *, api: bool = True) -> None:
    """Stop the API, passivate agents, kill Kairo's actors, stop the embedded PostgreSQL."""
    if api:
        try:
            from ray import serve

            serve.shutdown()
        except Exception:  # Serve was never started
            log.debug("serve.not_running")
    for name in kairo_actors(settings):
        if name.startswith(("kairo-host-", "kairo-brand-")):
            handle = ray.get_actor(name, namespace=settings.ray_namespace)
            try:
                await handle.shutdown.remote()
            except Exception:
                log.warning("host.shutdown_failed", host=name)
            ray.kill(handle, no_restart=True)
    stop_engine_pools(settings)
    publishers = [name for name in kairo_actors(settings) if name.startswith(names.PUBLISHER)]
    for name in (names.SCHEDULER, *publishers, names.MEMORY):
        try:
            ray.kill(ray.get_actor(name, namespace=settings.ray_namespace), no_restart=True)
        except ValueError:
            pass
    await stop_embedded_postgres(settings)
