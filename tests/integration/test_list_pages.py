"""The list routes' paging on a real schema: following the cursors reads each of the brand's rows
exactly once in the route's order, a filter keeps only its rows, and another brand's rows never
appear (``runtime.api.routes.queries.brand_page``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from runtime.api.routes.queries import brand_page, by_created
from storage.objects import Brand, OpportunityCard
from storage.objects.base import new_id
from storage.objects.enums import OpportunityState
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration

NEWEST_FIRST = by_created("opportunity_cards", descending=True)
STATES = [OpportunityState.NEW, OpportunityState.DISMISSED, OpportunityState.SNOOZED]


def _copy(model, **update):
    return type(model).model_validate({**model.model_dump(), **update})


async def test_pages_follow_the_order_filter_and_stay_in_the_brand(db, seeded):
    other = _copy(seeded.brand, id=new_id(), slug="other-brand", name="Other brand")
    template = seeded.opportunity_cards[0]
    start = template.created_at - timedelta(days=30)
    cards = [_copy(template, id=new_id(), created_at=start + timedelta(minutes=i), lifecycle_state=STATES[i % 3],
                   **({"snoozed_until": start + timedelta(days=90)} if STATES[i % 3] is OpportunityState.SNOOZED else {}))
             for i in range(11)]  # fmt: skip
    async with db.transaction() as conn:
        await repo.brands.insert(conn, Brand.model_validate(other.model_dump()))
        for card in cards:
            await repo.opportunity_cards.insert(conn, card)
        persona = _copy(seeded.persona, id=new_id(), brand_id=other.id)
        pillar = _copy(next(p for p in seeded.pillars if p.id == template.pillar_id), id=new_id(), brand_id=other.id)
        await repo.personas.insert(conn, persona)
        await repo.pillars.insert(conn, pillar)
        await repo.opportunity_cards.insert(conn, _copy(template, id=new_id(), brand_id=other.id, persona_id=persona.id,
                                                        pillar_id=pillar.id))  # fmt: skip

    async def everything(**equal) -> list[OpportunityCard]:
        seen, cursor = [], None
        async with db.connection() as conn:
            while True:
                page, cursor = await brand_page(conn, repo.opportunity_cards, seeded.brand.id, order=NEWEST_FIRST,
                                                cursor=cursor, limit=4, **equal)  # fmt: skip
                assert len(page) <= 4
                seen.extend(page)
                if cursor is None:
                    return seen

    mine = {c.id for c in cards} | {c.id for c in seeded.opportunity_cards}
    listed = await everything()
    assert [c.id for c in listed] == [c.id for c in sorted(listed, key=lambda c: (c.created_at, c.id), reverse=True)]
    assert {c.id for c in listed} == mine and len(listed) == len(mine)
    dismissed = await everything(lifecycle_state=OpportunityState.DISMISSED)
    assert {c.id for c in dismissed} == {c.id for c in listed if c.lifecycle_state is OpportunityState.DISMISSED}
    assert len(dismissed) >= 3
    assert await everything(lifecycle_state=None) == listed  # an absent filter filters nothing
