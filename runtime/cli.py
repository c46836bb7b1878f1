"""The ``kairo`` command line: ``up``, ``status``, ``brand …``, ``demo``, ``calibrate`` and ``mine``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any
from uuid import UUID

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from storage.errors import KairoError

from .database import open_database
from .logs import configure_logging
from .loopback import prepare_local_ray
from .settings import Settings, get_settings

console = Console()


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console)


# -- kairo up --------------------------------------------------------------------------------------


def _up(settings: Settings, args: argparse.Namespace) -> int:
    from .stack import init_ray, start_runtime, stop_runtime

    if args.port:
        settings = settings.model_copy(update={"api_port": args.port})
    if settings.publisher_autostart is None:  # `kairo up` publishes unless told not to
        settings = settings.model_copy(update={"publisher_autostart": True})
    with _progress() as progress:
        task = progress.add_task("Starting Ray", total=None)
        dashboard = init_ray(settings, dashboard=not args.no_dashboard)
        info = asyncio.run(start_runtime(settings, step=lambda t: progress.update(task, description=t)))
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
        await stop_runtime(info.settings)

    asyncio.run(wait())
    import ray

    ray.shutdown()
    console.print("Stopped.")
    return 0


# -- kairo status ----------------------------------------------------------------------------------


def _join(settings: Settings) -> None:
    """Connect to the running Kairo: ``RAY_ADDRESS``, else the local cluster ``kairo up`` started."""
    import os

    if not os.environ.get("RAY_ADDRESS"):
        prepare_local_ray()
    import ray

    ray.init(address=os.environ.get("RAY_ADDRESS", "auto"), namespace=settings.ray_namespace,
             log_to_driver=False, ignore_reinit_error=True)  # fmt: skip


def _status(settings: Settings, _: argparse.Namespace) -> int:
    _join(settings)
    import ray

    from . import names
    from .stack import kairo_actors

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
        except Exception as exc:  # an actor without the method, or busy restarting
            report = f"{type(exc).__name__}"
        table.add_row(name, str(report))
    console.print(table)
    return 0


# -- kairo brand …  --------------------------------------------------------------------------------


async def _brand_database(settings: Settings):
    from .services import resolve_database

    resolved = await resolve_database(settings)
    return resolved, await open_database(resolved, pool_min=0, pool_max=1)


def _brand(settings: Settings, args: argparse.Namespace) -> int:
    _join(settings)
    from storage.postgres import repositories as repo

    from .commands import GetStatus, RunCycle
    from .hosts import RayAgentGateway


    async def run() -> int:
        resolved, pg = await _brand_database(settings)
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


# -- kairo calibrate BRAND FILE ---------------------------------------------------------------------

CALIBRATION_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def _calibrate(settings: Settings, args: argparse.Namespace) -> int:
    """Learn a brand's voice from a file of example posts (CSV, JSON, JSONL, else pasted text) or
    from the paragraphs of a page at a URL."""
    from pathlib import Path

    from agents.calibration import fetch_examples, parse_examples

    if args.file.startswith(("http://", "https://")):
        from agents.calibration.pages import page_text
        from agents.ingest.fetch import Fetcher

        async def fetch() -> Any:
            async with Fetcher() as fetcher:
                return await fetch_examples(args.file, page_text(fetcher))

        parsed = asyncio.run(fetch())
        _join(settings)
        return asyncio.run(_calibrate_brand(settings, args.brand, parsed))
    path = Path(args.file)
    if not path.is_file():
        console.print(f"[red]error[/red] no file {path}")
        return 1
    fmt = args.format or CALIBRATION_FORMATS.get(path.suffix.lower(), "paste")
    parsed = parse_examples(path.read_bytes(), fmt, text_field=args.text_field)
    _join(settings)
    return asyncio.run(_calibrate_brand(settings, args.brand, parsed))


async def _calibrate_brand(settings: Settings, brand_ref: str, parsed: Any) -> int:
    from agents.brand_brain.calibration_store import calibrate_brand
    from agents.calibration import Calibrator
    from storage.postgres import repositories as repo

    from . import memory_service

    resolved, pg = await _brand_database(settings)
    try:
        async with pg.db.connection() as conn:
            found = await repo.brands.list(conn, "slug = $1 OR id::text = $1", brand_ref)
        if not found:
            console.print(f"[red]error[/red] no brand {brand_ref!r} (give its id or slug)")
            return 1
        brand = found[0]
        with _progress() as progress:
            progress.add_task(f"Calibrating {brand.slug} from {len(parsed.examples)} examples", total=None)
            memory = memory_service.get_memory_client(resolved)
            stored = await calibrate_brand(pg.db, memory, Calibrator(), brand.id, parsed.examples)
    finally:
        await pg.close()
    table = Table(title=f"{brand.name}: snapshot v{stored.snapshot.version}", show_header=False)
    table.add_row("tone", ", ".join(stored.snapshot.tone_descriptors) or "-")
    table.add_row("profile", ", ".join(f"{k} {v:.0f}" for k, v in stored.snapshot.tone_profile.items()))
    table.add_row("knobs", ", ".join(f"{k} {v:.2f}" for k, v in stored.result.tone.knobs.items()))
    table.add_row("voice markers", "\n".join(f"{m.phrase} (z {m.z:.1f}, in {m.document_frequency} posts)"
                                            for m in stored.result.markers) or "-")  # fmt: skip
    table.add_row("banned words", ", ".join(f"{w.word} ({w.severity})" for w in stored.snapshot.banned_words) or "-")
    table.add_row("memory", f"{len(stored.fragments)} imported_example fragments")
    for warning in [*parsed.warnings, *stored.calibration.warnings]:
        table.add_row("warning", warning)
    console.print(table)
    return 0


# -- kairo check BRAND CHANNEL FILE -----------------------------------------------------------------


def _check(settings: Settings, args: argparse.Namespace) -> int:
    """Lint a post against a brand's quality gates (as ``POST …/gates/check`` does); exit 1 on a
    rejection. The gates run in this process (MiniLM loads here), no cluster needed."""
    import sys
    from pathlib import Path

    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    if not settings.database_url:
        _join(settings)  # the embedded PostgreSQL is reached through the running Kairo
    return asyncio.run(_check_text(settings, args.brand, args.channel, text, args.thread))


async def _check_text(settings: Settings, brand_ref: str, channel: str, text: str, thread: bool) -> int:
    from agents.engines import ContentWriter
    from runtime.api.routes.gates import GateCheck, gate_candidate
    from storage.memory import Embedder
    from storage.postgres import repositories as repo

    body = GateCheck(channel=channel, text=text, thread=thread)
    _, pg = await _brand_database(settings)
    try:
        async with pg.db.connection() as conn:
            found = await repo.brands.list(conn, "slug = $1 OR id::text = $1", brand_ref)
        if not found:
            console.print(f"[red]error[/red] no brand {brand_ref!r} (give its id or slug)")
            return 1
        candidate = await gate_candidate(pg.db, found[0].id, body)
    finally:
        await pg.close()
    report = await ContentWriter(Embedder(num_threads=settings.embedding_threads)).check(candidate)
    colour = {"pass": "green", "flag": "yellow", "reject": "red"}[report.verdict]
    table = Table(title=f"[{colour}]{report.verdict}[/{colour}]  {report.channel} length {report.length}/{report.limit}")
    for column in ("gate", "score", "result", "reasons"):
        table.add_column(column)
    for result in report.results:
        state = "skipped" if result.skipped else "pass" if result.passed else "reject"
        reasons = "\n".join(f"{f.severity}: {f.code} - {f.message}" for f in result.findings) or "-"
        table.add_row(f"{result.rule} ({result.gate})", f"{result.score:.0f}", state, reasons)
    console.print(table)
    if report.text_to_send != text or len(report.parts) > 1:
        console.print("text to send:", *report.parts, sep="\n")
    return 0 if report.passed else 1


# -- kairo ingest FILE|URL, kairo scout BRAND ------------------------------------------------------


def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    """Ingest a feed, a bulk file (JSON, JSONL, CSV), a page or a text file, from disk or a URL,
    as public documents (or a brand's org's own with ``--brand``); MiniLM runs in this process."""
    from pathlib import Path

    from agents.ingest.reading import items_from_file, items_from_url

    if args.source.startswith(("http://", "https://")):
        from agents.ingest.fetch import Fetcher

        async def fetch() -> Any:
            async with Fetcher() as fetcher:
                return await items_from_url(fetcher, args.source)

        items = asyncio.run(fetch())
    else:
        path = Path(args.source)
        if not path.is_file():
            console.print(f"[red]error[/red] no file {path}")
            return 1
        items = items_from_file(path.name, path.read_bytes())
    if not settings.database_url:
        _join(settings)  # the embedded PostgreSQL is reached through the running Kairo
    return asyncio.run(_ingest_items(settings, items, args.brand))


async def _ingest_items(settings: Settings, items: list[Any], brand_ref: str | None) -> int:
    from agents.engines import OpportunityScout
    from agents.scout.service import ingest
    from storage.memory import Embedder

    _, pg = await _brand_database(settings)
    try:
        org_id = None
        if brand_ref:
            brand = await _find_brand(pg.db, brand_ref)
            if brand is None:
                return 1
            org_id = brand.org_id
        with _progress() as progress:
            task = progress.add_task("Loading the embedding model", total=None)
            engine = OpportunityScout(Embedder(num_threads=settings.embedding_threads))
            progress.update(task, description=f"Cleaning, deduplicating and embedding {len(items)} items")
            report = await ingest(pg.db, engine, items, org_id=org_id)
            progress.update(task, description="Done")
    finally:
        await pg.close()
    console.print(f"{len(items)} items: {len(report.stored)} new documents, {len(report.merged)} already known, "
                  f"{len(report.rejected)} rejected")  # fmt: skip
    for rejected in report.rejected:
        console.print(f"  item {rejected['index']}: {rejected['field']}: {rejected['reason']}")
    return 0


async def _find_brand(db: Any, brand_ref: str) -> Any:
    from storage.postgres import repositories as repo

    async with db.connection() as conn:
        found = await repo.brands.list(conn, "slug = $1 OR id::text = $1", brand_ref)
    if not found:
        console.print(f"[red]error[/red] no brand {brand_ref!r} (give its id or slug)")
    return found[0] if found else None


def _scout(settings: Settings, args: argparse.Namespace) -> int:
    """Scout a brand now (the documents of the last 30 days into its cards and today's batch) and
    print its board; MiniLM runs in this process."""
    if not settings.database_url:
        _join(settings)
    return asyncio.run(_scout_brand(settings, args.brand, args.top))


async def _scout_brand(settings: Settings, brand_ref: str, top: int) -> int:
    from agents.engines import OpportunityScout
    from agents.scout import lifecycle
    from agents.scout.service import scout_brand
    from storage.memory import Embedder
    from storage.objects.base import utcnow
    from storage.postgres import repositories as repo

    _, pg = await _brand_database(settings)
    try:
        brand = await _find_brand(pg.db, brand_ref)
        if brand is None:
            return 1
        with _progress() as progress:
            task = progress.add_task("Loading the embedding model", total=None)
            engine = OpportunityScout(Embedder(num_threads=settings.embedding_threads))
            progress.update(task, description=f"Scouting {brand.slug}")
            report = await scout_brand(pg.db, engine, brand.id)
            progress.update(task, description="Done")
        async with pg.db.connection() as conn:
            cards = await repo.opportunity_cards.list(conn, "brand_id = $1 AND id = ANY($2::uuid[])", brand.id,
                                                      report.batch.opportunity_ids)  # fmt: skip
            pillars = {p.id: p.name for p in await repo.pillars.list(conn, "brand_id = $1", brand.id)}
    finally:
        await pg.close()
    console.print(f"{report.docs} documents scored: {report.created} new cards, {report.updated} updated "
                  f"({', '.join(f'{k} {v}' for k, v in sorted(report.outcomes.items())) or 'nothing to score'})")
    table = Table(title=f"{brand.name}: board of {report.batch.date_scope}")
    for column in ("score", "pillar", "type", "state", "angle"):
        table.add_column(column)
    for card in lifecycle.board(cards, utcnow())[:top]:
        table.add_row(f"{card.score:.0f}", pillars.get(card.pillar_id, "-"), str(card.opportunity_type),
                      str(card.lifecycle_state), card.angle_summary)  # fmt: skip
    console.print(table)
    return 0


# -- kairo db stop ---------------------------------------------------------------------------------


def _db(settings: Settings, args: argparse.Namespace) -> int:
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


# -- kairo fakes, kairo keys ----------------------------------------------------------------------


def _fakes(settings: Settings, args: argparse.Namespace) -> int:
    """Run the offline fakes of the platforms (X, LinkedIn, Mastodon, Bluesky, a webhook receiver)."""
    from .fakes.__main__ import serve

    asyncio.run(serve(args.port))
    return 0


def _keys(settings: Settings, args: argparse.Namespace) -> int:
    """``new``: print a fresh token key; ``rotate``: re-seal every channel secret under the current key."""
    from .publisher import rotate_token_keys

    if args.keys_command == "new":
        from agents.publisher.tokens import new_key

        console.print(new_key())
        return 0
    console.print(f"Re-sealed {asyncio.run(rotate_token_keys(settings))} secrets under the current token key.")
    return 0


# -- kairo calendar BRAND ---------------------------------------------------------------------------


def _calendar(settings: Settings, args: argparse.Namespace) -> int:
    """Print a brand's calendar: its jobs over a window of days, where each went and how."""
    from datetime import date

    start = date.fromisoformat(args.start) if args.start else None
    if not settings.database_url:
        _join(settings)  # the embedded PostgreSQL is reached through the running Kairo
    return asyncio.run(_print_calendar(settings, args.brand, start, args.days))


async def _print_calendar(settings: Settings, brand_ref: str, start: Any, days: int) -> int:
    from agents.publisher.calendar import brand_calendar, calendar_rows, find_brand

    _, pg = await _brand_database(settings)
    try:
        brand = await find_brand(pg.db, brand_ref)
        if brand is None:
            console.print(f"[red]error[/red] no brand {brand_ref!r} (give its id or slug)")
            return 1
        rows = calendar_rows(await brand_calendar(pg.db, brand, start, days))
    finally:
        await pg.close()
    table = Table(title=f"{brand.name}: calendar, {days} days")
    for column in ("when (UTC)", "channel", "status", "attempts", "published as / last error", "text"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.when, row.channel, row.status, str(row.attempts), row.outcome, row.preview)
    console.print(table if rows else f"{brand.name}: nothing scheduled in these {days} days")
    return 0


# -- kairo demo ------------------------------------------------------------------------------------


def _demo(settings: Settings, _: argparse.Namespace) -> int:
    from .demo import run_demo

    with _progress() as progress:
        task = progress.add_task("Kairo demo", total=None)
        result = asyncio.run(run_demo(settings, step=lambda text: progress.update(task, description=text)))
        progress.update(task, description="Done")

    summary = Table(title="Kairo demo", show_header=False)
    summary.add_row("brand", f"{result.brand.name} ({result.brand.slug}) {'created' if result.created else 'reused'}")
    summary.add_row("brand id", str(result.brand.id))
    summary.add_row("snapshot", f"version {result.snapshot.version} ({result.snapshot.id})")
    summary.add_row("runtime context", f"version {result.runtime_context.version}, channels: "
                    + ", ".join(sorted(result.runtime_context.channel_overrides)))
    summary.add_row("memory fragments", str(result.fragments))
    summary.add_row("agent run", f"{result.run.trigger_type} → {result.run.result}: {result.run.summary}")
    summary.add_row("agent", f"{result.agent.status.state} on {result.agent.host}, "
                    f"next wake {result.agent.status.next_wake_at:%Y-%m-%d %H:%M} UTC")
    summary.add_row("data dir", str(settings.data_dir))
    console.print(summary)
    hits = Table(title=f"Memory search: {result.question!r}")
    hits.add_column("similarity", justify="right")
    hits.add_column("fragment")
    for hit in result.hits:
        hits.add_row(f"{hit.similarity:.3f}", hit.fragment.raw_text)
    console.print(hits)
    events = Table(title="Latest events")
    events.add_column("when")
    events.add_column("event")
    events.add_column("message")
    for event in reversed(result.events):
        events.add_row(f"{event.created_at:%H:%M:%S}", str(event.event_type), event.message)
    console.print(events)
    templates = Table(title=f"Pattern templates mined from {result.mined_posts} posts (best evidence first)")
    for column in ("template", "channels", "posts", "engagement", "status"):
        templates.add_column(column)
    for template in result.templates:
        stats = template.usage_stats
        rate = f"{stats.avg_engagement_rate:.1%}" if stats.avg_engagement_rate is not None else "—"
        templates.add_row(template.name, ", ".join(map(str, template.channel_constraints)), str(stats.evidence_posts),
                          rate, str(template.status))  # fmt: skip
    console.print(templates)
    report = result.gate_report
    gates = Table(title=f"Quality gates on a LinkedIn draft: {report.verdict} (length {report.length}/{report.limit})")
    for column in ("gate", "score", "passed", "findings"):
        gates.add_column(column)
    for gate in report.results:
        findings = "; ".join(f"{f.code}: {f.message}" for f in gate.findings) or "—"
        gates.add_row(gate.rule, "—" if gate.skipped else f"{gate.score:.0f}", str(gate.passed), findings)
    console.print(gates)
    _print_board(result)
    _print_publishing(result.publishing)
    _print_package(result.package)
    return 0


def _print_package(view: Any) -> None:
    """The package the demo wrote: each variant with its status, attempts and gate scores."""
    if view is None or isinstance(view, str):
        console.print(f"no package: {view or 'the board has no card to write'}")
        return
    table = Table(title=f"Package {view.package.id}: {view.core_argument.thesis}")
    for column in ("channel", "status", "attempts", "hook", "engagement", "passed", "variant"):
        table.add_column(column)
    for v in view.variants:
        q = v.quality
        table.add_row(str(v.variant.channel), str(v.variant.status), str(v.attempts),
                      f"{q.g2_hook_strength:.0f}" if q else "—", f"{q.g7_engagement_prediction:.0f}" if q else "—",
                      str(q.overall_pass) if q else "—", v.variant.body)  # fmt: skip
    console.print(table)


def _print_publishing(done: Any) -> None:
    """What the demo published where, and the brand's calendar afterwards."""
    if done is None:
        return
    table = Table(title=f"Published {done.published} of {done.scheduled} scheduled posts")
    for column in ("where", "post"):
        table.add_column(column)
    for line in done.outbox_lines[-2:]:
        table.add_row(f"outbox {done.outbox}", line["text"])
    for post in done.fake_posts:
        table.add_row(f"fake {post['channel']} {post['where']}", post["text"])
    for refusal in done.refused:
        table.add_row("not scheduled", refusal)
    console.print(table)
    calendar = Table(title="Calendar (next 2 days)")
    for column in ("when (UTC)", "channel", "status", "attempts", "published as / last error", "text"):
        calendar.add_column(column)
    for row in done.rows:
        calendar.add_row(row.when, row.channel, row.status, str(row.attempts), row.outcome, row.preview)
    console.print(calendar)


def _print_board(result: Any) -> None:
    """The demo brand's board: its top cards after the cycle scouted the example feed."""
    stored = len(result.ingested.stored) if result.ingested else 0
    merged = len(result.ingested.merged) if result.ingested else 0
    board = Table(title=f"{result.brand.name}'s board today (example feed: {stored} new documents, {merged} known)")
    for column in ("score", "pillar", "type", "angle"):
        board.add_column(column)
    for line in result.board:
        board.add_row(f"{line.score:.0f}", line.pillar, line.opportunity_type, line.angle)
    console.print(board)


# -- kairo mine FILE -------------------------------------------------------------------------------


def _mine(settings: Settings, args: argparse.Namespace) -> int:
    """Import a file of posts (a brand's own, or a global swipe file) and mine its templates."""
    from pathlib import Path

    path = Path(args.file)
    if not path.is_file():
        console.print(f"[red]error[/red] no file {path}")
        return 1
    fmt = args.format or CALIBRATION_FORMATS.get(path.suffix.lower())
    if fmt is None:
        console.print(f"[red]error[/red] {path.name}: give --format (csv, json or jsonl)")
        return 1
    if path.stat().st_size > settings.miner_max_import_bytes:  # refused before it is read
        console.print(f"[red]error[/red] {path.name} is {path.stat().st_size:,} bytes; at most "
                      f"{settings.miner_max_import_bytes:,} per import (KAIRO_MINER_MAX_IMPORT_BYTES)")
        return 1
    return asyncio.run(_mine_file(settings, args, path.read_text(encoding="utf-8-sig"), fmt))


async def _mine_file(settings: Settings, args: argparse.Namespace, content: str, fmt: str) -> int:
    from agents.miner.service import import_file, mine_scope
    from runtime.engines import pattern_miner
    from storage.objects import Channel
    from storage.postgres import repositories as repo

    miner = pattern_miner(settings)
    pg = await open_database(settings, pool_max=2, migrate=True)
    try:
        brand_id = None
        if args.brand:
            async with pg.db.connection() as conn:
                found = await repo.brands.list(conn, "slug = $1 OR id::text = $1", args.brand)
            if not found:
                console.print(f"[red]error[/red] no brand {args.brand!r} (give its id or slug)")
                return 1
            brand_id = found[0].id
        with _progress() as progress:
            task = progress.add_task("Importing posts", total=None)
            imported = await import_file(pg.db, miner, content, fmt, brand_id=brand_id,
                                         default_channel=Channel(args.channel) if args.channel else None)
            progress.update(task, description=f"Mining {'the brand' if brand_id else 'global'} posts")
            report = await mine_scope(pg.db, miner, brand_id)
            progress.update(task, description="Done")
    finally:
        await pg.close()
    console.print(f"{imported.rows} rows: {imported.inserted} new posts, {imported.updated} known "
                  f"({imported.duplicates} repeated in the file); mined {report.posts} posts: "
                  f"{report.result.created} templates created, {report.result.updated} updated, "
                  f"{report.result.unassigned} posts in no template")
    console.print(f"run {report.run_id}: {report.run_result}, {report.counts.failures} failures"
                  + "".join(f"\n  [yellow]note[/yellow] {note}" for note in report.notes))
    table = Table(title="Pattern templates")
    for column in ("template", "channels", "posts", "engagement rate", "status"):
        table.add_column(column)
    for template in report.templates:
        stats = template.usage_stats
        rate = "-" if stats.avg_engagement_rate is None else (
            f"{stats.avg_engagement_rate:.2%} ± {stats.engagement_rate_spread or 0:.2%}")
        table.add_row(template.name, ", ".join(map(str, template.channel_constraints)), str(stats.evidence_posts),
                      rate, str(template.status))
    console.print(table)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kairo", description="Autonomous content-marketing agents, one per brand.")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start Kairo (Ray, storage, agents, scheduler, HTTP API) until Ctrl-C")
    up.add_argument("--no-dashboard", action="store_true", help="do not start the Ray dashboard")
    up.add_argument("--port", type=int, help="HTTP API port (default KAIRO_API_PORT or 8000)")
    commands.add_parser("status", help="show Kairo's actors on the running cluster")
    brand = commands.add_parser("brand", help="brands of the running Kairo")
    brand_commands = brand.add_subparsers(dest="brand_command", required=True)
    brand_list = brand_commands.add_parser("list", help="list brands")
    brand_list.add_argument("--limit", type=int, default=100)
    for name, text in (("status", "show a brand agent's state"), ("run", "run one agent cycle now")):
        brand_commands.add_parser(name, help=text).add_argument("brand_id")
    db = commands.add_parser("db", help="the embedded PostgreSQL")
    db.add_subparsers(dest="db_command", required=True).add_parser("stop", help="stop it if it is running")
    commands.add_parser("demo", help="run the main job once on the embedded defaults, then exit")
    calibrate = commands.add_parser("calibrate", help="learn a brand's voice from a file of example posts")
    calibrate.add_argument("brand", help="the brand's id or slug")
    calibrate.add_argument("file", help="CSV, JSON or JSONL by extension, any other file as pasted text, "
                           "or an http(s) URL whose page text is learned from")
    calibrate.add_argument("--format", choices=["paste", "json", "jsonl", "csv"], help="override the extension")
    calibrate.add_argument("--text-field", default="text", help="JSON field or CSV column of each post")
    mine = commands.add_parser("mine", help="import a file of posts and mine its pattern templates")
    mine.add_argument("file", help="CSV, JSON or JSONL (by extension, or --format)")
    mine.add_argument("--brand", help="the brand's id or slug (its own posts); without it, a global swipe file")
    mine.add_argument("--format", choices=["json", "jsonl", "csv"], help="override the extension")
    mine.add_argument("--channel", help="channel of posts whose row names none")
    check = commands.add_parser("check", help="lint a post against a brand's quality gates (exit 1 on a rejection)")
    check.add_argument("brand", help="the brand's id or slug")
    check.add_argument("channel", choices=["x", "linkedin", "mastodon", "bluesky", "youtube_script"])
    check.add_argument("file", help="the post's text file, or - for standard input")
    check.add_argument("--thread", action="store_true", help="X: split an over-long post into a thread")
    ingest = commands.add_parser("ingest", help="ingest a feed, bulk file, page or text (file or URL) as documents")
    ingest.add_argument("source", help=".rss/.atom/.xml feed, .json/.jsonl/.csv bulk import, .html page, any other "
                        "file as text, or an http(s) URL (a feed or a page)")
    ingest.add_argument("--brand", help="the documents are this brand's org's own (id or slug); default public")
    scout = commands.add_parser("scout", help="scout a brand's documents into cards now and print its board")
    scout.add_argument("brand", help="the brand's id or slug")
    scout.add_argument("--top", type=int, default=10, help="cards shown (default 10)")
    fakes = commands.add_parser("fakes", help="run offline fakes of the publishing platforms until Ctrl-C")
    fakes.add_argument("--port", type=int, default=8701, help="first port (0: any free ports)")
    keys = commands.add_parser("keys", help="the keys sealing channel tokens")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_commands.add_parser("new", help="print a new key for KAIRO_TOKEN_KEYS")
    keys_commands.add_parser("rotate", help="re-encrypt every stored token under the current key")
    calendar = commands.add_parser("calendar", help="a brand's scheduled and published posts")
    calendar.add_argument("brand", help="the brand's id or slug")
    calendar.add_argument("--start", help="first day (YYYY-MM-DD, UTC); default today")
    calendar.add_argument("--days", type=int, default=7, help="how many days (default 7)")
    args = parser.parse_args(argv)
    if args.command in ("up", "demo"):
        prepare_local_ray()
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    handlers = {"up": _up, "status": _status, "brand": _brand, "db": _db, "demo": _demo, "calibrate": _calibrate,
                "mine": _mine, "fakes": _fakes, "keys": _keys, "check": _check, "ingest": _ingest, "scout": _scout,
                "calendar": _calendar}
    try:
        return handlers[args.command](settings, args)
    except KairoError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.message}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
