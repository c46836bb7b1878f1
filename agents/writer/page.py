"""Stage 1 for a page (a URL to write about): the page's own claim becomes the thesis.

A card brings its claim (the scout's angle) and a manual topic is its own thesis; a page brings
neither, so the thesis is read off the document: its most *central* early sentence, the one
whose content words the whole page keeps coming back to (each word weighted by how often the
page uses it), helped by the title and a lead bias (news and analysis state the claim early),
never a question or a sentence that opens by pointing back at one it no longer follows. A
claim is a general statement in the present: a sentence that narrates (the anecdote a feature
opens with: past tense, "last March"), carries a figure (evidence) or a quotation (someone
else's words) keeps only part of its score, as does advice (an imperative: the call to action
a post ends on). The
supporting points are then ranked against that thesis from the page (and the user's notes) as
for a card (:func:`.argument.build_argument`), so every fact the variants say is the page's.

Persona and pillar are locked when the request names them; else they are the brand's ones
whose name and description share the most word stems with the page's title and lead (the first
one in the brand's order on a tie or no overlap). Data: ``data/page.json``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from uuid import UUID

from agents.ingest.passages import sentences
from storage.errors import Invalid
from storage.objects import CoreArgument

from .argument import ArgumentConfig, build_argument, opens_with_anaphor
from .models import BrandVoice, Named, PageTopic, SourceDoc
from .text import STOPWORDS, as_sentence, load_json, word_count, words

_DIGIT = re.compile(r"\d")
_QUOTE = re.compile(r"[\"“”]")


@dataclass(frozen=True)
class PageConfig:
    lead_sentences: int
    min_words: int
    max_words: int
    title_weight: float
    position_decay: float
    stem_chars: int
    match_sentences: int
    narrative_factor: float
    figure_factor: float
    quote_factor: float
    past_forms: frozenset[str]
    participle_auxiliaries: frozenset[str]
    narrative_markers: tuple[tuple[str, ...], ...]
    not_past: frozenset[str]
    past_subjects: frozenset[str]
    past_objects: frozenset[str]
    advice_factor: float
    advice_verbs: frozenset[str]
    advice_leads: frozenset[str]

    @classmethod
    def load(cls) -> PageConfig:
        data = {k: v for k, v in load_json("page.json").items() if not k.startswith("_")}
        for key in ("past_forms", "participle_auxiliaries", "not_past", "past_subjects", "past_objects", "advice_verbs",
                    "advice_leads"):
            data[key] = frozenset(data[key])
        data["narrative_markers"] = tuple(tuple(words(m)) for m in data["narrative_markers"])
        return cls(**data)


def narrates(sentence: str, config: PageConfig) -> bool:
    """Whether the sentence tells a story (past tense, a time marker) rather than states a claim."""
    tokens = words(sentence)
    for i, token in enumerate(tokens):
        if token in config.past_forms:
            return True
        if not token.endswith("ed") or len(token) <= 4 or token in config.not_past:
            continue
        if config.participle_auxiliaries & set(tokens[max(0, i - 2):i]):  # "is planned": a participle
            continue
        before, after = tokens[i - 1] if i else "", tokens[i + 1] if i + 1 < len(tokens) else ""
        if before in config.past_subjects or after in config.past_objects or after[:1].isdigit():
            return True
    return any(tuple(tokens[i:i + len(m)]) == m for m in config.narrative_markers for i in range(len(tokens)))


def advises(sentence: str, config: PageConfig) -> bool:
    """Whether the sentence is advice: it opens with an imperative verb, or does so after a lead
    clause such as "If you try this," or "Before you publish,"."""
    head, comma, rest = sentence.partition(",")
    first = words(head)[:1]
    if first and first[0] in config.advice_verbs:
        return True
    return bool(comma and first and first[0] in config.advice_leads and words(rest)[:1]
                and words(rest)[0] in config.advice_verbs)  # fmt: skip


def _factor(sentence: str, config: PageConfig) -> float:
    """How much of its score a sentence keeps as a claim: less for a story, advice, a figure,
    a quote."""
    factor = config.narrative_factor if narrates(sentence, config) else 1.0
    factor *= config.advice_factor if advises(sentence, config) else 1.0
    factor *= config.figure_factor if _DIGIT.search(sentence) else 1.0
    return factor * (config.quote_factor if _QUOTE.search(sentence) else 1.0)


_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _stem(word: str, chars: int) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-3] + "y" if word.endswith("ies") else word[:-1]
    return word[:chars]


def stems(text: str, config: PageConfig) -> list[str]:
    """Content words of ``text`` (hyphenated ones split), plural -s dropped, cut to their first
    letters (truncation stemming), in order."""
    return [_stem(w, config.stem_chars) for w in _TOKEN.findall(text.casefold())
            if w not in STOPWORDS and len(w) > 2 and not w.isdigit()]  # fmt: skip


def _untitled(sentence: str, title: str) -> str:
    """``sentence`` without the page title run into its head (extraction puts the heading
    first and ingestion joins the lines of a paragraph, so the title has no full stop)."""
    flat = " ".join(sentence.split())
    if title and flat.casefold().startswith(title.casefold()) and len(flat) > len(title):
        return flat[len(title):].lstrip(" :-–—|")
    return sentence


def page_sentences(doc: SourceDoc) -> list[str]:
    """The page's sentences, paragraph by paragraph, without the title where it is repeated
    as a line of its own or run into the sentence after it."""
    title = " ".join((doc.title or "").split())
    found = [_untitled(s, title) for line in doc.text.splitlines() if line.strip() for s in sentences(line)]
    return [s for s in found if s.strip() and " ".join(s.split()).casefold() != title.casefold()]


def thesis_of_document(doc: SourceDoc, config: PageConfig | None = None,
                       argument: ArgumentConfig | None = None) -> str:  # fmt: skip
    """The page's central claim, as one sentence (the title, then the first sentence, when no
    sentence of the lead qualifies)."""
    config = config or PageConfig.load()
    argument = argument or ArgumentConfig.load()
    body = page_sentences(doc)
    weights = {s: math.log1p(n) for s, n in Counter(stems(doc.text, config)).items()}
    title = set(stems(doc.title or "", config))
    scored: list[tuple[float, float, int, str, float]] = []
    for i, sentence in enumerate(body[: config.lead_sentences]):
        own = set(stems(sentence, config))
        if (not own or sentence.rstrip().endswith("?") or opens_with_anaphor(sentence, argument)
                or not config.min_words <= word_count(sentence) <= config.max_words):  # fmt: skip
            continue
        centrality = sum(weights.get(s, 0.0) for s in own) / len(own)  # SumBasic: the mean weight
        overlap = len(own & title) / math.sqrt(len(title)) if title else 0.0
        scored.append((centrality, overlap, i, sentence, _factor(sentence, config)))
    if not scored:
        fallback = doc.title or (body[0] if body else "")
        if not fallback.strip():
            raise Invalid("the page holds no sentence to write about", details={"field": "source.url"})
        return as_sentence(fallback)
    top = max(t[0] for t in scored) or 1.0
    best = max(scored, key=lambda t: ((t[0] / top + config.title_weight * t[1]) * config.position_decay ** t[2] * t[4],
                                      -t[2]))  # fmt: skip
    return as_sentence(best[3])


def nearest(options: list[Named], text: str, config: PageConfig | None = None) -> Named:
    """The option whose name and description share the most stems with ``text``; the first
    one on a tie (the brand's order: its primary persona or pillar first)."""
    config = config or PageConfig.load()
    target = set(stems(text, config))
    shared = [len(set(stems(f"{o.name} {o.about}", config)) & target) for o in options]
    return options[max(range(len(options)), key=lambda i: (shared[i], -i))]


def _locked(options: list[Named], wanted: UUID | None, field: str, text: str, config: PageConfig) -> UUID:
    if wanted is None:
        return nearest(options, text, config).id
    if wanted not in {o.id for o in options}:
        raise Invalid(f"{field} {wanted} is not one of the brand's", details={"field": field})
    return wanted


def argument_from_page(package_id: UUID, page: PageTopic, sources: list[SourceDoc], brand: BrandVoice,
                       config: PageConfig | None = None) -> CoreArgument:  # fmt: skip
    """The page's claim as thesis; points from the page (and the notes) that support it best;
    persona and pillar locked, or chosen from the page's title and lead."""
    if not sources:
        raise Invalid("a page package needs its page as a source", details={"field": "source.url"})
    config = config or PageConfig.load()
    doc = sources[0]
    thesis = thesis_of_document(doc, config)
    lead = " ".join([doc.title or "", *page_sentences(doc)[: config.match_sentences], page.notes or ""])
    persona_id = _locked(brand.personas, page.persona_id, "persona_id", lead, config)
    pillar_id = _locked(brand.pillars, page.pillar_id, "pillar_id", lead, config)
    notes = sentences(page.notes) if page.notes else []
    candidates = notes + [s for d in sources for s in page_sentences(d)]
    fallback = [s for line in brand.memory for s in sentences(line)]
    try:
        return build_argument(package_id=package_id, persona_id=persona_id, pillar_id=pillar_id, claim=thesis,
                              candidates=candidates, fallback=fallback)  # fmt: skip
    except Invalid as exc:  # the page is the request's input: too thin a page is a bad URL, not the brand's state
        raise Invalid(f"the page is too thin to write from: {exc.message}",
                      details={"field": "source.url", "reason": "too_few_facts"}) from None  # fmt: skip


NOTE_MAX = 500


def origin_note(page: PageTopic, doc: SourceDoc) -> str:
    """The package's ``origin_note``: the page it was written about."""
    note = f"page: {page.url}"
    return note if len(note) <= NOTE_MAX else f"page: {(doc.title or page.url)[: NOTE_MAX - 6]}"


__all__ = ["PageConfig", "advises", "argument_from_page", "nearest", "origin_note", "page_sentences", "stems",
           "thesis_of_document"]
