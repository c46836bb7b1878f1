"""Extractive angle summary: the pillar, and the source's key claim in its own words.

Without an LLM the claim is taken, not written: the sentence of the passage that matched the
pillar best. When that passage is the document's opening (news states its claim first) and
the document has a title, the title is the claim. The summary reads
``"<Pillar>: <claim>"`` (``"<Pillar> · <Competitor>: <claim>"`` when a competitor is named),
cut at a word boundary to fit the card's 500 characters.
"""

from __future__ import annotations

from agents.ingest.passages import sentences

SUMMARY_MAX = 500
NOTE_MAX = 500


def _fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-")
    return cut + "…"


def key_claim(title: str | None, passages: list[str], best_passage: int) -> str:
    if best_passage == 0 and title:
        return title.strip()
    found = sentences(passages[best_passage])
    long_enough = [s for s in found if len(s.split()) >= 6]
    return (long_enough or found or [passages[best_passage]])[0].strip()


def angle_summary(pillar: str, claim: str, competitor: str | None = None) -> str:
    head = f"{pillar} · {competitor}" if competitor else pillar
    return _fit(f"{head}: {claim}", SUMMARY_MAX)


def relevance_note(pillar: str, relevance: float, claim: str) -> str:
    return _fit(f"on {pillar} (relevance {relevance:.2f}): {claim}", NOTE_MAX)
