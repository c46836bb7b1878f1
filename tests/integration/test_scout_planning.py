"""The brand agent's planning phase against PostgreSQL with the real scout (MiniLM), without
Ray: a cycle screens the new documents, scouts those on the brand's pillars into cards and the
day's batch, and records it in the run and the EventLog; the next cycle reads only what is new."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agents.brand_brain import (
    OnboardingRequest,
    PersonaDraft,
    PillarDraft,
    onboard_brand,
)
from agents.ingest.models import RawItem
from agents.scout.service import ingest
from runtime.agent_planning import OVERLAP, since_last_planning
from runtime.brand_agent import BrandAgent
from runtime.commands import RunCycle
from runtime.local import LocalEngines
from storage.objects import RunResult
from storage.objects.base import utcnow
from storage.postgres import repositories as repo
from storage.postgres import sources as store

pytestmark = pytest.mark.integration

ATTRIBUTION = (
    "Marketing teams are rebuilding multi-touch attribution as third-party cookies disappear. In a survey of "
    "300 B2B marketers, 58 percent said their last-click reports now credit paid search for deals that started "
    "in webinars and partner referrals. Several teams moved to data-driven attribution fed by first-party CRM "
    "events, and budget shifted toward channels that had looked unprofitable for years."
)
BUDGET = (
    "Finance chiefs are asking marketing leaders to defend every line of next year's budget. CFOs interviewed "
    "for a planning study said they cut spend they cannot tie to pipeline, and that a marketing plan without a "
    "forecast of revenue impact is the first to shrink when the board asks for savings."
)
SOURDOUGH = (
    "A good sourdough starts with a lively starter. Feed it twice a day for a week, keep it somewhere warm, and "
    "use it when it has doubled and smells pleasantly sour. Let the dough rest for an hour before adding salt."
)
HOLDOUT = (
    "Retail marketers are testing their attribution reports against geo holdout experiments. When one chain "
    "paused paid social ads in twelve regions for six weeks, sales there fell only two percent, a fraction of "
    "what the ad platform's attribution dashboard credited to social. The marketing team moved a third of the "
    "social budget into search and email, and now runs a holdout test before trusting any channel's reported "
    "return."
)


@pytest.fixture
async def brand(db, seeded):
    onboarded = await onboard_brand(db, OnboardingRequest(
        org_id=seeded.org.id, owner_user_ids=[seeded.user.id], name="Ledgerline", slug="ledgerline",
        primary_channels=["linkedin"], positioning="Marketing analytics that finance teams trust.",
        personas=[PersonaDraft(name="CMO", description="Defends the marketing budget to the CFO.",
                               pain_points=["Proving which channels work"], goals=["A budget the board believes"])],
        pillars=[PillarDraft(name="Attribution", description="Which marketing channel earned the sale, measured "
                             "with multi-touch attribution and holdout tests."),
                 PillarDraft(name="Budget planning", description="Defending and planning the marketing budget "
                             "with the CFO: forecasts, pipeline and revenue impact.")],
    ))  # fmt: skip
    return onboarded.brand


async def test_a_cycle_plans_new_documents_into_cards_and_the_next_reads_only_new_ones(db, brand, minilm):
    engines = LocalEngines(minilm)
    now = utcnow()
    report = await ingest(db, engines._engine("scout"), [
        RawItem(text=ATTRIBUTION, title="Attribution after cookies", published_at=now),
        RawItem(text=BUDGET, title="CFOs want a forecast", published_at=now),
        RawItem(text=SOURDOUGH, title="Sourdough basics", published_at=now),
    ], org_id=brand.org_id, now=now)
    attribution, budget, _sourdough = report.stored
    agent = BrandAgent(brand.id, db, engines, "test-host")
    await agent.load()

    first = (await agent.handle(RunCycle())).run
    assert first.result is RunResult.SUCCESS
    assert "screened 3 source documents" in first.summary and "2 new cards" in first.summary, first.summary
    async with db.connection() as conn:
        cards = await store.brand_cards(conn, brand.id)
        pillars = {p.name: p.id for p in await repo.pillars.list(conn, "brand_id = $1", brand.id)}
        events = await repo.event_log.list(conn, "run_id = $1 AND event_type = 'opportunity_created'", first.id)
        batch = await store.batch_for(conn, brand.id, now.date().isoformat())
    by_doc = {c.source_refs[0].global_source_doc_id: c for c in cards}
    assert set(by_doc) == {attribution, budget}  # the bread recipe made no card
    assert by_doc[attribution].pillar_id == pillars["Attribution"]
    assert by_doc[budget].pillar_id == pillars["Budget planning"]
    assert batch is not None and set(batch.opportunity_ids) == {c.id for c in cards}
    assert len(events) == 1 and events[0].meta["created"] == 2 and events[0].meta["new_docs"] == 3

    # The next planning starts where this one ended (less the overlap), so it reads nothing old.
    async with db.connection() as conn:
        since = await since_last_planning(conn, brand.id, utcnow())
    assert since >= now - OVERLAP - timedelta(seconds=5)

    later = utcnow() + OVERLAP + timedelta(minutes=1)  # past the overlap window of the first planning
    holdout = await ingest(db, engines._engine("scout"), [
        RawItem(text=HOLDOUT, title="A holdout test humbles the platform", published_at=later),
    ], org_id=brand.org_id, now=later)
    second = (await agent.handle(RunCycle())).run
    assert second.result is RunResult.SUCCESS and "new cards" in second.summary
    async with db.connection() as conn:
        line = (await repo.event_log.list(conn, "run_id = $1 AND event_type = 'opportunity_created'", second.id))[0]
    assert line.meta["new_docs"] == 4  # the new story, and the first three again within the overlap
    async with db.connection() as conn:
        after = await store.brand_cards(conn, brand.id)
    assert len(after) - len(cards) in (0, 1)  # a new card for the holdout story, or it joined the attribution one
    assert {c.id for c in cards} <= {c.id for c in after}  # nothing planned twice into a duplicate
    cited = {r.global_source_doc_id for c in after for r in c.source_refs}
    assert holdout.stored[0] in cited


async def test_a_cycle_without_new_documents_says_so(db, brand, minilm):
    agent = BrandAgent(brand.id, db, LocalEngines(minilm), "test-host")
    await agent.load()
    run = (await agent.handle(RunCycle())).run
    assert run.result is RunResult.SUCCESS and run.summary == "planning: no new source documents"
