"""The four stateless engines brand agents call: scout, pattern miner, content writer, learner.

Each engine is a plain async class (no Ray: ``runtime.engines`` hosts them in actor pools). Every
operation takes one small pydantic input model and returns one result model, so calls travel
between processes as typed values and a pool member can serve any brand. Operations are pure
functions of their input (plus the engine's loaded model), hence idempotent: a caller may retry
one safely.

What each engine does today is deliberately small but real; later work extends the same classes:

* :class:`OpportunityScout` - brand relevance of candidate texts (embeddings, cosine).
* :class:`PatternMiner` - a post segmented into beats (hook, context, list, CTA).
* :class:`ContentWriter` - a text measured by its channel's real counting rule.
* :class:`Learner` - normalized edit distance between a draft and its edited version; the
  zero-edit rate over counts.

Heavy clients (the MiniLM embedder) are passed in by the host, once per process, never built
per call.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz.distance import Levenshtein

from storage.errors import Invalid
from storage.objects import Channel

if TYPE_CHECKING:  # pragma: no cover - importing the memory package pulls in chromadb
    from storage.memory.embeddings import TextEmbedder

TEXT_MAX = 40_000
"""Longest text any engine accepts (a YouTube script is at most 5,000; generous headroom)."""


class EngineModel(BaseModel):
    """Base of engine inputs and results: unknown fields refused, text kept verbatim.

    Unlike the canonical objects, strings are *not* stripped: whitespace counts towards a
    post's length and shapes its beats.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------
# Opportunity scout
# --------------------------------------------------------------------------------------------


class RelevanceInput(EngineModel):
    brand_texts: list[str] = Field(min_length=1, max_length=512, description="pillars, personas, memory")
    candidates: list[str] = Field(max_length=1024, description="texts to score against the brand")

    @model_validator(mode="after")
    def _bounded(self) -> RelevanceInput:
        for field in ("brand_texts", "candidates"):
            for text in getattr(self, field):
                if len(text) > TEXT_MAX:
                    raise ValueError(f"{field}: a text is longer than {TEXT_MAX} characters")
        return self


class RelevanceResult(EngineModel):
    scores: list[float] = Field(description="one score in [0, 100] per candidate, in input order")


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 0.0 if norm == 0.0 else dot / norm


class OpportunityScout:
    """Finds reasons for a brand to post. Today: how relevant candidate texts are to the brand.

    Relevance of a candidate = its highest cosine similarity to any brand text (a pillar, a
    persona, a memory fragment), clipped at 0 and scaled to 0-100. Max rather than mean: a
    candidate that squarely hits one pillar is relevant even if it ignores the others. Negative
    similarity carries no extra meaning for relevance, so it is clipped to 0.
    """

    OPS: ClassVar[dict[str, type[EngineModel]]] = {"score_relevance": RelevanceInput}

    def __init__(self, embedder: TextEmbedder) -> None:
        self.embedder = embedder

    async def score_relevance(self, payload: RelevanceInput) -> RelevanceResult:
        if not payload.candidates:
            return RelevanceResult(scores=[])
        # One embedding call for everything: batching is what makes the model fast.
        vectors = await self.embedder.aembed([*payload.brand_texts, *payload.candidates])
        brand, candidates = vectors[: len(payload.brand_texts)], vectors[len(payload.brand_texts) :]
        scores = []
        for vector in candidates:
            best = max(_cosine(vector, b) for b in brand)
            scores.append(round(min(max(best, 0.0), 1.0) * 100.0, 4))
        return RelevanceResult(scores=scores)


# --------------------------------------------------------------------------------------------
# Pattern miner
# --------------------------------------------------------------------------------------------

BeatName = Literal["hook", "context", "list", "cta"]


class Beat(EngineModel):
    name: BeatName
    text: str


class SegmentInput(EngineModel):
    text: str = Field(min_length=1, max_length=TEXT_MAX)


class SegmentResult(EngineModel):
    beats: list[Beat]


_LIST_ITEM = re.compile(r"^\s*(?:[-•*–]\s+|\d{1,2}[.)]\s+)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")
_CTA_WORDS = re.compile(
    r"\b(?:dm|comment|follow|link|subscribe|sign\s+up|register|download|repost|share|reply)\b",
    re.IGNORECASE,
)
_IMPERATIVE_START = re.compile(
    r"^\W*(?:try|get|grab|join|book|read|check|click|tap|visit|watch|start|save|learn|tell|drop|"
    r"let\s+me\s+know|let\s+us\s+know|send|see|find\s+out|claim|request|schedule|contact|ask)\b",
    re.IGNORECASE,
)


def _looks_like_cta(line: str) -> bool:
    stripped = line.strip()
    return (
        stripped.endswith("?")
        or bool(_CTA_WORDS.search(stripped))
        or bool(_IMPERATIVE_START.match(stripped))
    )


class PatternMiner:
    """Mines the structure of posts. Today: segmentation of one post into beats.

    The heuristic, in order:

    1. Line endings are normalised; the post is split into blocks at blank lines and each block
       into its non-empty lines. A post that is a single line is split into sentences instead
       (at ``.``, ``!``, ``?`` or ``…`` followed by whitespace).
    2. The first unit is the ``hook``.
    3. The last unit (when there are at least two) is the ``cta`` if it reads like a call to
       action: it ends with a question mark, contains "DM", "comment", "follow", "link",
       "subscribe", "sign up", "register", "download", "repost", "share" or "reply", or starts
       with an imperative verb ("try", "get", "join", "book", "read", "check", "visit", ...).
    4. Any other unit starting with ``-``, ``•``, ``*``, ``–`` or ``1.``/``1)`` is ``list``.
    5. Everything else is ``context``.
    6. Consecutive ``list`` lines, and consecutive ``context`` lines of the same block, are
       merged into one beat (joined with a newline): a bullet list is one beat, not five.

    Words are matched, not meanings: "follow" in a closing statement makes it a CTA. Later work
    adds more beat kinds (confession, lesson, ...) and clusters beat sequences into templates.
    """

    OPS: ClassVar[dict[str, type[EngineModel]]] = {"segment": SegmentInput}

    async def segment(self, payload: SegmentInput) -> SegmentResult:
        return SegmentResult(beats=segment_beats(payload.text))


def _units(text: str) -> list[tuple[int, str]]:
    """(block index, unit text) pairs, in order."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    units: list[tuple[int, str]] = []
    for block_index, block in enumerate(re.split(r"\n[ \t]*\n", text)):
        units.extend((block_index, line.strip()) for line in block.split("\n") if line.strip())
    if len(units) == 1:
        units = [(0, s.strip()) for s in _SENTENCE_END.split(units[0][1]) if s.strip()]
    return units


def segment_beats(text: str) -> list[Beat]:
    units = _units(text)
    labelled: list[tuple[int, BeatName, str]] = []
    last = len(units) - 1
    for i, (block, unit) in enumerate(units):
        name: BeatName
        if i == 0:
            name = "hook"
        elif i == last and _looks_like_cta(unit):
            name = "cta"
        elif _LIST_ITEM.match(unit):
            name = "list"
        else:
            name = "context"
        labelled.append((block, name, unit))
    beats: list[Beat] = []
    previous: tuple[int, BeatName] | None = None
    for block, name, unit in labelled:
        mergeable = previous is not None and previous[1] == name and (
            name == "list" or (name == "context" and previous[0] == block)
        )
        if mergeable:
            beats[-1] = Beat(name=name, text=f"{beats[-1].text}\n{unit}")
        else:
            beats.append(Beat(name=name, text=unit))
        previous = (block, name)
    return beats


# --------------------------------------------------------------------------------------------
# Content writer: channel length rules
# --------------------------------------------------------------------------------------------


class LengthInput(EngineModel):
    channel: Channel
    text: str = Field(max_length=TEXT_MAX)
    limit: int | None = Field(
        default=None, ge=1, description="override the channel default (a Mastodon instance's max_characters)"
    )


class LengthResult(EngineModel):
    length: int = Field(ge=0, description="the text's length as the channel counts it")
    limit: int
    ok: bool = Field(description="non-empty, within the limit, and no character the channel rejects")


CHANNEL_LIMITS: dict[Channel, int] = {
    Channel.X: 280,
    Channel.LINKEDIN: 3000,
    Channel.MASTODON: 500,
    Channel.BLUESKY: 300,
    Channel.YOUTUBE_SCRIPT: 5000,
}
"""Mirrors the ``channels`` catalog table (max_text_length)."""

BLUESKY_MAX_BYTES = 3000
X_URL_LENGTH = 23
MASTODON_URL_LENGTH = 23

# twitter-text v3 configuration: weights are per code point, scaled by 100.
_X_SCALE = 100
_X_DEFAULT_WEIGHT = 200
_X_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))  # weight 100
_X_INVALID = frozenset("\ufffe\ufeff\uffff")

# URLs: with a scheme, or a bare domain on a common TLD (twitter-text links those too).
_COMMON_TLDS = (
    "com|net|org|edu|gov|io|co|ai|dev|app|info|biz|me|tv|ly|xyz|tech|blog|news|shop|store|site|"
    "online|cloud|page|so|gg|fm|to|uk|de|fr|es|it|nl|eu|us|ca|au|jp|in|br|ch|se|no|dk|fi|pl|at|be"
)
_TRAILING_PUNCT = ".,;:!?)]}'\"»”’"
_SCHEME_URL = re.compile(r"\bhttps?://[^\s<>]+", re.IGNORECASE)
_BARE_URL = re.compile(
    r"(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + _COMMON_TLDS + r")"
    r"(?![\w-])(?::\d{1,5})?(?:/[^\s<>]*)?",
    re.IGNORECASE,
)
_REMOTE_MENTION = re.compile(r"(?<![\w@])(@[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_])?)@[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Emoji_Presentation}\u20e3]")


def _url_spans(text: str, *, bare: bool) -> list[tuple[int, int]]:
    patterns = (_SCHEME_URL, _BARE_URL) if bare else (_SCHEME_URL,)
    spans: list[tuple[int, int]] = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            start, end = match.span()
            while end > start and text[end - 1] in _TRAILING_PUNCT:
                end -= 1
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
    return sorted(spans)


def _x_code_point_weight(ch: str) -> int:
    cp = ord(ch)
    return _X_SCALE if any(lo <= cp <= hi for lo, hi in _X_RANGES) else _X_DEFAULT_WEIGHT


def _x_weight_of_plain(text: str) -> int:
    """Scaled weight of text without URLs: an emoji sequence weighs 2, other code points 1 or 2."""
    total = 0
    for grapheme in _GRAPHEME.findall(text):
        if _EMOJI.search(grapheme):
            total += _X_DEFAULT_WEIGHT
        else:
            total += sum(_x_code_point_weight(ch) for ch in grapheme)
    return total


def x_weighted_length(text: str) -> int:
    """The twitter-text v3 weighted length of ``text``.

    Implemented here from the documented v3 configuration (max 280, scale 100, default weight
    200, URLs 23) because the PyPI package ``twitter-text-parser`` (last release 2023) fails at
    import on current setuptools (it imports the removed ``pkg_resources``). The rules:

    * NFC-normalise first (so "e" + combining acute counts once, as "é");
    * every URL counts 23: with an ``http(s)://`` scheme, or a bare domain on a common TLD
      (``example.com/x``); twitter-text knows every TLD, this list covers the common ones;
    * every emoji sequence (a grapheme cluster holding an Extended_Pictographic or
      Emoji_Presentation character or a keycap: ZWJ families, skin tones, flags) counts 2;
    * other code points count 1 in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F, U+2032-U+2037
      and 2 everywhere else (CJK included).
    """
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for start, end in _url_spans(text, bare=True):
        total += _x_weight_of_plain(text[position:start]) + X_URL_LENGTH * _X_SCALE
        position = end
    total += _x_weight_of_plain(text[position:])
    return total // _X_SCALE


def grapheme_count(text: str) -> int:
    """User-perceived characters (Unicode extended grapheme clusters, via ``regex``'s ``\\X``)."""
    return len(_GRAPHEME.findall(text))


def mastodon_length(text: str) -> int:
    """Mastodon's count: graphemes, each URL with a scheme as 23, ``@user@domain`` as ``@user``."""
    text = _REMOTE_MENTION.sub(r"\1", text)
    total, position = 0, 0
    for start, end in _url_spans(text, bare=False):
        total += grapheme_count(text[position:start]) + MASTODON_URL_LENGTH
        position = end
    return total + grapheme_count(text[position:])


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def measure(channel: Channel, text: str, limit: int | None = None) -> LengthResult:
    """Length of ``text`` as ``channel`` counts it, against the channel limit (or ``limit``)."""
    limit = limit or CHANNEL_LIMITS[channel]
    extra_ok = True
    if channel is Channel.X:
        length = x_weighted_length(text)
        extra_ok = not (_X_INVALID & set(text))
    elif channel is Channel.MASTODON:
        length = mastodon_length(text)
    elif channel is Channel.BLUESKY:
        length = grapheme_count(text)
        extra_ok = len(text.encode("utf-8")) <= BLUESKY_MAX_BYTES
    elif channel is Channel.LINKEDIN:
        # LinkedIn documents "characters"; UTF-16 units (an emoji counts 2) is the conservative reading.
        length = utf16_length(text)
    else:
        length = len(unicodedata.normalize("NFC", text))
    return LengthResult(length=length, limit=limit, ok=extra_ok and 0 < length <= limit)


class ContentWriter:
    """Writes channel variants through quality gates. Today: the platform-length gate.

    Counting rules per channel: X weighted length (twitter-text v3, see
    :func:`x_weighted_length`); LinkedIn 3,000 UTF-16 units; Mastodon 500 graphemes with URLs as
    23 and remote mentions shortened; Bluesky 300 graphemes and at most 3,000 UTF-8 bytes (no URL
    discount); YouTube scripts 5,000 characters.

    The writer holds an embedder for the similarity-to-recent-posts gate that later work adds;
    the host passes a lazily loading one, so nothing is loaded until that gate runs.
    """

    OPS: ClassVar[dict[str, type[EngineModel]]] = {"check_length": LengthInput}

    def __init__(self, embedder: TextEmbedder | None = None) -> None:
        self.embedder = embedder

    async def check_length(self, payload: LengthInput) -> LengthResult:
        return measure(payload.channel, payload.text, payload.limit)


# --------------------------------------------------------------------------------------------
# Learner
# --------------------------------------------------------------------------------------------


class EditInput(EngineModel):
    original: str = Field(max_length=TEXT_MAX)
    edited: str = Field(max_length=TEXT_MAX)


class EditResult(EngineModel):
    distance: float = Field(ge=0.0, le=1.0, description="0 = unchanged, 1 = entirely rewritten")


class ZeroEditInput(EngineModel):
    total: int = Field(ge=0, description="variants a human reviewed and approved")
    zero_edit: int = Field(ge=0, description="of those, approved without any edit")

    @model_validator(mode="after")
    def _within_total(self) -> ZeroEditInput:
        if self.zero_edit > self.total:
            raise ValueError("zero_edit cannot exceed total")
        return self


class ZeroEditResult(EngineModel):
    rate: float | None = Field(ge=0.0, le=1.0, description="zero_edit / total; None when total is 0")


class Learner:
    """Learns from feedback. Today: the two numbers edits are measured by.

    Edit distance is the Levenshtein distance between the NFC-normalised texts (code points)
    divided by the longer text's length (rapidfuzz), so 0 means untouched and 1 entirely
    rewritten; two empty texts are at distance 0. NFC first, so a composed and a decomposed
    accent are not an edit.
    """

    OPS: ClassVar[dict[str, type[EngineModel]]] = {"edit_distance": EditInput, "zero_edit_rate": ZeroEditInput}

    async def edit_distance(self, payload: EditInput) -> EditResult:
        a = unicodedata.normalize("NFC", payload.original)
        b = unicodedata.normalize("NFC", payload.edited)
        return EditResult(distance=float(Levenshtein.normalized_distance(a, b)))

    async def zero_edit_rate(self, payload: ZeroEditInput) -> ZeroEditResult:
        return ZeroEditResult(rate=None if payload.total == 0 else payload.zero_edit / payload.total)


# --------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------

Engine = OpportunityScout | PatternMiner | ContentWriter | Learner
ENGINE_KINDS: dict[str, type[Engine]] = {
    "scout": OpportunityScout,
    "miner": PatternMiner,
    "writer": ContentWriter,
    "learner": Learner,
}


async def dispatch(engine: Engine, op: str, payload: Any) -> EngineModel:
    """Run ``op`` on ``engine`` with ``payload`` (its input model, or a dict of its fields).

    An unknown op or a payload of the wrong shape is :class:`storage.errors.Invalid`.
    """
    input_model = engine.OPS.get(op)
    if input_model is None:
        raise Invalid(
            f"{type(engine).__name__} has no operation {op!r} (known: {', '.join(sorted(engine.OPS))})",
            details={"field": "op"},
        )
    if not isinstance(payload, input_model):
        try:
            data = payload.model_dump() if isinstance(payload, BaseModel) else payload
            payload = input_model.model_validate(data)
        except ValueError as exc:
            raise Invalid(f"invalid payload for {op}: {exc}", details={"field": "payload"}) from exc
    method: Callable[[Any], Awaitable[EngineModel]] = getattr(engine, op)
    return await method(payload)


__all__ = [
    "CHANNEL_LIMITS",
    "ENGINE_KINDS",
    "Beat",
    "ContentWriter",
    "EditInput",
    "EditResult",
    "Engine",
    "EngineModel",
    "Learner",
    "LengthInput",
    "LengthResult",
    "OpportunityScout",
    "PatternMiner",
    "RelevanceInput",
    "RelevanceResult",
    "SegmentInput",
    "SegmentResult",
    "ZeroEditInput",
    "ZeroEditResult",
    "dispatch",
    "grapheme_count",
    "mastodon_length",
    "measure",
    "segment_beats",
    "x_weighted_length",
]
