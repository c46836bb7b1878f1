"""Documents to OpportunityCards for one brand: relevance, persona, freshness, novelty,
competitive angle, score, threshold, story joining; pure given the brand's anchor vectors.

Per call, in order:

1. documents in a language the brand does not publish in are set aside (outcome
   ``language``): a German article is no reason for an English-only brand to post;
2. relevance of every remaining document to every pillar at once (:mod:`.relevance`), the best
   pillar and the best persona (cosine of the document with each persona's text);
3. documents under ``threshold_z`` background standard deviations make no card, nor those
   whose weaker half of relevance (pillar match or context) is under ``component_floor_z``
   (:mod:`.relevance`: a strong pillar word never pays for an ordinary context);
4. the others, best first: a document already on a card re-scores that card (scouting again
   is idempotent); a document that retells the story of an existing card (cosine of the story
   vectors >= ``join_cosine``) joins its ``source_refs``, or of a card made earlier in this
   call; a dismissed card absorbs its documents silently and never comes back; anything else
   is a new card.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import numpy as np

from storage.objects import OpportunityCard, OpportunityState, OpportunityType, SourceRef

from .angle import angle_summary, key_claim, relevance_note
from .competitive import named_competitor
from .freshness import HALF_LIFE_HOURS, freshness
from .models import DocScore, ScoutDoc, ScoutInput, ScoutResult
from .novelty import JOIN_COSINE, NOVELTY_FLOOR, best_match, novelty
from .profile import BrandAnchors
from .relevance import (
    COMPONENT_FLOOR_Z,
    TOP_PASSAGES,
    Calibration,
    PassageBatch,
    best_passage,
    combine,
    passage_scores,
    pillar_match,
)
from .scoring import Z_FULL, opportunity_score, relevance_unit

THRESHOLD_Z = 4.0
TREND_HOURS = 72.0
MAX_SOURCE_REFS = 50


def _speaks(doc_language: str, languages: list[str]) -> bool:
    base = doc_language.split("-")[0].lower()
    return any(base == lang.split("-")[0].lower() for lang in languages)


@dataclass(frozen=True)
class Scout:
    """The scout's method, its knobs as plain fields."""

    threshold_z: float = THRESHOLD_Z
    component_floor_z: float = COMPONENT_FLOOR_Z
    top_passages: int = TOP_PASSAGES
    join_cosine: float = JOIN_COSINE
    novelty_floor: float = NOVELTY_FLOOR
    half_life_hours: float = HALF_LIFE_HOURS
    trend_hours: float = TREND_HOURS
    z_full: float = Z_FULL

    def relevance(self, docs: list[ScoutDoc], anchors: BrandAnchors, calibration: Calibration
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """(z, per-pillar match, best passage per pillar, doc vectors, support) of ``docs``."""
        batch = PassageBatch.pack(
            [np.asarray(d.passage_vectors, dtype=np.float32) for d in docs],
            np.asarray([d.vector for d in docs], dtype=np.float32),
        )
        sims = passage_scores(batch, anchors.pillars)
        match = pillar_match(sims, batch, self.top_passages)
        context = batch.doc_vectors @ anchors.context
        z = calibration.z(combine(match, context))
        support = calibration.support(match.max(axis=1), context)
        return z, match, best_passage(sims, batch), batch.doc_vectors, support

    def score(self, payload: ScoutInput, anchors: BrandAnchors, calibration: Calibration) -> ScoutResult:
        brand = payload.brand
        now = payload.now
        scores: list[DocScore] = []
        docs = [d for d in payload.docs if _speaks(d.language, brand.languages)]
        for d in payload.docs:
            if not _speaks(d.language, brand.languages):
                scores.append(DocScore(doc_id=d.id, pillar_id=None, persona_id=None, relevance=0.0, z=0.0,
                                       freshness=0.0, novelty=0.0, competitor=None, score=0.0, outcome="language"))  # fmt: skip
        if not docs:
            return ScoutResult(cards=[], scores=scores)
        z, match, best_passage, doc_vectors, support = self.relevance(docs, anchors, calibration)
        pillar_index = match.argmax(axis=1)
        persona_index = (doc_vectors @ anchors.personas.T).argmax(axis=1)
        rel = relevance_unit(z, self.z_full)
        fresh = np.array([freshness(d.published_at, d.ingested_at, now, self.half_life_hours) for d in docs])
        competitors = [named_competitor(brand.competitors, f"{d.title or ''}\n{d.text}", d.source_url) for d in docs]

        existing = [e.card for e in payload.existing]
        dim = doc_vectors.shape[1]
        card_vectors = np.asarray([e.vector for e in payload.existing], dtype=np.float32).reshape(len(existing), dim)
        content = np.asarray(payload.recent_content, dtype=np.float32).reshape(len(payload.recent_content), dim)
        by_doc: dict[UUID, int] = {}
        for i, card in enumerate(existing):
            for ref in card.source_refs:
                if ref.global_source_doc_id is not None:
                    by_doc.setdefault(ref.global_source_doc_id, i)
        seen_content, _ = best_match(doc_vectors, content)
        story_sim, story_of = best_match(doc_vectors, card_vectors)
        nov = novelty(np.maximum(seen_content, story_sim), self.novelty_floor)
        competitive = np.array([1.0 if c else 0.0 for c in competitors])
        total = opportunity_score(rel, fresh, nov, competitive, payload.weights)

        cards: dict[UUID, OpportunityCard] = {}  # new or changed, by id
        made: list[tuple[np.ndarray, OpportunityCard]] = []  # cards made in this call
        for j in np.argsort(-total, kind="stable"):
            doc = docs[j]
            pillar = brand.pillars[int(pillar_index[j])]
            persona = brand.personas[int(persona_index[j])]
            claim = key_claim(doc.title, doc.passages, int(best_passage[j, pillar_index[j]]))
            ref = SourceRef(global_source_doc_id=doc.id, relevance_note=relevance_note(pillar.name, float(rel[j]), claim))
            base = dict(doc_id=doc.id, pillar_id=pillar.id, persona_id=persona.id, relevance=float(rel[j]),
                        z=float(z[j]), freshness=float(fresh[j]), novelty=float(nov[j]), competitor=competitors[j],
                        score=float(total[j]))  # fmt: skip
            if z[j] < self.threshold_z or support[j] < self.component_floor_z:
                scores.append(DocScore(**base, outcome="below_threshold"))
                continue
            target: OpportunityCard | None = None
            if doc.id in by_doc:
                target = cards.get(existing[by_doc[doc.id]].id, existing[by_doc[doc.id]])
                if target.lifecycle_state is OpportunityState.DISMISSED:
                    scores.append(DocScore(**base, outcome="dismissed", card_id=target.id))
                    continue
                if target.source_refs[0].global_source_doc_id == doc.id:
                    # The card's own story, scouted again: refresh its score, nothing else.
                    refreshed = target.model_copy(update={"score": round(float(total[j]), 2),
                                                          "updated_at": max(now, target.created_at)})  # fmt: skip
                    cards[target.id] = OpportunityCard.model_validate(refreshed.model_dump())
                scores.append(DocScore(**base, outcome="card", card_id=target.id))
                continue
            if story_sim[j] >= self.join_cosine:
                target = cards.get(existing[int(story_of[j])].id, existing[int(story_of[j])])
            else:
                for vector, card in made:
                    if float(vector @ doc_vectors[j]) >= self.join_cosine:
                        target = cards[card.id]
                        break
            if target is not None:
                if target.lifecycle_state is OpportunityState.DISMISSED:
                    scores.append(DocScore(**base, outcome="dismissed", card_id=target.id))
                    continue
                if len(target.source_refs) < MAX_SOURCE_REFS:
                    joined = target.model_copy(update={"source_refs": [*target.source_refs, ref],
                                                       "updated_at": max(now, target.created_at)})  # fmt: skip
                    cards[target.id] = OpportunityCard.model_validate(joined.model_dump())
                scores.append(DocScore(**base, outcome="joined", card_id=target.id))
                continue
            age_hours = (now - (doc.published_at or doc.ingested_at)).total_seconds() / 3600.0
            kind = (OpportunityType.COMPETITIVE if competitors[j]
                    else OpportunityType.TREND if age_hours <= self.trend_hours else OpportunityType.EVERGREEN)  # fmt: skip
            card = OpportunityCard(
                brand_id=brand.brand_id, persona_id=persona.id, pillar_id=pillar.id, source_refs=[ref],
                angle_summary=angle_summary(pillar.name, claim, competitors[j]), opportunity_type=kind,
                score=round(float(total[j]), 2), created_at=now, updated_at=now,
            )  # fmt: skip
            cards[card.id] = card
            made.append((doc_vectors[j], card))
            scores.append(DocScore(**base, outcome="card", card_id=card.id))
        ordered = sorted(cards.values(), key=lambda c: -c.score)
        return ScoutResult(cards=ordered, scores=scores)


