"""Ingestion and the scout against PostgreSQL with the real engine (MiniLM): documents stored
once, a card for the brand's pillar and none for off-pillar text, one batch per day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.brand_brain import OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand
from agents.engines.scout import OpportunityScout
from agents.ingest.models import RawItem
from agents.scout.service import ingest, scout_brand
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

ON_PILLAR = (
    "Marketing teams are rebuilding multi-touch attribution as third-party cookies disappear. "
    "In a survey of 300 B2B marketers, 58 percent said their last-click reports now credit paid search "
    "for deals that started in webinars and partner referrals. Several teams moved to data-driven "
    "attribution models fed by first-party CRM events, and reported that budget shifted toward channels "
    "that had looked unprofitable for years. Analysts warn that attribution without a holdout test still "
    "overstates the channels that simply catch buyers at the end of the journey."
)
REWORDED = (
    "With third-party cookies going away, marketing teams are rebuilding their multi-touch attribution. "
    "A survey of 300 B2B marketers found that 58 percent say last-click reports now credit paid search for "
    "deals that began in webinars and partner referrals. Several teams switched to data-driven attribution "
    "models fed by first-party CRM events and saw budget shift toward channels that had looked unprofitable "
    "for years. Analysts warn that attribution without a holdout test still overstates channels that catch "
    "buyers at the end of the journey."
)
OFF_TOPIC = (
    "A good sourdough starts with a lively starter. Feed it twice a day for a week, keep it somewhere warm, "
    "and use it when it has doubled and smells pleasantly sour. Mix flour and water first and let the dough "
    "rest for an hour before adding salt; the crumb will be more open and the crust darker."
)
TRAP = (
    "Climate scientists published a new attribution study on last summer's heatwave. Using thousands of model "
    "runs, they estimate that human-caused warming made the event at least ten times more likely and about "
    "two degrees hotter. Extreme-event attribution has become fast enough to report within weeks."
)


@pytest.fixture
async def brand(db, seeded):
    onboarded = await onboard_brand(db, OnboardingRequest(
        org_id=seeded.org.id, owner_user_ids=[seeded.user.id], name="Ledgerline", slug="ledgerline",
        primary_channels=["linkedin"], positioning="Marketing analytics that finance teams trust.",
        personas=[PersonaDraft(name="CMO", description="Defends the marketing budget to the CFO.",
                               pain_points=["Proving which channels work"], goals=["A budget the board believes"])],
        pillars=[PillarDraft(name="Attribution", description="Which marketing channel earned the sale, "
                             "measured with multi-touch attribution and holdout tests.")],
    ))  # fmt: skip
    return onboarded.brand


async def test_ingest_then_scout_makes_one_card_per_story_and_one_batch_per_day(db, brand, minilm):
    engine = OpportunityScout(minilm)
    items = [RawItem(text=t, title=title, published_at=NOW) for t, title in (
        (ON_PILLAR, "Attribution after cookies"), (REWORDED, "Attribution rebuilt"), (OFF_TOPIC, "Sourdough"),
        (TRAP, "Heatwave attribution"),
    )]  # fmt: skip
    report = await ingest(db, engine, items, org_id=brand.org_id, now=NOW)
    assert len(report.stored) == 3 and [m["index"] for m in report.merged] == [1]  # the rewording merged

    scouted = await scout_brand(db, engine, brand.id, now=NOW)
    assert scouted.docs == 3 and scouted.created == len(scouted.cards) >= 1
    by_doc = {c.source_refs[0].global_source_doc_id: c for c in scouted.cards}
    on_pillar, off_topic, trap = report.stored
    async with db.connection() as conn:
        pillar = (await repo.pillars.list(conn, "brand_id = $1", brand.id))[0]
    card = scouted.cards[0]
    assert card is by_doc[on_pillar] and card.pillar_id == pillar.id  # the brand's story, best first
    assert off_topic not in by_doc
    # A one-pillar brand's thin profile: the climate "attribution" story matches the pillar's
    # word, but its context is ordinary text for this brand, so it makes no card.
    assert trap not in by_doc
    assert scouted.batch.opportunity_ids == [c.id for c in scouted.cards]

    again = await scout_brand(db, engine, brand.id, now=NOW)
    assert again.created == 0 and again.batch.id == scouted.batch.id
    assert again.batch.opportunity_ids == scouted.batch.opportunity_ids
    repeated = await ingest(db, engine, items[:1], org_id=brand.org_id, now=NOW)
    assert repeated.stored == [] and repeated.merged  # the same article again is the stored document
