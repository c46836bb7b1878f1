"""``kairo ingest FILE`` and ``kairo scout BRAND`` against a real PostgreSQL schema (the MiniLM
of the test session stands in for the one the CLI would load): a feed file becomes the brand's
org's documents, ingesting it again merges every item, and scouting prints the brand's board."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.brand_brain import OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand
from storage.postgres import sources as store

pytestmark = pytest.mark.integration

FEED = Path(__file__).resolve().parents[1] / "data" / "ingest" / "feed.rss"


async def test_ingest_a_feed_file_then_scout_the_brand(db, seeded, kairo, capsys):
    onboarded = await onboard_brand(db, OnboardingRequest(
        org_id=seeded.org.id, owner_user_ids=[seeded.user.id], name="Ledgerline", slug="ledgerline",
        primary_channels=["linkedin"], positioning="Marketing analytics for revenue teams.",
        personas=[PersonaDraft(name="RevOps lead", description="Keeps the CRM and the tracking plan honest.",
                               pain_points=["Numbers nobody trusts"], goals=["One source of truth"])],
        pillars=[PillarDraft(name="Attribution", description="Which channel earned the deal: ad platform "
                             "conversions against closed revenue in the CRM."),
                 PillarDraft(name="Tracking plans", description="Event tracking that stays clean release after "
                             "release: naming, audits and unused events.")],
    ))  # fmt: skip
    brand = onboarded.brand

    assert await kairo("ingest", str(FEED), "--brand", "ledgerline") == 0
    assert "2 items: 2 new documents, 0 already known" in capsys.readouterr().out
    async with db.connection() as conn:
        docs = await store.recent_documents(conn, org_id=brand.org_id, since=brand.created_at.replace(year=2000))
    assert sorted(d.doc.title for d in docs) == ["Ad platforms claim 2.3 times the conversions that actually closed",
                                                 "Tracking plans drift after every release"]  # fmt: skip
    assert {d.doc.org_id for d in docs} == {brand.org_id}

    assert await kairo("ingest", str(FEED), "--brand", str(brand.id)) == 0
    assert "0 new documents, 2 already known" in capsys.readouterr().out

    assert await kairo("scout", "ledgerline") == 0
    out = capsys.readouterr().out
    assert "2 documents scored" in out and "Ledgerline: board of" in out
    assert "Attribution" in out and "Tracking plans" in out  # one card per story, each on its pillar

    assert await kairo("scout", "no-such-brand") == 1
    assert "no brand 'no-such-brand'" in capsys.readouterr().out


async def test_ingest_refuses_a_missing_or_broken_file(tmp_path, kairo, capsys):
    assert await kairo("ingest", str(tmp_path / "missing.rss")) == 1
    assert "no file" in capsys.readouterr().out
    broken = tmp_path / "items.csv"
    broken.write_text("title,body\nA,B\n")
    assert await kairo("ingest", str(broken)) == 1
    assert "text" in capsys.readouterr().out
