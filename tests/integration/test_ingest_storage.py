"""Persistence of ingestion and scouting on real PostgreSQL: documents with passage vectors,
competitors in the snapshot, cards (pin, snooze, dismiss) and one batch per day, feed
subscriptions with health and SKIP LOCKED claiming; invariants mirrored in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from agents.brand_brain import OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand
from agents.ingest.health import new_subscription, record_failure
from agents.ingest.models import IngestInput, RawItem
from agents.ingest.pipeline import Ingestor
from agents.scout.batches import date_scope, merge_batch
from agents.scout.lifecycle import apply
from storage.errors import Conflict, KairoError
from storage.memory import HashingEmbedder
from storage.objects import Competitor, OpportunityCard, OpportunityState, OpportunityType, SourceRef
from storage.postgres import repositories as repo
from storage.postgres import sources

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TEXT = ("A subscription software company switched off its branded search ads in twelve regions for six weeks. "
        "Sign-ups in the holdout regions fell by only 9 percent.")  # fmt: skip


async def _brand(db, seeded, **overrides):
    request = OnboardingRequest(
        org_id=seeded.org.id, owner_user_ids=[seeded.user.id], name="Scout Brand", slug=f"scout-{uuid4().hex[:8]}",
        primary_channels=["linkedin"], positioning="We measure marketing honestly.",
        personas=[PersonaDraft(name="CMO", description="Owns the budget.", pain_points=["Noise"], goals=["Proof"])],
        pillars=[PillarDraft(name="Experiments", description="Holdouts and A/B tests.")],
        competitors=[Competitor(name="Metricly", domains=["Metricly.io"], handles=["@metricly"])], **overrides,
    )  # fmt: skip
    return await onboard_brand(db, request)


async def test_competitors_live_in_the_snapshot_and_the_database_checks_them(db, seeded, raw):
    onboarded = await _brand(db, seeded)
    async with db.connection() as conn:
        snapshot = await repo.snapshots.latest(conn, onboarded.brand.id)
    assert snapshot.competitors == [Competitor(name="Metricly", domains=["metricly.io"], handles=["@metricly"])]
    with pytest.raises(Exception, match="competitors_valid"):
        await raw.execute(
            "INSERT INTO brand_brain_snapshots (brand_id, version, positioning, competitors) VALUES ($1, 2, 'p', $2)",
            onboarded.brand.id, '[{"name": "A"}, {"name": "a"}]',
        )  # fmt: skip


async def test_documents_with_passages_are_stored_once(db):
    result = await Ingestor(HashingEmbedder()).ingest(IngestInput(items=[RawItem(text=TEXT, title="Holdout")], now=NOW))
    prepared = result.docs[0]
    async with db.transaction() as conn:
        assert await sources.save_document(conn, prepared.doc, prepared.passages, prepared.passage_vectors, "hashing-384")
        twin = prepared.doc.model_copy(update={"id": uuid4()})  # same content hash, same (public) org
        assert not await sources.save_document(conn, twin, prepared.passages, prepared.passage_vectors, "hashing-384")
    async with db.connection() as conn:
        stored = await sources.recent_documents(conn, org_id=None, since=NOW - timedelta(days=1))
    assert [s.doc.id for s in stored] == [prepared.doc.id]
    assert stored[0].passages == prepared.passages
    assert stored[0].vectors[0] == pytest.approx(prepared.passage_vectors[0], abs=1e-6)


async def test_cards_lifecycle_and_one_batch_per_day(db, seeded, raw):
    onboarded = await _brand(db, seeded)
    brand_id = onboarded.brand.id
    result = await Ingestor(HashingEmbedder()).ingest(IngestInput(items=[RawItem(text=TEXT)], now=NOW))
    doc = result.docs[0]
    card = OpportunityCard(
        brand_id=brand_id, persona_id=onboarded.personas[0].id, pillar_id=onboarded.pillars[0].id, score=70,
        source_refs=[SourceRef(global_source_doc_id=doc.doc.id, relevance_note="on Experiments")],
        angle_summary="Experiments: a holdout", opportunity_type=OpportunityType.TREND, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    async with db.transaction() as conn:
        await sources.save_document(conn, doc.doc, doc.passages, doc.passage_vectors, "hashing-384")
        await sources.save_cards(conn, [card])
        batch = await sources.save_batch(conn, merge_batch(brand_id, date_scope(NOW), None, [card], NOW))
    snoozed = apply(apply(card, "pin", NOW), "snooze", NOW, until=NOW + timedelta(hours=4))
    async with db.transaction() as conn:
        await sources.save_cards(conn, [snoozed])
        again = await sources.save_batch(conn, merge_batch(brand_id, batch.date_scope, batch, [snoozed], NOW))
    assert again.id == batch.id and again.opportunity_ids == [card.id]
    async with db.connection() as conn:
        stored = await sources.card(conn, brand_id, card.id)
        assert (stored.pinned, stored.lifecycle_state, stored.snoozed_until) == (True, OpportunityState.SNOOZED, NOW + timedelta(hours=4))
        assert stored.created_at == card.created_at
        assert await sources.brand_cards(conn, brand_id, states=[OpportunityState.NEW]) == []
        assert [c.id for c in await sources.brand_cards(conn, brand_id)] == [card.id]
    # The database refuses a snooze time on a card that is not snoozed, and a moved created_at.
    with pytest.raises(Exception, match="snoozed_until_only_snoozed"):
        await raw.execute("UPDATE opportunity_cards SET lifecycle_state = 'new' WHERE id = $1", card.id)
    with pytest.raises(Exception, match="created_at"):
        await raw.execute("UPDATE opportunity_cards SET created_at = created_at - interval '1 day' WHERE id = $1", card.id)


async def test_feed_subscriptions_health_and_claiming(db, seeded):
    onboarded = await _brand(db, seeded)
    brand_id = onboarded.brand.id
    sub = new_subscription(brand_id, "https://www.feeds.example/rss?utm_source=x", now=NOW)
    async with db.transaction() as conn:
        await sources.feed_subscriptions.insert(conn, sub)
    with pytest.raises(KairoError):  # one subscription per normalized feed URL and brand
        async with db.transaction() as conn:
            await sources.feed_subscriptions.insert(conn, new_subscription(brand_id, "http://feeds.example/rss/", now=NOW))
    async with db.transaction() as conn:
        due = await sources.due_feeds(conn, NOW)
        assert [d.id for d in due] == [sub.id]
        failed = record_failure(due[0], NOW, "timeout: no answer")
        saved = await sources.feed_subscriptions.save(conn, failed, expected_version=due[0].version)
        with pytest.raises(Conflict):
            await sources.feed_subscriptions.save(conn, failed, expected_version=due[0].version)
    async with db.connection() as conn:
        assert await sources.due_feeds(conn, NOW) == []  # backed off
        listed = await sources.brand_feeds(conn, brand_id)
    assert listed[0].last_error == "timeout: no answer" and listed[0].consecutive_failures == 1
    assert listed[0].version == saved.version == 2
    async with db.transaction() as conn:
        await sources.remove_feed(conn, brand_id, sub.id)
        with pytest.raises(KairoError):
            await sources.remove_feed(conn, brand_id, sub.id)
