"""``kairo demo``: run the main job once on the embedded defaults and print what each step did."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from rich.table import Table

from ..settings import Settings
from . import common
from .common import console


def demo(settings: Settings, _: argparse.Namespace) -> int:
    from ..demo import run_demo

    with common.progress() as progress:
        task = progress.add_task("Kairo demo", total=None)
        result = asyncio.run(run_demo(settings, step=lambda text: progress.update(task, description=text)))
        progress.update(task, description="Done")
    _print_summary(settings, result)
    _print_templates(result)
    _print_gates(result.gate_report)
    _print_board(result)
    _print_publishing(result.publishing)
    print_package(result.package)
    return 0


def _print_summary(settings: Settings, result: Any) -> None:
    """The demo brand, its versions, its agent's run, a memory search and the latest events."""
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


def _print_templates(result: Any) -> None:
    """The pattern templates mined from the demo's example posts."""
    templates = Table(title=f"Pattern templates mined from {result.mined_posts} posts (best evidence first)")
    for column in ("template", "channels", "posts", "engagement", "status"):
        templates.add_column(column)
    for template in result.templates:
        stats = template.usage_stats
        rate = f"{stats.avg_engagement_rate:.1%}" if stats.avg_engagement_rate is not None else "—"
        templates.add_row(template.name, ", ".join(map(str, template.channel_constraints)), str(stats.evidence_posts),
                          rate, str(template.status))  # fmt: skip
    console.print(templates)


def _print_gates(report: Any) -> None:
    """The quality gates' verdict on the demo's LinkedIn draft."""
    gates = Table(title=f"Quality gates on a LinkedIn draft: {report.verdict} (length {report.length}/{report.limit})")
    for column in ("gate", "score", "passed", "findings"):
        gates.add_column(column)
    for gate in report.results:
        findings = "; ".join(f"{f.code}: {f.message}" for f in gate.findings) or "—"
        gates.add_row(gate.rule, "—" if gate.skipped else f"{gate.score:.0f}", str(gate.passed), findings)
    console.print(gates)


def print_package(view: Any) -> None:
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
