"""Quality of ingestion and scouting, measured on the labelled set in tests/data/scout/.

The set: 3 brands x 3 pillars (brands.json) and 62 documents in realistic prose: articles on
each pillar, competitor news on a pillar topic, same-domain off-pillar traps that borrow pillar
vocabulary (influencer contracts and a packaging redesign for the analytics brand), traps that
use a pillar's words in another world (climate "attribution", a comedy "roast", wildfire
"incident response"), reworded near-duplicates, off-topic pieces and non-English documents
(de, es, fr, ja, zh). Brand ``keel`` was written with the others but kept aside while choosing
between candidate methods on ``lumen`` and ``ferncroft`` (its numbers were printed alongside,
so it is only half held out). ``heldout/`` holds a fourth brand, ``stride``, and its 13
documents, written after the method and its constants were frozen and scored once, with every
document of the main set as a distractor: the truly held-out check.

Floors (issue 8): precision@5 >= 0.8 for every brand after dedupe (a near-duplicate in the top 5
is a miss), the pillar right for >= 80 % of relevant cards in the top 10, the language right on
every document, every planted near-duplicate merged and no distinct pair merged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import NAMESPACE_URL, uuid5

import pytest

from agents.engines import OpportunityScout
from agents.ingest.language import detect_language
from agents.ingest.models import IngestInput, RawItem
from agents.ingest.pipeline import known_from_prepared
from agents.ingest.text import clean_text
from agents.scout.models import BrandProfile, PersonaProfile, PillarProfile, ScoutDoc, ScoutInput
from storage.objects import Competitor, OpportunityType, SourceDocType

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data" / "scout"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _id(*parts: str):
    return uuid5(NAMESPACE_URL, "kairo-test:" + ":".join(parts))


def load_docs() -> list[dict]:
    docs = [d for path in sorted(DATA.glob("docs_*.json")) for d in json.loads(path.read_text())]
    assert len({d["id"] for d in docs}) == len(docs)
    return docs


def brand_profile(key: str, spec: dict) -> BrandProfile:
    return BrandProfile(
        brand_id=_id("brand", key), name=spec["name"], positioning=spec["positioning"], offers=spec["offers"],
        pillars=[PillarProfile(id=_id(key, "pillar", p["key"]), name=p["name"], description=p["description"])
                 for p in spec["pillars"]],
        personas=[PersonaProfile(id=_id(key, "persona", p["key"]), name=p["name"], description=p["description"],
                                 pain_points=p["pain_points"], goals=p["goals"]) for p in spec["personas"]],
        memory=spec["memory"], competitors=[Competitor(**c) for c in spec["competitors"]], languages=spec["languages"],
    )  # fmt: skip


@pytest.fixture(scope="module")
def labelled(minilm):
    docs = load_docs()
    brands = json.loads((DATA / "brands.json").read_text())
    engine = OpportunityScout(minilm)
    items = [
        RawItem(source_type=SourceDocType.ARTICLE, text=d["text"], title=d["title"], source_url=d["url"],
                published_at=datetime.fromisoformat(d["published_at"]))
        for d in docs
    ]  # fmt: skip
    return docs, brands, engine, items


@pytest.fixture(scope="module")
async def ingested(labelled):
    docs, brands, engine, items = labelled
    result = await engine.ingest(IngestInput(items=items, now=NOW))
    return result


def test_the_set_is_big_and_varied_enough():
    docs = load_docs()
    brands = json.loads((DATA / "brands.json").read_text())
    assert len(docs) >= 60 and len(brands) == 3
    assert all(len(b["pillars"]) == 3 for b in brands.values())
    kinds = {d["kind"] for d in docs}
    assert {"pillar", "competitor", "domain_trap", "vocab_trap", "near_duplicate", "off_topic", "non_english"} <= kinds
    assert {"de", "es", "fr"} <= {d["language"] for d in docs} and {"ja", "zh"} & {d["language"] for d in docs}
    for key, spec in brands.items():
        for pillar in spec["pillars"]:
            assert sum(1 for d in docs if d["relevant"].get(key) == pillar["key"]) >= 2


def test_language_right_on_every_document():
    wrong = {d["id"]: detect_language(clean_text(d["text"])) for d in load_docs()}
    wrong = {k: v for k, v in wrong.items() if v != next(d["language"] for d in load_docs() if d["id"] == k)}
    assert wrong == {}


async def test_every_planted_near_duplicate_merges_and_no_distinct_pair_does(labelled, ingested):
    docs, _, _, _ = labelled
    ids_by_index = {i: d["id"] for i, d in enumerate(docs)}
    stored = {p.doc.source_url: p.doc.id for p in ingested.docs}
    doc_id_of = {d["id"]: stored.get(d["url"]) for d in docs}
    merged = {ids_by_index[m.index]: m for m in ingested.merged}
    planted = {d["id"]: d["dup_of"] for d in docs if d.get("dup_of")}
    assert ingested.rejected == []
    assert set(merged) == set(planted), "merged exactly the planted near-duplicates"
    for dup, original in planted.items():
        assert merged[dup].doc_id == doc_id_of[original]
        assert merged[dup].reason == "near_duplicate"
    assert len(ingested.docs) == len(docs) - len(planted)
    # Every stored document carries the language it is written in.
    language = {d["url"]: d["language"] for d in docs}
    assert {p.doc.source_url: p.doc.language for p in ingested.docs} == {
        u: lang for u, lang in language.items() if u in stored
    }


async def _board(engine, brand_key, spec, ingested):
    profile = brand_profile(brand_key, spec)
    scout_docs = [
        ScoutDoc(id=p.doc.id, title=p.doc.title, text=p.doc.text, source_url=p.doc.source_url, language=p.doc.language,
                 published_at=p.doc.published_at, ingested_at=p.doc.ingested_at, passages=p.passages,
                 passage_vectors=p.passage_vectors, vector=p.vector)
        for p in ingested.docs
    ]  # fmt: skip
    result = await engine.scout(ScoutInput(brand=profile, docs=scout_docs, now=NOW))
    return profile, result


def _label_of(docs, ingested):
    by_url = {d["url"]: d for d in docs}
    return {p.doc.id: by_url[p.doc.source_url] for p in ingested.docs}


@pytest.mark.parametrize("brand_key", ["lumen", "ferncroft", "keel"])
async def test_precision_at_5_and_pillar_accuracy_at_10(labelled, ingested, brand_key):
    docs, brands, engine, _ = labelled
    spec = brands[brand_key]
    profile, result = await _board(engine, brand_key, spec, ingested)
    label = _label_of(docs, ingested)
    pillar_key = {p.id: k["key"] for p, k in zip(profile.pillars, spec["pillars"], strict=True)}
    cards = result.cards
    stories: set[str] = set()
    hits = 0
    for card in cards[:5]:
        first = label[card.source_refs[0].global_source_doc_id]
        story = first.get("dup_of") or first["id"]
        if first["relevant"].get(brand_key) and story not in stories:
            hits += 1
        stories.add(story)
    precision = hits / 5
    relevant_top10 = [c for c in cards[:10] if label[c.source_refs[0].global_source_doc_id]["relevant"].get(brand_key)]
    right = [c for c in relevant_top10
             if pillar_key[c.pillar_id] == label[c.source_refs[0].global_source_doc_id]["relevant"][brand_key]]
    print(f"{brand_key}: precision@5={precision:.2f} pillar@10={len(right)}/{len(relevant_top10)} cards={len(cards)}")
    assert len(cards) >= 5
    assert precision >= 0.8
    assert relevant_top10 and len(right) / len(relevant_top10) >= 0.8


@pytest.mark.parametrize("brand_key", ["lumen", "ferncroft", "keel"])
async def test_traps_rank_below_every_pillar_document(labelled, ingested, brand_key):
    """On pillar, not on domain: no same-domain trap, vocabulary trap, off-topic or foreign
    document outranks a document on one of the brand's pillars."""
    docs, brands, engine, _ = labelled
    _, result = await _board(engine, brand_key, brands[brand_key], ingested)
    label = _label_of(docs, ingested)
    score = {s.doc_id: s.score for s in result.scores}
    relevant = [score[i] for i, d in label.items() if d["relevant"].get(brand_key)]
    own_traps = {i: score[i] for i, d in label.items()
                 if d["kind"] in ("domain_trap", "vocab_trap") and d["id"].startswith(brand_key[:4])}
    assert own_traps
    # Every trap under the median relevant document, and the worst trap under most of them.
    relevant.sort()
    median = relevant[len(relevant) // 2]
    assert all(s < median for s in own_traps.values()), own_traps
    outcomes = {s.doc_id: s.outcome for s in result.scores}
    assert all(outcomes[i] == "language" for i, d in label.items() if d["language"] != "en")


@pytest.mark.parametrize("brand_key", ["lumen", "ferncroft", "keel"])
async def test_competitor_news_is_competitive_and_angle_names_pillar(labelled, ingested, brand_key):
    docs, brands, engine, _ = labelled
    profile, result = await _board(engine, brand_key, brands[brand_key], ingested)
    label = _label_of(docs, ingested)
    names = {p.id: p.name for p in profile.pillars}
    for card in result.cards:
        doc = label[card.source_refs[0].global_source_doc_id]
        assert card.angle_summary.startswith(names[card.pillar_id])
        assert card.source_refs[0].relevance_note
        if doc["competitive"].get(brand_key) if "competitive" in doc else False:
            assert card.opportunity_type is OpportunityType.COMPETITIVE
            assert any(c.name in card.angle_summary for c in profile.competitors)
        else:
            assert card.opportunity_type is not OpportunityType.COMPETITIVE
    competitive = [d for d in docs if d.get("competitive", {}).get(brand_key)]
    carded = {label[c.source_refs[0].global_source_doc_id]["id"] for c in result.cards}
    assert {d["id"] for d in competitive} <= carded


@pytest.fixture(scope="module")
async def heldout(labelled, ingested):
    _, _, engine, _ = labelled
    docs = json.loads((DATA / "heldout" / "docs.json").read_text())
    brands = json.loads((DATA / "heldout" / "brands.json").read_text())
    items = [RawItem(source_type=SourceDocType.ARTICLE, text=d["text"], title=d["title"], source_url=d["url"],
                     published_at=datetime.fromisoformat(d["published_at"])) for d in docs]  # fmt: skip
    result = await engine.ingest(IngestInput(items=items, known=known_from_prepared(ingested.docs), now=NOW))
    return docs, brands, result


async def test_heldout_brand_meets_the_floors_among_all_documents(labelled, ingested, heldout):
    main_docs, _, engine, _ = labelled
    docs, brands, result = heldout
    planted = {d["id"]: d["dup_of"] for d in docs if d.get("dup_of")}
    merged = {docs[m.index]["id"] for m in result.merged}
    assert merged == set(planted) and result.rejected == []
    assert all(detect_language(clean_text(d["text"])) == d["language"] for d in docs)
    combined = type(ingested)(docs=[*ingested.docs, *result.docs], merged=[], rejected=[])
    every_doc = [*main_docs, *docs]
    profile, board = await _board(engine, "stride", brands["stride"], combined)
    label = _label_of(every_doc, combined)
    pillar_key = {p.id: k["key"] for p, k in zip(profile.pillars, brands["stride"]["pillars"], strict=True)}
    top5 = [label[c.source_refs[0].global_source_doc_id] for c in board.cards[:5]]
    precision = sum(1 for d in top5 if d["relevant"].get("stride")) / 5
    relevant_top10 = [c for c in board.cards[:10] if label[c.source_refs[0].global_source_doc_id]["relevant"].get("stride")]
    right = [c for c in relevant_top10
             if pillar_key[c.pillar_id] == label[c.source_refs[0].global_source_doc_id]["relevant"]["stride"]]
    score = {s.doc_id: s.score for s in board.scores}
    traps = [score[i] for i, d in label.items() if d["kind"] in ("domain_trap", "vocab_trap") and d["id"].startswith("stride")]
    relevant = sorted(score[i] for i, d in label.items() if d["relevant"].get("stride"))
    print(f"stride (held out): precision@5={precision:.2f} pillar@10={len(right)}/{len(relevant_top10)} "
          f"cards={len(board.cards)} worst trap={max(traps):.1f} median relevant={relevant[len(relevant) // 2]:.1f}")
    assert precision >= 0.8
    assert len(right) / len(relevant_top10) >= 0.8
    assert max(traps) < relevant[len(relevant) // 2]


async def test_screening_all_brands_at_once_agrees_with_each_brand_s_scout(labelled, ingested):
    """The vectorized many-brand pass keeps exactly the documents each brand's own scout
    scores at or above the threshold."""
    from agents.scout.models import ScreenInput

    docs, brands, engine, _ = labelled
    profiles = [brand_profile(k, spec) for k, spec in brands.items()]
    scout_docs = [
        ScoutDoc(id=p.doc.id, title=p.doc.title, text=p.doc.text, source_url=p.doc.source_url, language=p.doc.language,
                 published_at=p.doc.published_at, ingested_at=p.doc.ingested_at, passages=p.passages,
                 passage_vectors=p.passage_vectors, vector=p.vector)
        for p in ingested.docs
    ]  # fmt: skip
    screened = await engine.screen(ScreenInput(brands=profiles, docs=scout_docs))
    for profile, hit in zip(profiles, screened.hits, strict=True):
        result = await engine.scout(ScoutInput(brand=profile, docs=scout_docs, now=NOW))
        above = {s.doc_id for s in result.scores if s.outcome not in ("below_threshold", "language")}
        assert hit.brand_id == profile.brand_id and set(hit.doc_ids) == above
