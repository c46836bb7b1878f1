"""The scout's logic on hand-made vectors: threshold, language, competitors, freshness, story
joining, idempotent re-scouting, dismissed cards, weights; lifecycle and batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import numpy as np
import pytest

from agents.scout.batches import batch_id, date_scope, merge_batch
from agents.scout.competitive import core_name, named_competitor
from agents.scout.freshness import freshness
from agents.scout.lifecycle import TRANSITIONS, apply, board, wake
from agents.scout.models import BrandProfile, ExistingCard, PersonaProfile, PillarProfile, ScoutDoc, ScoutInput
from agents.scout.profile import anchors_from_vectors
from agents.scout.relevance import Calibration, PassageBatch, combine, passage_scores, pillar_match
from agents.scout.scout import Scout
from agents.scout.scoring import opportunity_score
from storage.errors import Conflict, Invalid
from storage.objects import Competitor, OpportunityCard, OpportunityState, OpportunityType, ScoringFactor, SourceRef

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DIM = 8
E = np.eye(DIM, dtype=np.float32)


def unit(v) -> list[float]:
    v = np.asarray(v, dtype=np.float32)
    return (v / np.linalg.norm(v)).tolist()


CONTEXT = E[3] + E[4]
BRAND = BrandProfile(
    brand_id=uuid4(), name="Acme", positioning="We help teams.",
    pillars=[PillarProfile(id=uuid4(), name=f"Pillar {i}", description=f"About topic {i}.") for i in range(3)],
    personas=[PersonaProfile(id=uuid4(), name=f"Persona {i}", description=f"Reader {i}.") for i in range(2)],
    competitors=[Competitor(name="Rivalco Inc.", domains=["rival.example"], handles=["@rivalco"])],
)  # fmt: skip
ANCHORS = anchors_from_vectors(E[:3], np.stack([CONTEXT]), np.stack([E[0] + E[5], E[1] + E[6]]))
CALIBRATION = Calibration(mean=0.1, std=0.05)


def doc(pillar: int | None, *, strength: float = 1.0, context: float = 1.0, text: str = "A claim about things.",
        title: str | None = None, language: str = "en", age_hours: float = 1.0, url: str | None = None,
        extra: np.ndarray | None = None) -> ScoutDoc:  # fmt: skip
    base = context * CONTEXT / np.linalg.norm(CONTEXT) + (extra if extra is not None else 0)
    if pillar is not None:
        base = base + strength * E[pillar]
    else:
        base = base + E[7]
    vector = unit(base)
    return ScoutDoc(
        id=uuid4(), title=title, text=text, source_url=url, language=language, published_at=NOW - timedelta(hours=age_hours),
        ingested_at=NOW, passages=[text, text], passage_vectors=[vector, vector], vector=vector,
    )  # fmt: skip


def scout(docs, existing=(), content=(), weights=None, method=Scout()):
    payload = ScoutInput(brand=BRAND, docs=list(docs), existing=list(existing), recent_content=list(content),
                         weights=weights or {}, now=NOW)  # fmt: skip
    return method.score(payload, ANCHORS, CALIBRATION)


def outcome(result, d):
    return next(s for s in result.scores if s.doc_id == d.id)


def test_relevance_needs_both_the_pillar_and_the_context():
    on = doc(0)
    words_only = doc(0, context=0.05)  # the pillar's words in another world
    domain_only = doc(None)  # the brand's world, another topic
    batch = PassageBatch.pack([np.asarray(d.passage_vectors) for d in (on, words_only, domain_only)])
    match = pillar_match(passage_scores(batch, ANCHORS.pillars), batch)
    relevance = combine(match, batch.doc_vectors @ ANCHORS.context)
    assert relevance[0] > 2 * relevance[1] and relevance[0] > 2 * relevance[2]
    result = scout([on, words_only, domain_only])
    assert [outcome(result, d).outcome for d in (on, words_only, domain_only)] == ["card", "below_threshold", "below_threshold"]
    assert result.cards[0].pillar_id == BRAND.pillars[0].id


def test_top_passages_beat_a_single_borrowed_sentence():
    trap_vec, plain = unit(E[0] + CONTEXT * 0.2), unit(CONTEXT * 0.2 + E[7])
    one_sentence = ScoutDoc(id=uuid4(), text="x", language="en", ingested_at=NOW, passages=["a", "b", "c", "d"],
                            passage_vectors=[trap_vec, plain, plain, plain], vector=unit(np.mean([trap_vec, plain, plain, plain], 0)))  # fmt: skip
    batch = PassageBatch.pack([np.asarray(one_sentence.passage_vectors)])
    sims = passage_scores(batch, ANCHORS.pillars)
    assert pillar_match(sims, batch, top=2)[0, 0] < pillar_match(sims, batch, top=1)[0, 0]
    assert pillar_match(sims, batch, top=2)[0, 0] == pytest.approx((sims[0, 0] + sims[1, 0]) / 2)


def test_other_languages_make_no_card():
    result = scout([doc(0, language="de"), doc(1, language="en-GB")])
    assert [s.outcome for s in result.scores] == ["language", "card"]


def test_competitor_news_is_competitive_and_named_in_the_angle():
    named = doc(1, text="Rivalco launched a tool. It matters.", title="Rivalco launches")
    by_domain = doc(2, url="https://blog.rival.example/post", title="New post")
    plain = doc(0, title="Plain news", age_hours=200)
    result = scout([named, by_domain, plain])
    kinds = {c.source_refs[0].global_source_doc_id: c for c in result.cards}
    assert kinds[named.id].opportunity_type is OpportunityType.COMPETITIVE
    assert kinds[named.id].angle_summary == "Pillar 1 · Rivalco Inc.: Rivalco launches"
    assert kinds[by_domain.id].opportunity_type is OpportunityType.COMPETITIVE
    assert kinds[plain.id].opportunity_type is OpportunityType.EVERGREEN  # older than the trend window
    assert kinds[plain.id].angle_summary == "Pillar 0: Plain news"


def test_competitor_matching_is_whole_word_and_ignores_legal_forms():
    comps = [Competitor(name="Northstar Coffee Co."), Competitor(name="Sentrix", handles=["@sentrix_io"])]
    assert core_name("Northstar Coffee Co.") == "Northstar Coffee"
    assert named_competitor(comps, "Northstar  Coffee said on Monday") == "Northstar Coffee Co."
    assert named_competitor(comps, "Sentrixa is a different company") is None
    assert named_competitor(comps, "as @sentrix_io posted") == "Sentrix"
    assert named_competitor(comps, "nothing here", "https://www.example.com/sentrix") is None


def test_freshness_halves_every_half_life():
    assert freshness(NOW, NOW, NOW) == 1.0
    assert freshness(NOW - timedelta(hours=48), NOW, NOW) == pytest.approx(0.5)
    assert freshness(None, NOW - timedelta(hours=96), NOW) == pytest.approx(0.25)
    assert freshness(NOW + timedelta(hours=5), NOW, NOW) == 1.0
    fresh, stale = doc(0, age_hours=1), doc(0, age_hours=24 * 10, extra=E[6] * 0.01)
    result = scout([fresh, stale])
    assert outcome(result, fresh).score > outcome(result, stale).score


def test_scouting_again_is_idempotent_and_retold_stories_join():
    first = doc(0, title="Story A")
    result = scout([first])
    card = result.cards[0]
    existing = [ExistingCard(card=card, vector=first.vector)]
    again = scout([first], existing)
    assert [c.id for c in again.cards] == [card.id] and len(again.cards[0].source_refs) == 1
    assert outcome(again, first).outcome == "card"
    retold = doc(0, title="Story A, retold", extra=E[5] * 0.05)
    joined = scout([retold], existing)
    assert outcome(joined, retold).outcome == "joined"
    assert [r.global_source_doc_id for r in joined.cards[0].source_refs] == [first.id, retold.id]
    assert joined.cards[0].created_at == card.created_at
    # Two tellings of one new story in one call make one card with two sources.
    a, b = doc(1, title="Story B"), doc(1, title="Story B again", extra=E[6] * 0.05)
    both = scout([a, b])
    assert len(both.cards) == 1 and len(both.cards[0].source_refs) == 2


def test_a_dismissed_card_never_comes_back():
    first = doc(0)
    card = apply(scout([first]).cards[0], "dismiss", NOW)
    existing = [ExistingCard(card=card, vector=first.vector)]
    again = scout([first, doc(0, extra=E[5] * 0.05)], existing)
    assert again.cards == [] and {s.outcome for s in again.scores} == {"dismissed"}


def test_novelty_against_recent_content_and_weights():
    said = doc(2)
    covered = scout([said], content=[said.vector])
    assert outcome(covered, said).novelty == pytest.approx(0.0)
    assert outcome(covered, said).score < outcome(scout([said]), said).score
    rel, fresh, nov = np.array([0.8, 0.8]), np.array([1.0, 0.1]), np.array([1.0, 1.0])
    comp = np.array([0.0, 1.0])
    only_fresh = opportunity_score(rel, fresh, nov, comp, {ScoringFactor.BRAND_RELEVANCE: 1, ScoringFactor.FRESHNESS: 2})
    only_comp = opportunity_score(rel, fresh, nov, comp, {ScoringFactor.BRAND_RELEVANCE: 1, ScoringFactor.COMPETITIVE_ANGLE: 2})
    assert only_fresh[0] > only_fresh[1] and only_comp[1] > only_comp[0]
    assert opportunity_score(np.array([0.0]), np.array([1.0]), np.array([1.0]), np.array([1.0]))[0] == 0.0
    assert (opportunity_score(rel, fresh, nov, comp, {}) == opportunity_score(rel, fresh, nov, comp)).all()


# -- lifecycle --------------------------------------------------------------------------------------


def card(**changes) -> OpportunityCard:
    base = OpportunityCard(brand_id=BRAND.brand_id, persona_id=uuid4(), pillar_id=uuid4(), score=50, angle_summary="x",
                           opportunity_type=OpportunityType.TREND, created_at=NOW - timedelta(days=1),
                           source_refs=[SourceRef(global_source_doc_id=uuid4(), relevance_note="n")])  # fmt: skip
    return base.model_copy(update=changes)


def test_snooze_until_then_it_comes_back():
    snoozed = apply(card(), "snooze", NOW, until=NOW + timedelta(hours=3))
    assert (snoozed.lifecycle_state, snoozed.snoozed_until) == (OpportunityState.SNOOZED, NOW + timedelta(hours=3))
    assert board([snoozed], NOW + timedelta(hours=2)) == []
    back = board([snoozed], NOW + timedelta(hours=3))
    assert [c.lifecycle_state for c in back] == [OpportunityState.NEW] and back[0].snoozed_until is None
    assert wake(snoozed, NOW).lifecycle_state is OpportunityState.SNOOZED
    with pytest.raises(Invalid) as info:
        apply(card(), "snooze", NOW, until=NOW)
    assert info.value.details == {"field": "until"}


def test_pin_dismiss_restore_and_forbidden_moves():
    pinned = apply(card(score=10), "pin", NOW)
    other = card(score=90)
    assert [c.id for c in board([other, pinned], NOW)] == [pinned.id, other.id]
    dismissed = apply(pinned, "dismiss", NOW)
    assert dismissed.lifecycle_state is OpportunityState.DISMISSED and not dismissed.pinned
    assert board([dismissed], NOW + timedelta(days=365)) == []
    with pytest.raises(Conflict):
        apply(dismissed, "pin", NOW)
    restored = apply(dismissed, "restore", NOW)
    assert restored.lifecycle_state is OpportunityState.NEW
    with pytest.raises(Conflict) as info:
        apply(restored, "restore", NOW)
    assert info.value.details["state"] == "new"
    used = apply(apply(restored, "start", NOW), "use", NOW)
    assert used.lifecycle_state is OpportunityState.USED
    for action in ("dismiss", "snooze", "restore", "start"):
        with pytest.raises(Conflict):
            apply(used, action, NOW, until=NOW + timedelta(hours=1))
    assert card().created_at == apply(card(), "pin", NOW).created_at
    assert set(TRANSITIONS) == {"snooze", "dismiss", "restore", "pin", "unpin", "start", "use"}


def test_one_batch_per_brand_and_day_merged_idempotently():
    a, b, c = card(score=10), card(score=80), card(score=50)
    scope = date_scope(NOW)
    first = merge_batch(BRAND.brand_id, scope, None, [a, b], NOW)
    assert scope == "2026-03-10" and first.id == batch_id(BRAND.brand_id, scope)
    assert first.opportunity_ids == [b.id, a.id]
    again = merge_batch(BRAND.brand_id, scope, first, [a, b, c], NOW + timedelta(hours=1))
    assert again.id == first.id and again.created_at == first.created_at
    assert again.opportunity_ids == [b.id, a.id, c.id]
    assert merge_batch(BRAND.brand_id, scope, again, [a, b, c], NOW) == again
    assert batch_id(BRAND.brand_id, "2026-03-11") != first.id
    with pytest.raises(ValueError):
        merge_batch(uuid4(), scope, None, [a], NOW)


def test_a_strong_pillar_word_never_pays_for_an_ordinary_context():
    """With the halves calibrated, a document whose combined relevance clears the threshold but
    whose context is no closer to the brand than ordinary text makes no card (the thin-profile
    same-word trap), while a document strong on both does."""
    on = doc(0)
    words_only = doc(0, strength=4.0, context=0.6)  # the pillar's word, loudly, in another world
    halves = Calibration(mean=0.1, std=0.05, pillar=(0.1, 0.1), context=(0.3, 0.1))
    payload = ScoutInput(brand=BRAND, docs=[on, words_only], now=NOW)
    gated = Scout().score(payload, ANCHORS, halves)
    z = {s.doc_id: s.z for s in gated.scores}
    assert z[words_only.id] >= Scout().threshold_z  # the geometric mean alone would let it through
    assert outcome(gated, words_only).outcome == "below_threshold"
    assert outcome(gated, on).outcome == "card"
    ungated = Scout().score(payload, ANCHORS, CALIBRATION)  # no halves: no support gate
    assert outcome(ungated, words_only).outcome == "card"
