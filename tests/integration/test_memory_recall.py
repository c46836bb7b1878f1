"""Recall of the live memory: every stored fragment is found by its own text, with near-duplicate
fragments in the brand and while other fragments are still being written.

What once lost a fragment (see storage/memory/vectors.py, ``VectorIndex.add``): Chroma 1.5's local
HNSW writer replays its log tail after the first read of a collection, and a replayed upsert
rewrote points in place. So the test reads the collection early, then keeps writing and reading
at once, and near-duplicates (the same post with a word or a line added) sit in the same graph.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from storage.memory import VectorIndex
from storage.memory.store import MemoryDraft, MemoryStore

pytestmark = pytest.mark.integration

POSTS = [
    "We stopped reporting MQLs to the board and started reporting pipeline by stage.",
    "Attribution is a conversation about trade-offs, not a dashboard that settles arguments.",
    "Our CFO reads one slide every quarter: cost per opportunity by channel.",
    "Last-touch attribution flattered paid search for two years before anyone asked why.",
    "A campaign that fills the funnel but never closes is a brand tax, not a win.",
    "Self-reported attribution on the demo form told us more than any multi-touch model.",
    "The best-performing post last month was a screenshot of a spreadsheet, not a video.",
    "If sales and marketing count leads differently, the forecast is fiction.",
    "We moved webinar budget into customer interviews and our win rate went up.",
    "Nobody on our team can explain the lead score, so nobody trusts it.",
    "A good case study names the metric that moved and the month it moved.",
    "Brand search volume is the one number we watch that paid media cannot fake.",
    "Our onboarding emails were rewritten by support, and churn in month one halved.",
    "Every dashboard we retired was one nobody opened after the launch meeting.",
    "The demo request form lost a third of its fields and doubled its conversions.",
    "Pricing pages deserve the same testing budget as the homepage.",
    "We publish our pipeline definitions internally so arguments start from the same page.",
    "Podcasts built our brand slowly, then all at once, after eighteen months.",
    "Analyst relations paid off only when we gave them data nobody else had.",
    "Our best leads come from the comparison page we almost did not publish.",
]
# Edits that keep a post's meaning: the kind of near-duplicate an import of old posts holds.
VARIANTS = [
    lambda t: t,
    lambda t: f"Reminder: {t}",
    lambda t: t.replace(".", "!"),
    lambda t: f"{t} That is the whole lesson.",
    lambda t: t.replace(" we ", " our team ").replace("We ", "Our team "),
]
OPENERS = ["Most founders", "Our analysts", "Every CMO we interviewed", "Procurement teams", "New hires",
           "The board", "Agencies we hired", "Customer success"]  # fmt: skip
CLAIMS = ["underestimate how long trust takes to build", "ask for weekly pipeline updates",
          "ignore the renewal numbers until it is too late", "want one metric, not twelve",
          "read the footnotes before the headline", "remember the story long after the chart"]  # fmt: skip
CONTEXTS = ["in regulated industries.", "when budgets are frozen.", "after a missed quarter.",
            "during a reorg.", "at the first board meeting of the year."]  # fmt: skip


def near_duplicates() -> list[str]:
    return list(dict.fromkeys(v(p) for p in POSTS for v in VARIANTS))


def other_fragments() -> list[str]:
    return [f"{o} {c} {x}" for o in OPENERS for c in CLAIMS for x in CONTEXTS]


@pytest.fixture
async def store(db, minilm, tmp_path):
    index = await VectorIndex.open(path=tmp_path / "chroma", embedder=minilm)
    yield MemoryStore(db, index, minilm)
    await index.close()


async def found_by_own_text(store: MemoryStore, brand_id, fragment, k: int = 5) -> bool:
    hits = await store.search(brand_id, fragment.raw_text, k=k)
    return any(h.fragment.id == fragment.id and h.distance < 1e-3 for h in hits)


async def test_every_fragment_is_found_by_its_own_text_while_writes_continue(store, seeded):
    brand_id = seeded.brand.id
    rng = random.Random(7)
    texts = near_duplicates() + other_fragments()
    rng.shuffle(texts)
    drafts = [MemoryDraft(brand_id=brand_id, source_type="imported_example", raw_text=t) for t in texts]
    first, rest = drafts[:60], drafts[60:]
    stored = list(await store.add(first))
    # The collection's first read, with nothing new to apply: then more writes follow.
    assert await found_by_own_text(store, brand_id, stored[0])

    misses: list[str] = []
    writing = True

    async def writer() -> None:
        nonlocal writing
        try:
            for start in range(0, len(rest), 7):  # small batches and single fragments, like requests
                batch = rest[start:start + 7]
                if start % 2:
                    for draft in batch:
                        stored.extend(await store.add([draft]))
                else:
                    stored.extend(await store.add(batch))
        finally:
            writing = False

    async def reader() -> int:
        checks = 0
        while writing:
            fragment = rng.choice(stored)
            if not await found_by_own_text(store, brand_id, fragment):
                misses.append(fragment.raw_text)
            checks += 1
        return checks

    _, checks = await asyncio.gather(writer(), reader())
    assert checks > 0 and misses == []
    assert len(stored) == len(texts)
    assert await store.index.count(brand_id) == len(texts)

    # Afterwards, every single fragment: by its own text, nearest first at distance ~0.
    for fragment in stored:
        hits = await store.search(brand_id, fragment.raw_text, k=5)
        assert hits[0].fragment.id == fragment.id or any(
            h.fragment.id == fragment.id and h.distance < 1e-3 for h in hits
        ), fragment.raw_text
    # Near-duplicates are really near: the test holds pairs the index must tell apart.
    dup = next(f for f in stored if f.raw_text.startswith("Reminder: "))
    hits = await store.search(brand_id, dup.raw_text, k=2)
    assert hits[0].fragment.id == dup.id and hits[1].distance < 0.1
