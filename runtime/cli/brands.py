"""The commands that work on one brand's data: ``calibrate``, ``check``, ``ingest``, ``scout``,
``calendar`` and ``mine``. Engines that need MiniLM load it in this process; the embedded
PostgreSQL is reached through the running Kairo, a configured one directly."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from rich.table import Table

from ..database import open_database
from ..settings import Settings
from . import common
from .common import POST_FILE_FORMATS, console, error


def _is_url(ref: str) -> bool:
    return ref.startswith(("http://", "https://"))


# -- kairo calibrate BRAND FILE ---------------------------------------------------------------------


def calibrate(settings: Settings, args: argparse.Namespace) -> int:
    """Learn a brand's voice from a file of example posts (CSV, JSON, JSONL, else pasted text) or
    from the paragraphs of a page at a URL."""
    from agents.calibration import fetch_examples, parse_examples

    if _is_url(args.file):
        from agents.calibration.pages import page_text
        from agents.ingest.fetch import Fetcher

        async def fetch() -> Any:
            async with Fetcher() as fetcher:
                return await fetch_examples(args.file, page_text(fetcher))

        parsed = asyncio.run(fetch())
    else:
        path = Path(args.file)
        if not path.is_file():
            return error(f"no file {path}")
        fmt = args.format or POST_FILE_FORMATS.get(path.suffix.lower(), "paste")
        parsed = parse_examples(path.read_bytes(), fmt, text_field=args.text_field)
    common.join(settings)
    return asyncio.run(calibrate_brand(settings, args.brand, parsed))


async def calibrate_brand(settings: Settings, brand_ref: str, parsed: Any) -> int:
    from agents.brand_brain.calibration_store import calibrate_brand as store_calibration
    from agents.calibration import Calibrator

    from .. import memory_service

    async with common.opened_brand(settings, brand_ref) as (resolved, db, brand):
        if brand is None:
            return 1
        with common.progress() as progress:
            progress.add_task(f"Calibrating {brand.slug} from {len(parsed.examples)} examples", total=None)
            memory = memory_service.get_memory_client(resolved)
            stored = await store_calibration(db, memory, Calibrator(), brand.id, parsed.examples)
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


def check(settings: Settings, args: argparse.Namespace) -> int:
    """Lint a post against a brand's quality gates (as ``POST …/gates/check`` does); exit 1 on a
    rejection. The gates run in this process (MiniLM loads here), no cluster needed."""
    import sys

    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    common.join_unless_configured(settings)
    return asyncio.run(check_text(settings, args.brand, args.channel, text, args.thread, spoiler=args.spoiler,
                                  limit=args.limit))  # fmt: skip


async def check_text(settings: Settings, brand_ref: str, channel: str, text: str, thread: bool, *,
                     spoiler: str | None = None, limit: int | None = None) -> int:  # fmt: skip
    from pydantic import ValidationError

    from agents.engines import ContentWriter
    from runtime.api.routes.gates import GateCheck, gate_candidate
    from storage.memory import Embedder

    try:
        body = GateCheck(channel=channel, text=text, thread=thread, spoiler_text=spoiler, limit=limit)
    except ValidationError as exc:  # as the check API would answer: the option at fault, and why
        return common.option_error(exc, {"spoiler_text": "--spoiler", "limit": "--limit"})
    async with common.opened_brand(settings, brand_ref) as (_, db, brand):
        if brand is None:
            return 1
        candidate = await gate_candidate(db, brand, body)
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


def ingest(settings: Settings, args: argparse.Namespace) -> int:
    """Ingest a feed, a bulk file (JSON, JSONL, CSV), a page or a text file, from disk or a URL,
    as public documents (or a brand's org's own with ``--brand``); MiniLM runs in this process."""
    from agents.ingest.reading import items_from_file, items_from_url

    if _is_url(args.source):
        from agents.ingest.fetch import Fetcher

        async def fetch() -> Any:
            async with Fetcher() as fetcher:
                return await items_from_url(fetcher, args.source)

        items = asyncio.run(fetch())
    else:
        path = Path(args.source)
        if not path.is_file():
            return error(f"no file {path}")
        items = items_from_file(path.name, path.read_bytes())
    common.join_unless_configured(settings)
    return asyncio.run(ingest_items(settings, items, args.brand))


async def ingest_items(settings: Settings, items: list[Any], brand_ref: str | None) -> int:
    from agents.engines import OpportunityScout
    from agents.scout.service import ingest as ingest_documents
    from storage.memory import Embedder

    _, pg = await common.brand_database(settings)
    try:
        org_id = None
        if brand_ref:
            brand = await common.find_brand(pg.db, brand_ref)
            if brand is None:
                return 1
            org_id = brand.org_id
        with common.progress() as progress:
            task = progress.add_task("Loading the embedding model", total=None)
            engine = OpportunityScout(Embedder(num_threads=settings.embedding_threads))
            progress.update(task, description=f"Cleaning, deduplicating and embedding {len(items)} items")
            report = await ingest_documents(pg.db, engine, items, org_id=org_id)
            progress.update(task, description="Done")
    finally:
        await pg.close()
    console.print(f"{len(items)} items: {len(report.stored)} new documents, {len(report.merged)} already known, "
                  f"{len(report.rejected)} rejected")  # fmt: skip
    for rejected in report.rejected:
        console.print(f"  item {rejected['index']}: {rejected['field']}: {rejected['reason']}")
    return 0


def scout(settings: Settings, args: argparse.Namespace) -> int:
    """Scout a brand now (the documents of the last 30 days into its cards and today's batch) and
    print its board; MiniLM runs in this process."""
    common.join_unless_configured(settings)
    return asyncio.run(scout_brand(settings, args.brand, args.top))


async def scout_brand(settings: Settings, brand_ref: str, top: int) -> int:
    from agents.engines import OpportunityScout
    from agents.scout import lifecycle
    from agents.scout.service import scout_brand as scout_documents
    from storage.memory import Embedder
    from storage.objects.base import utcnow
    from storage.postgres import repositories as repo

    async with common.opened_brand(settings, brand_ref) as (_, db, brand):
        if brand is None:
            return 1
        with common.progress() as progress:
            task = progress.add_task("Loading the embedding model", total=None)
            engine = OpportunityScout(Embedder(num_threads=settings.embedding_threads))
            progress.update(task, description=f"Scouting {brand.slug}")
            report = await scout_documents(db, engine, brand.id)
            progress.update(task, description="Done")
        async with db.connection() as conn:
            cards = await repo.opportunity_cards.list(conn, "brand_id = $1 AND id = ANY($2::uuid[])", brand.id,
                                                      report.batch.opportunity_ids)  # fmt: skip
            pillars = {p.id: p.name for p in await repo.pillars.list(conn, "brand_id = $1", brand.id)}
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


# -- kairo calendar BRAND ---------------------------------------------------------------------------


def calendar(settings: Settings, args: argparse.Namespace) -> int:
    """Print a brand's calendar: its jobs over a window of days, where each went and how."""
    from datetime import date

    start = date.fromisoformat(args.start) if args.start else None
    common.join_unless_configured(settings)
    return asyncio.run(print_calendar(settings, args.brand, start, args.days))


async def print_calendar(settings: Settings, brand_ref: str, start: Any, days: int) -> int:
    from agents.publisher.calendar import brand_calendar, calendar_rows

    async with common.opened_brand(settings, brand_ref) as (_, db, brand):
        if brand is None:
            return 1
        rows = calendar_rows(await brand_calendar(db, brand, start, days))
    table = Table(title=f"{brand.name}: calendar, {days} days")
    for column in ("when (UTC)", "channel", "status", "attempts", "published as / last error", "text"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.when, row.channel, row.status, str(row.attempts), row.outcome, row.preview)
    console.print(table if rows else f"{brand.name}: nothing scheduled in these {days} days")
    return 0


# -- kairo mine FILE -------------------------------------------------------------------------------


def mine(settings: Settings, args: argparse.Namespace) -> int:
    """Import a file of posts (a brand's own, or a global swipe file) and mine its templates."""
    path = Path(args.file)
    if not path.is_file():
        return error(f"no file {path}")
    fmt = args.format or POST_FILE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        return error(f"{path.name}: give --format (csv, json or jsonl)")
    if path.stat().st_size > settings.miner_max_import_bytes:  # refused before it is read
        return error(f"{path.name} is {path.stat().st_size:,} bytes; at most "
                     f"{settings.miner_max_import_bytes:,} per import (KAIRO_MINER_MAX_IMPORT_BYTES)")  # fmt: skip
    return asyncio.run(mine_file(settings, args, path.read_text(encoding="utf-8-sig"), fmt))


async def mine_file(settings: Settings, args: argparse.Namespace, content: str, fmt: str) -> int:
    from agents.miner.service import import_file, mine_scope
    from runtime.engines import pattern_miner
    from storage.objects import Channel

    miner = pattern_miner(settings)
    pg = await open_database(settings, pool_max=2, migrate=True)
    try:
        brand_id = None
        if args.brand:
            brand = await common.find_brand(pg.db, args.brand)
            if brand is None:
                return 1
            brand_id = brand.id
        with common.progress() as progress:
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
