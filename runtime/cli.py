"""The ``kairo`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from storage.errors import KairoError

from .logs import configure_logging
from .settings import Settings, get_settings

console = Console()


def _demo(settings: Settings) -> int:
    from .demo import run_demo

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("Kairo demo", total=None)
        result = asyncio.run(run_demo(settings, step=lambda text: progress.update(task, description=text)))
        progress.update(task, description="Done")

    summary = Table(title="Kairo demo: storage smoke run", show_header=False)
    summary.add_row("brand", f"{result.brand.name} ({result.brand.slug}) {'created' if result.created else 'reused'}")
    summary.add_row("brand id", str(result.brand.id))
    summary.add_row("snapshot", f"version {result.snapshot.version} ({result.snapshot.id})")
    summary.add_row("runtime context", f"version {result.runtime_context.version}, channels: "
                    + ", ".join(sorted(result.runtime_context.channel_overrides)))
    summary.add_row("memory fragments", str(result.fragments))
    summary.add_row("data dir", str(settings.data_dir))
    console.print(summary)
    hits = Table(title=f"Memory search: {result.question!r}")
    hits.add_column("similarity", justify="right")
    hits.add_column("fragment")
    for hit in result.hits:
        hits.add_row(f"{hit.similarity:.3f}", hit.fragment.raw_text)
    console.print(hits)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kairo", description="Autonomous content-marketing agents, one per brand.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the main job once on the embedded defaults, then exit")
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        if args.command == "demo":
            return _demo(settings)
    except KairoError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.message}")
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
