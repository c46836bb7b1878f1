"""The operator's commands: ``up``, ``status``, ``brand list|status|run``, ``db stop``, ``fakes`` and
``keys new|rotate``."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any
from uuid import UUID

from rich.table import Table

from ..settings import Settings
from . import common
from .common import console


def up(settings: Settings, args: argparse.Namespace) -> int:
    """Start Kairo (Ray, storage, agents, scheduler, publishers, HTTP API) until Ctrl-C."""
    from .. import stack

    if args.port:
        settings = settings.model_copy(update={"api_port": args.port})
    if settings.publisher_autostart is None:  # `kairo up` publishes unless told not to
        settings = settings.model_copy(update={"publisher_autostart": True})
    with common.progress() as progress:
        task = progress.add_task("Starting Ray", total=None)
        dashboard = stack.init_ray(settings, dashboard=not args.no_dashboard)
        info = asyncio.run(stack.start_runtime(settings, step=lambda t: progress.update(task, description=t)))
        progress.update(task, description="Kairo is up")
    table = Table(title="Kairo is up", show_header=False)
    table.add_row("API", info.api_url)
    table.add_row("API docs", info.docs_url)
    table.add_row("Ray dashboard", dashboard or "disabled")
    table.add_row("data dir", str(settings.data_dir))
    console.print(table)
    if info.admin_key:
        console.print(
            "[bold yellow]First start: the operator admin's API key (shown once, store it now):[/bold yellow]\n"
            f"  {info.admin_key}"
        )
    console.print("Press Ctrl-C to stop.")
    stop = asyncio.Event()

    async def wait() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        console.print("Stopping Kairo…")
        await stack.stop_runtime(info.settings)

    asyncio.run(wait())
    import ray

    ray.shutdown()
    console.print("Stopped.")
    return 0


def status(settings: Settings, _: argparse.Namespace) -> int:
    """Each Kairo actor of the running cluster with what it reports of itself."""
    common.join(settings)
    import ray

    from .. import names
    from ..stack import kairo_actors

    table = Table(title="Kairo actors")
    table.add_column("actor")
    table.add_column("state")
    for name in kairo_actors(settings):
        handle = ray.get_actor(name, namespace=settings.ray_namespace)
        method = "status" if name == names.SCHEDULER or name.startswith(names.PUBLISHER) else (
            "stats" if name.startswith(("kairo-host-", "kairo-brand-")) else "describe"
        )  # fmt: skip
        try:
            report: Any = ray.get(getattr(handle, method).remote(), timeout=10)
        except Exception as exc:  # noqa: BLE001 - an actor without the method, or busy restarting
            report = f"{type(exc).__name__}"
        table.add_row(name, str(report))
    console.print(table)
    return 0


def brand(settings: Settings, args: argparse.Namespace) -> int:
    """``brand list``, or a brand agent's ``status``, or one of its cycles ``run`` now."""
    common.join(settings)
    from storage.postgres import repositories as repo

    from ..commands import GetStatus, RunCycle
    from ..hosts import RayAgentGateway

    async def run() -> int:
        resolved, pg = await common.brand_database(settings)
        try:
            if args.brand_command == "list":
                async with pg.db.connection() as conn:
                    brands = await repo.brands.list(conn, order_by="created_at, id", limit=args.limit)
                table = Table(title="Brands")
                for column in ("id", "slug", "name", "status", "channels"):
                    table.add_column(column)
                for b in brands:
                    table.add_row(str(b.id), b.slug, b.name, b.status, ", ".join(b.primary_channels))
                console.print(table)
                return 0
            brand_id = UUID(args.brand_id)
            gateway = RayAgentGateway(resolved)
            if args.brand_command == "run":
                result = await gateway.send(brand_id, RunCycle())
                console.print(result.run.model_dump(mode="json"))
            else:
                view = await gateway.send(brand_id, GetStatus())
                console.print(view.model_dump(mode="json"))
            return 0
        finally:
            await pg.close()

    return asyncio.run(run())


def db(settings: Settings, args: argparse.Namespace) -> int:
    """Stop the embedded PostgreSQL of the data dir, e.g. one a killed ``serve run`` left behind."""
    from storage.postgres import EmbeddedPostgres

    if settings.database_url:
        console.print("KAIRO_DATABASE_URL is set: there is no embedded PostgreSQL to stop.")
        return 1
    data = settings.data_dir / "postgres"
    if not (data / "PG_VERSION").exists():
        console.print(f"No embedded PostgreSQL in {data}.")
        return 0
    server = EmbeddedPostgres(data)
    server.start()  # attaches to the running server (or starts it), so that stop() owns it
    server.stop()
    console.print(f"Stopped the embedded PostgreSQL in {data}.")
    return 0


def fakes(settings: Settings, args: argparse.Namespace) -> int:
    """Run the offline fakes of the platforms (X, LinkedIn, Mastodon, Bluesky, a webhook receiver)."""
    from ..fakes.__main__ import serve

    asyncio.run(serve(args.port))
    return 0


def keys(settings: Settings, args: argparse.Namespace) -> int:
    """``new``: print a fresh token key; ``rotate``: re-seal every channel secret under the current key."""
    from ..publisher import rotate_token_keys

    if args.keys_command == "new":
        from agents.publisher.tokens import new_key

        console.print(new_key())
        return 0
    console.print(f"Re-sealed {asyncio.run(rotate_token_keys(settings))} secrets under the current token key.")
    return 0
