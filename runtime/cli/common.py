"""What the ``kairo`` commands share: the console, the progress spinner, joining the running
cluster, a small database handle and finding a brand by id or slug."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..database import open_database
from ..loopback import prepare_local_ray
from ..settings import Settings

console = Console()

# Files of posts by extension (``kairo calibrate`` and ``kairo mine``).
POST_FILE_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console)


def join(settings: Settings) -> None:
    """Connect to the running Kairo: ``RAY_ADDRESS``, else the local cluster ``kairo up`` started."""
    import os

    if not os.environ.get("RAY_ADDRESS"):
        prepare_local_ray()
    import ray

    ray.init(address=os.environ.get("RAY_ADDRESS", "auto"), namespace=settings.ray_namespace,
             log_to_driver=False, ignore_reinit_error=True)  # fmt: skip


def join_unless_configured(settings: Settings) -> None:
    """The embedded PostgreSQL is reached through the running Kairo; a configured one directly."""
    if not settings.database_url:
        join(settings)


async def brand_database(settings: Settings) -> tuple[Settings, Any]:
    """The resolved settings and a one-connection database handle (closed by the caller)."""
    from ..services import resolve_database

    resolved = await resolve_database(settings)
    return resolved, await open_database(resolved, pool_min=0, pool_max=1)


async def find_brand(db: Any, brand_ref: str) -> Any:
    """The brand whose id or slug is ``brand_ref``, else None after saying so on the console."""
    from storage.postgres import repositories as repo

    async with db.connection() as conn:
        found = await repo.brands.list(conn, "slug = $1 OR id::text = $1", brand_ref, limit=1)
    if not found:
        console.print(f"[red]error[/red] no brand {brand_ref!r} (give its id or slug)")
    return found[0] if found else None


def agent_gateway(settings: Settings) -> Any:
    """The brand agents of the running Kairo (joined first)."""
    from ..hosts import RayAgentGateway

    return RayAgentGateway(settings)


@asynccontextmanager
async def opened_brand(settings: Settings, brand_ref: str) -> AsyncIterator[tuple[Settings, Any, Any]]:
    """The resolved settings, an open database and the brand ``brand_ref`` names (None, said on the
    console, when there is none); the database closes on leaving."""
    resolved, pg = await brand_database(settings)
    try:
        yield resolved, pg.db, await find_brand(pg.db, brand_ref)
    finally:
        await pg.close()


def error(message: str) -> int:
    """Say what is wrong and return the failing exit code."""
    console.print(f"[red]error[/red] {message}")
    return 1


def option_error(exc: Any, options: dict[str, str]) -> int:
    """A pydantic ValidationError of a command's input said as the command-line option that
    carried the field (``options``: field -> option), and why; the failing exit code."""
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "input"
    return error(f"{options.get(field, field)}: {first['msg']}")
