"""Stage 1: a card (with its source documents) or a manual topic becomes a CoreArgument.

Extractive, no model: the thesis is the card's claim (its angle summary without the pillar
prefix the scout puts in front) or the manual topic; the supporting points are the source
sentences that best support it (content-word overlap with the claim, a bonus for a figure, a
penalty for a sentence that opens by pointing back at one it no longer follows); those that
score above ``min_score``, at least 3 and at most 7 of them, kept in source order so the argument reads in the order the source made it. Persona and
pillar come from the card (or the topic) and are locked on the CoreArgument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID

from storage.errors import Invalid
from storage.objects import CoreArgument
from storage.objects.content import SUPPORTING_POINTS_MAX, SUPPORTING_POINTS_MIN

from .models import BrandVoice, ManualTopic, SourceDoc
from .text import as_sentence, content_words, load_json, sentences, word_count, words

POINT_MAX_CHARS = 500
THESIS_MAX_CHARS = 400
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class ArgumentConfig:
    min_words: int
    max_words: int
    max_points: int
    figure_bonus: float
    anaphora_penalty: float
    anaphora_openers: tuple[tuple[str, ...], ...]
    min_score: float = 0.0

    @classmethod
    def load(cls) -> ArgumentConfig:
        data = load_json("argument.json")
        openers = tuple(sorted({tuple(words(o)) for o in data["anaphora_openers"]}, key=len, reverse=True))
        return cls(data["min_words"], data["max_words"], min(data["max_points"], SUPPORTING_POINTS_MAX),
                   data["figure_bonus"], data["anaphora_penalty"], openers, data["min_score"])  # fmt: skip


def claim_of_card(angle_summary: str, pillar_name: str | None) -> str:
    """The card's claim: the angle summary after the scout's ``"<Pillar>: "`` (or
    ``"<Pillar> · <Competitor>: "``) prefix."""
    head, sep, rest = angle_summary.partition(": ")
    if sep and rest and (pillar_name is None or head.split(" · ")[0].strip().casefold() == pillar_name.casefold()):
        return rest.strip().rstrip("…").strip()
    return angle_summary.strip()


def opens_with_anaphor(sentence: str, config: ArgumentConfig | None = None) -> bool:
    """Whether the sentence opens by pointing back (``This``, ``The reason``, ``Its``...)."""
    config = config or ArgumentConfig.load()
    tokens = words(sentence)
    return any(tuple(tokens[: len(o)]) == o for o in config.anaphora_openers)


def _fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return as_sentence(text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-"))


def rank_points(claim: str, candidates: list[str], config: ArgumentConfig) -> list[str]:
    """The best supporting sentences for ``claim`` among ``candidates``, in their given order."""
    target = content_words(claim)
    scored: list[tuple[float, int, str]] = []
    seen: set[str] = set()
    for i, raw in enumerate(candidates):
        sentence = as_sentence(raw)
        key = " ".join(words(sentence))
        n = word_count(sentence)
        if key in seen or not config.min_words <= n <= config.max_words or key == " ".join(words(claim)):
            continue
        seen.add(key)
        mine = content_words(sentence)
        overlap = len(mine & target) / (len(target) ** 0.5 * max(len(mine), 1) ** 0.5) if target else 0.0
        score = overlap + config.figure_bonus * bool(_DIGIT.search(sentence))
        score -= config.anaphora_penalty * opens_with_anaphor(sentence, config)
        scored.append((score, i, sentence))
    ranked = sorted(scored, key=lambda t: (-t[0], t[1]))
    good = [t for t in ranked if t[0] > config.min_score]
    best = (good if len(good) >= SUPPORTING_POINTS_MIN else ranked[:SUPPORTING_POINTS_MIN])[: config.max_points]
    return [_fit(s, POINT_MAX_CHARS) for _, _, s in sorted(best, key=lambda t: t[1])]


def _source_sentences(sources: list[SourceDoc]) -> list[str]:
    return [s for doc in sources for s in sentences(doc.text)]


def build_argument(
    *,
    package_id: UUID,
    persona_id: UUID,
    pillar_id: UUID,
    claim: str,
    candidates: list[str],
    fallback: list[str],
    config: ArgumentConfig | None = None,
) -> CoreArgument:
    """A CoreArgument from a claim and candidate sentences (``fallback`` fills up to three)."""
    config = config or ArgumentConfig.load()
    thesis = _fit(as_sentence(claim), THESIS_MAX_CHARS)
    points = rank_points(thesis, candidates, config)
    if len(points) < SUPPORTING_POINTS_MIN:
        extra = [p for p in rank_points(thesis, fallback, config) if p not in points]
        points = points + extra[: SUPPORTING_POINTS_MIN - len(points)]
    if len(points) < SUPPORTING_POINTS_MIN:
        raise Invalid(
            f"the sources hold {len(points)} usable sentences; a core argument needs {SUPPORTING_POINTS_MIN}",
            details={"field": "sources"},
        )
    return CoreArgument(content_package_id=package_id, persona_id=persona_id, pillar_id=pillar_id,
                        thesis=thesis, supporting_points=points)  # fmt: skip


def argument_from_card(package_id: UUID, card_claim: str, persona_id: UUID, pillar_id: UUID,
                       sources: list[SourceDoc], brand: BrandVoice) -> CoreArgument:  # fmt: skip
    """The card's claim as thesis, its source documents' sentences as points."""
    return build_argument(package_id=package_id, persona_id=persona_id, pillar_id=pillar_id, claim=card_claim,
                          candidates=_source_sentences(sources), fallback=_brand_lines(brand))  # fmt: skip


def argument_from_topic(package_id: UUID, topic: ManualTopic, sources: list[SourceDoc],
                        brand: BrandVoice) -> CoreArgument:  # fmt: skip
    """A manual topic: the topic as thesis; points from its notes and sources, then the brand's
    own lines (memory, positioning) when those are too few."""
    notes = sentences(topic.notes) if topic.notes else []
    return build_argument(package_id=package_id, persona_id=topic.persona_id, pillar_id=topic.pillar_id,
                          claim=topic.topic, candidates=notes + _source_sentences(sources),
                          fallback=_brand_lines(brand))  # fmt: skip


def _brand_lines(brand: BrandVoice) -> list[str]:
    return [s for line in brand.memory for s in sentences(line)] + sentences(brand.snapshot.positioning)


__all__ = [
    "ArgumentConfig",
    "argument_from_card",
    "argument_from_topic",
    "build_argument",
    "claim_of_card",
    "opens_with_anaphor",
    "rank_points",
]
