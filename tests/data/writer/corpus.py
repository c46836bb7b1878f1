"""Builds the writer's labelled test set: the scout's three brands with the DNA in
``voices.json``, one opportunity card per relevant source document (32 cards), the templates
in ``templates.json``, and a WriteRequest per card with two channels (every channel and the X
thread covered). Ids are derived from names, so every run builds the same requests."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

from agents.writer.models import (
    BrandVoice,
    ChannelRequest,
    Named,
    SourceDoc,
    WriteRequest,
)
from storage.objects import (
    BannedWord,
    BrandBrainSnapshot,
    BrandRuntimeContext,
    Channel,
    ChannelOverride,
    Competitor,
    OpportunityCard,
    OpportunityType,
    PatternTemplate,
    SourceRef,
    UsageStats,
    VoiceMarker,
)

HERE = Path(__file__).parent
SCOUT = HERE.parent / "scout"
BRANDS = ("lumen", "ferncroft", "keel")
CHANNEL_PAIRS = [
    (ChannelRequest(channel=Channel.LINKEDIN), ChannelRequest(channel=Channel.X)),
    (ChannelRequest(channel=Channel.MASTODON), ChannelRequest(channel=Channel.X, thread=True)),
    (ChannelRequest(channel=Channel.BLUESKY), ChannelRequest(channel=Channel.YOUTUBE_SCRIPT)),
    (ChannelRequest(channel=Channel.LINKEDIN), ChannelRequest(channel=Channel.MASTODON)),
]
PREFERRED = {"lumen": "number_list", "ferncroft": "story", "keel": "contrarian"}


def uid(*parts: str) -> UUID:
    return uuid5(NAMESPACE_URL, "kairo-writer-test:" + ":".join(parts))


def templates() -> list[PatternTemplate]:
    data = json.loads((HERE / "templates.json").read_text())["templates"]
    return [PatternTemplate(id=uid("template", t["key"]), name=t["name"], channel_constraints=t["channel_constraints"],
                            structure=t["structure"], example_source_post_ids=[uid("post", t["key"])],
                            usage_stats=UsageStats(**t["usage_stats"]), status=t.get("status", "experimental"))
            for t in data]


def brand(key: str) -> tuple[BrandVoice, BrandRuntimeContext, dict]:
    scout = json.loads((SCOUT / "brands.json").read_text())[key]
    voice = json.loads((HERE / "voices.json").read_text())[key]
    brand_id = uid("brand", key)
    personas = [Named(id=uid(key, "persona", p["key"]), name=p["name"]) for p in scout["personas"]]
    pillars = [Named(id=uid(key, "pillar", p["key"]), name=p["name"]) for p in scout["pillars"]]
    snapshot = BrandBrainSnapshot(
        id=uid(key, "snapshot"), brand_id=brand_id, version=1, positioning=scout["positioning"], offers=scout["offers"],
        taboos=voice["taboos"], persona_ids=[p.id for p in personas], pillar_ids=[p.id for p in pillars],
        tone_profile=voice["tone_profile"], tone_descriptors=voice["tone_descriptors"],
        voice_markers=[VoiceMarker(phrase=m) for m in voice["voice_markers"]],
        banned_words=[BannedWord(**w) for w in voice["banned_words"]],
        competitors=[Competitor(**c) for c in scout["competitors"]],
    )
    runtime = BrandRuntimeContext(brand_id=brand_id, brand_brain_snapshot_id=snapshot.id,
                                  channel_overrides={Channel(c): ChannelOverride(**o) for c, o in voice["channels"].items()})
    return BrandVoice(name=scout["name"], snapshot=snapshot, personas=personas, pillars=pillars,
                      memory=scout["memory"]), runtime, scout


def requests(seed: int = 0) -> list[WriteRequest]:
    """One request per relevant document of each brand (card → two channels, two variants each)."""
    out: list[WriteRequest] = []
    tpl = templates()
    n = 0
    for key in BRANDS:
        voice, runtime, scout = brand(key)
        pillar_of = {p["key"]: Named(id=uid(key, "pillar", p["key"]), name=p["name"]) for p in scout["pillars"]}
        docs = json.loads((SCOUT / f"docs_{key}.json").read_text())
        weights = {uid("template", PREFERRED[key]): 2.0}
        for doc in docs:
            pillar_key = doc.get("relevant", {}).get(key)
            if not pillar_key:
                continue
            pillar = pillar_of[pillar_key]
            source = SourceDoc(id=uid("doc", doc["id"]), title=doc["title"], text=doc["text"], url=doc["url"])
            card = OpportunityCard(
                id=uid("card", doc["id"]), brand_id=voice.snapshot.brand_id, persona_id=voice.personas[n % len(voice.personas)].id,
                pillar_id=pillar.id, angle_summary=f"{pillar.name}: {doc['title']}", opportunity_type=OpportunityType.TREND,
                score=70, source_refs=[SourceRef(global_source_doc_id=source.id, relevance_note=f"on {pillar.name}")],
            )
            out.append(WriteRequest(brand=voice, runtime=runtime, card=card, sources=[source], templates=tpl,
                                    pattern_weights=weights, channels=list(CHANNEL_PAIRS[n % len(CHANNEL_PAIRS)]),
                                    seed=seed))
            n += 1
    return out


_WRITTEN: dict[int, list] = {}


def written(seed: int = 0) -> list:
    """``(request, result)`` for every request, written with the composer and all gates that
    run without an embedder (platform, banned words, hook, similarity, engagement). Cached per
    process: several test modules read the same packages."""
    if seed not in _WRITTEN:
        import asyncio

        from agents.gates import run_gates
        from agents.writer import Composer, write_package

        async def run() -> list:
            composer = Composer()
            return [(r, await write_package(r, composer, run_gates)) for r in requests(seed)]

        _WRITTEN[seed] = asyncio.run(run())
    return _WRITTEN[seed]
