"""One OpportunityBatch per brand and date, built idempotently.

The batch of a day has a deterministic id (from brand and date), so scouting the same day
twice names the same batch; merging keeps the cards it already lists, in their order, and
appends new ones best first, never twice. Cards stay queryable on their own: a batch only
groups them.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from uuid import NAMESPACE_URL, UUID, uuid5

from storage.objects import OpportunityBatch, OpportunityCard

_NAMESPACE = uuid5(NAMESPACE_URL, "https://kairo.dev/opportunity-batches")


def date_scope(now: datetime, tz: tzinfo | None = None) -> str:
    """The day ``now`` falls on (in ``tz``, default the timestamp's own zone), ISO format."""
    return (now.astimezone(tz) if tz else now).date().isoformat()


def batch_id(brand_id: UUID, scope: str) -> UUID:
    return uuid5(_NAMESPACE, f"{brand_id}:{scope}")


def merge_batch(brand_id: UUID, scope: str, existing: OpportunityBatch | None, cards: list[OpportunityCard],
                now: datetime) -> OpportunityBatch:  # fmt: skip
    """The day's batch with ``cards`` (the brand's cards only) added once each."""
    foreign = [c.id for c in cards if c.brand_id != brand_id]
    if foreign:
        raise ValueError(f"cards of another brand in the batch: {foreign[:3]}")
    ids = list(existing.opportunity_ids) if existing else []
    known = set(ids)
    for card in sorted(cards, key=lambda c: -c.score):
        if card.id not in known:
            ids.append(card.id)
            known.add(card.id)
    if existing is not None:
        return OpportunityBatch.model_validate({**existing.model_dump(), "opportunity_ids": ids})
    return OpportunityBatch(id=batch_id(brand_id, scope), brand_id=brand_id, date_scope=scope, opportunity_ids=ids,
                            created_at=now)  # fmt: skip
