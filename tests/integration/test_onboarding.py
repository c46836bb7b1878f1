"""Onboarding as one transaction."""

from __future__ import annotations


import pytest

from agents.brand_brain import OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand
from storage.errors import Conflict
from storage.objects import Channel, LengthMode
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration


def _request(org_id, owner_id, slug="fresh-brand", **overrides):
    data = dict(
        org_id=org_id, owner_user_ids=[owner_id], name="Fresh Brand", slug=slug,
        primary_channels=["x", "linkedin"], positioning="We make onboarding boring.",
        personas=[PersonaDraft(name="Ops lead", description="Runs the team.", pain_points=["Chaos"], goals=["Calm"])],
        pillars=[PillarDraft(name="Playbooks", description="How we work.")],
    )  # fmt: skip
    return OnboardingRequest(**{**data, **overrides})


async def test_onboarding_creates_everything_the_agent_needs(db, seeded):
    onboarded = await onboard_brand(db, _request(seeded.org.id, seeded.user.id))
    async with db.connection() as conn:
        snapshot = await repo.snapshots.latest(conn, onboarded.brand.id)
        context = await repo.runtime_contexts.for_brand(conn, onboarded.brand.id)
        preferences = await repo.brand_preferences.for_brand(conn, onboarded.brand.id)
        members = await repo.memberships.list(conn, "brand_id = $1", onboarded.brand.id)
    assert snapshot.version == 1 and snapshot.persona_ids == [onboarded.personas[0].id]
    assert context.brand_brain_snapshot_id == snapshot.id
    assert set(context.channel_overrides) == {Channel.X, Channel.LINKEDIN}
    assert context.channel_overrides[Channel.X].length_mode is LengthMode.SHORT
    # Seeded GlobalPriors ("default" segment) supply the starting weights and LinkedIn tone.
    assert preferences.opportunity_scoring_weights == seeded.global_priors.default_opportunity_weights
    assert context.channel_overrides[Channel.LINKEDIN].tone_bias == seeded.global_priors.default_tone_bias["linkedin"]
    assert [m.user_id for m in members] == [seeded.user.id]


async def test_failed_onboarding_leaves_nothing_behind(db, seeded):
    taken = _request(seeded.org.id, seeded.user.id, slug=seeded.brand.slug)
    with pytest.raises(Conflict):
        await onboard_brand(db, taken)
    async with db.connection() as conn:
        assert await repo.brands.find(conn, taken.brand_id) is None
        assert await repo.personas.list(conn, "name = 'Ops lead'") == []
