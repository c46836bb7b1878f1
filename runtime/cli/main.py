"""The ``kairo`` command line: its parser and the dispatch to each command's function."""

from __future__ import annotations

import argparse

from storage.errors import KairoError

from ..logs import configure_logging
from ..loopback import prepare_local_ray
from ..settings import get_settings
from . import brands, demo, ops, writing
from .common import console

CHANNELS = ["x", "linkedin", "mastodon", "bluesky", "youtube_script"]

HANDLERS = {"up": ops.up, "status": ops.status, "brand": ops.brand, "db": ops.db, "fakes": ops.fakes,
            "keys": ops.keys, "demo": demo.demo, "calibrate": brands.calibrate, "mine": brands.mine,
            "check": brands.check, "ingest": brands.ingest, "scout": brands.scout, "calendar": brands.calendar,
            "write": writing.write}


def parser() -> argparse.ArgumentParser:
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
    check.add_argument("channel", choices=CHANNELS)
    check.add_argument("file", help="the post's text file, or - for standard input")
    check.add_argument("--thread", action="store_true", help="X: split an over-long post into a thread")
    check.add_argument("--spoiler", help="Mastodon: the content warning, counted towards the limit")
    check.add_argument("--limit", type=int, help="Mastodon: the instance's max_characters (default 500)")
    ingest = commands.add_parser("ingest", help="ingest a feed, bulk file, page or text (file or URL) as documents")
    ingest.add_argument("source", help=".rss/.atom/.xml feed, .json/.jsonl/.csv bulk import, .html page, any other "
                        "file as text, or an http(s) URL (a feed or a page)")
    ingest.add_argument("--brand", help="the documents are this brand's org's own (id or slug); default public")
    scout = commands.add_parser("scout", help="scout a brand's documents into cards now and print its board")
    scout.add_argument("brand", help="the brand's id or slug")
    scout.add_argument("--top", type=int, default=10, help="cards shown (default 10)")
    writing.add_parser(commands)
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command in ("up", "demo"):
        prepare_local_ray()
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        return HANDLERS[args.command](settings, args)
    except KairoError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.message}")
        return 1
