"""``kairo write BRAND``: the brand's agent writes a package (from a card, a page at a URL or a
topic) in the running Kairo, as ``POST …/packages`` does, and the variants are printed with
their gate scores."""

from __future__ import annotations

import argparse
import asyncio
from uuid import UUID

from pydantic import ValidationError

from storage.objects import Channel

from ..commands import ChannelAsk, PageAsk, TopicAsk, WritePackage
from ..settings import Settings
from . import common
from .common import error
from .demo import print_package


def add_parser(commands: argparse._SubParsersAction) -> None:
    write = commands.add_parser("write", help="write a package for a brand (from a card, a URL or a topic) and "
                                "print its variants; needs the running Kairo")  # fmt: skip
    write.add_argument("brand", help="the brand's id or slug")
    source = write.add_mutually_exclusive_group(required=True)
    source.add_argument("--card", type=UUID, help="one of the brand's opportunity cards (moves to in_progress)")
    source.add_argument("--url", help="a page to write about: fetched and stored as a source document")
    source.add_argument("--topic", help="what the package says, in a line (needs --persona and --pillar)")
    write.add_argument("--persona", type=UUID, help="lock the persona (a topic needs it)")
    write.add_argument("--pillar", type=UUID, help="lock the pillar (a topic needs it)")
    write.add_argument("--notes", help="facts of your own the package may use")
    write.add_argument("--channel", action="append", choices=[c.value for c in Channel],
                       help="a channel to write for (repeat it); default the brand's primary channels")
    write.add_argument("--variants", type=int, default=2, help="variants per channel (1-5, default 2)")
    write.add_argument("--thread", action="store_true", help="X: write it as a thread")
    write.add_argument("--seed", type=int, default=0, help="the composer's seed (default 0)")


def write(settings: Settings, args: argparse.Namespace) -> int:
    if args.topic and not (args.persona and args.pillar):
        return error("--topic needs --persona and --pillar (the package's locked persona and pillar)")
    if not 1 <= args.variants <= 5:
        return error("--variants is 1 to 5")
    common.join(settings)  # the brand's agent runs in the running Kairo
    return asyncio.run(write_package(settings, args))


async def write_package(settings: Settings, args: argparse.Namespace) -> int:
    async with common.opened_brand(settings, args.brand) as (resolved, _, brand):
        if brand is None:
            return 1
        channels = [Channel(c) for c in args.channel or brand.primary_channels]
        try:
            command = _command(args, channels)
        except ValidationError as exc:  # a malformed URL or text, named as the option that carries it
            return common.option_error(exc, _OPTIONS)
        view = await common.agent_gateway(resolved).send(brand.id, command)
    print_package(view)
    return 0


_OPTIONS = {"url": "--url", "topic": "--topic", "notes": "--notes", "card_id": "--card", "seed": "--seed"}


def _command(args: argparse.Namespace, channels: list[Channel]) -> WritePackage:
    page = PageAsk(url=args.url, notes=args.notes, persona_id=args.persona, pillar_id=args.pillar) if args.url else None
    topic = TopicAsk(topic=args.topic, notes=args.notes, persona_id=args.persona,
                     pillar_id=args.pillar) if args.topic else None  # fmt: skip
    asks = [ChannelAsk(channel=c, thread=args.thread and c is Channel.X, variants=args.variants)
            for c in dict.fromkeys(channels)]  # fmt: skip
    return WritePackage(card_id=args.card, page=page, topic=topic, channels=asks, seed=args.seed)
