"""Every example object of seed 000 loads, is stored, and reads back equal."""

from __future__ import annotations

import pytest

from storage.examples import example_uuid, raw_examples
from storage.objects import OpportunityState
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration

REPOSITORY_OF = {
    "CO-01": repo.brands, "CO-02": repo.personas, "CO-03": repo.pillars, "CO-04": repo.users,
    "CO-05": repo.snapshots, "CO-06": repo.runtime_contexts, "CO-08": repo.source_docs,
    "CO-09": repo.opportunity_cards, "CO-10": repo.opportunity_batches,
    "CO-11": repo.pattern_source_posts, "CO-12": repo.pattern_templates, "CO-13": repo.pattern_usages,
    "CO-14": repo.packages, "CO-15": repo.core_arguments, "CO-16": repo.channel_plans,
    "CO-17": repo.variants, "CO-18": repo.feedback_events, "CO-19": repo.brand_preferences,
    "CO-20": repo.global_priors, "CO-21": repo.channel_configs, "CO-22": repo.publishing_jobs,
}  # fmt: skip


@pytest.mark.parametrize("co", sorted(REPOSITORY_OF))
async def test_example_round_trips_through_postgres(db, seeded, co):
    expected = seeded.by_co[co]
    async with db.connection() as conn:
        stored = await REPOSITORY_OF[co].get(conn, expected.id)
    assert stored == expected
    assert stored.id == example_uuid(raw_examples()[co]["id"])


async def test_examples_keep_their_cross_references(db, seeded):
    async with db.connection() as conn:
        package = await repo.packages.get(conn, seeded.package.id)
        snapshot = await repo.snapshots.latest(conn, seeded.brand.id)
    assert set(package.channel_plan_ids) == {example_uuid("chp_100_lk"), example_uuid("chp_100_x")}
    assert snapshot.version == 3 and snapshot.id == example_uuid("bbs_3")
    assert snapshot.pillar_ids == [example_uuid("pillar_strategy"), example_uuid("pillar_bts")]


def test_card_without_lifecycle_state_takes_documented_default():
    assert "lifecycle_state" not in raw_examples()["CO-09"]
    from storage.examples import load_seed_examples

    assert load_seed_examples().opportunity_cards[0].lifecycle_state is OpportunityState.NEW
