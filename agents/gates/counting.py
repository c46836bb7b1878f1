"""How each platform counts a post's length (``reference/platform-apis.md``).

* **X**: twitter-text v3 weighted length, computed by the reference library itself
  (``twitter-text-parser``'s ``parse_tweet``): NFC first, every URL (bare domains too, the full
  TLD list) 23, each emoji sequence 2, code points in the v3 weight-1 ranges 1, the rest 2;
  U+FFFE, U+FEFF and U+FFFF make a post invalid.
* **Mastodon**: grapheme clusters of the raw text, each URL *with a scheme* 23 (bare domains
  count in full), ``@user@domain`` counted as ``@user``; the limit is the instance's.
* **Bluesky**: 300 grapheme clusters and 3,000 UTF-8 bytes, no URL discount.
* **LinkedIn**: 3,000 characters of the raw text (before escaping), read as UTF-16 code units,
  the unit LinkedIn's Java backend and its web editor count in (an emoji outside the BMP is 2).
* **YouTube script**: 5,000 characters (NFC code points).

Why the X count is chunked: the library's URL pattern backtracks quadratically on long runs
of dotted labels (``1.1.1.…``: 8,000 characters take minutes). URLs and emoji never span
whitespace, so a long text is counted as the sum of its whitespace-separated pieces, which is
exactly the whole-text count (a property test checks it); only a single piece longer than
:data:`X_PIECE_MAX` with more than :data:`X_PIECE_DOTS_MAX` dots is counted with its dots read
as commas (same weight, no URL), which can only differ from the library if that run holds a URL.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import regex
from twitter_text import parse_tweet
from twitter_text.config import config as _twitter_config
from twitter_text.extract_urls import extract_urls_with_indices

from storage.objects import Channel

CHANNEL_LIMITS: dict[Channel, int] = {
    Channel.X: 280,
    Channel.LINKEDIN: 3000,
    Channel.MASTODON: 500,
    Channel.BLUESKY: 300,
    Channel.YOUTUBE_SCRIPT: 5000,
}
"""Default limits; mirrors the ``channels`` catalog table (max_text_length)."""

BLUESKY_MAX_BYTES = 3000
MASTODON_URL_LENGTH = 23
X_CONFIG: dict[str, Any] = _twitter_config["version3"]
X_INVALID = frozenset("\ufffe\ufeff\uffff")
X_DIRECT_MAX = 500
"""Texts up to this many code points (and few dots) go to ``parse_tweet`` whole."""
X_PIECE_MAX = 120
X_PIECE_DOTS_MAX = 20

_GRAPHEME = regex.compile(r"\X")
_WHITESPACE_RUNS = re.compile(r"(\s+)")
# Mastodon's mention pattern: a local part of word characters (dots and dashes inside), then
# @domain; the count keeps only "@user".
_REMOTE_MENTION = re.compile(
    r"(?<![=/\w])(@[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)@[\w-]+(?:\.[\w-]+)*\w", re.IGNORECASE
)
_SCHEME = re.compile(r"^https?://", re.IGNORECASE)
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Measure:
    """A text as one channel counts it."""

    length: int
    limit: int
    byte_length: int | None = None
    byte_limit: int | None = None
    invalid_characters: tuple[str, ...] = ()

    @property
    def within(self) -> bool:
        over_bytes = self.byte_limit is not None and (self.byte_length or 0) > self.byte_limit
        return 0 < self.length <= self.limit and not over_bytes and not self.invalid_characters


def _x_parse(text: str, *, after_space: bool) -> int:
    # The library treats the start of the text differently from a position after whitespace
    # (a bare domain right after "\n" takes a leading letter into the URL, at the start it does
    # not), so a piece that followed whitespace is counted with that whitespace before it.
    if after_space:
        return parse_tweet(" " + text, X_CONFIG).weightedLength - 1
    return parse_tweet(text, X_CONFIG).weightedLength


def _x_piece(text: str, *, after_space: bool) -> int:
    if len(text) > X_PIECE_MAX and text.count(".") > X_PIECE_DOTS_MAX:
        # A dotted run this long is no URL anyone posts; without its dots the library finds no
        # URL in it and counts it in linear time (a dot and a comma both weigh 1).
        text = text.replace(".", ",")
    return _x_parse(text, after_space=after_space)


def x_weighted_length(text: str) -> int:
    """The twitter-text v3 weighted length of ``text`` (``parse_tweet``'s ``weightedLength``)."""
    if len(text) <= X_DIRECT_MAX and text.count(".") <= X_PIECE_DOTS_MAX:
        return parse_tweet(text, X_CONFIG).weightedLength
    pieces = [piece for piece in _WHITESPACE_RUNS.split(text) if piece]
    return sum(_x_piece(piece, after_space=i > 0) for i, piece in enumerate(pieces))


def grapheme_count(text: str) -> int:
    """User-perceived characters (Unicode extended grapheme clusters, ``regex``'s ``\\X``)."""
    return len(_GRAPHEME.findall(text))


def _scheme_url_spans(text: str) -> list[tuple[int, int]]:
    """URLs with an http(s) scheme, found by twitter-text's extractor (Mastodon uses the same)."""
    spans = []
    for entity in extract_urls_with_indices(text):
        if _SCHEME.match(entity["url"]):
            start, end = entity["indices"]
            spans.append((start, end))
    return spans


def mastodon_length(text: str, spoiler_text: str = "") -> int:
    """Mastodon's count (``StatusLengthValidator``): the graphemes of the spoiler (content
    warning) followed by the text, where each URL of the text with a scheme counts as 23
    and ``@user@domain`` as ``@user``; the spoiler is counted as written."""
    text = _REMOTE_MENTION.sub(r"\1", text)
    pieces, position = [spoiler_text], 0
    for start, end in _scheme_url_spans(text) if len(text) <= X_DIRECT_MAX else _long_scheme_url_spans(text):
        pieces += [text[position:start], "x" * MASTODON_URL_LENGTH]
        position = end
    return grapheme_count("".join([*pieces, text[position:]]))


def _long_scheme_url_spans(text: str) -> list[tuple[int, int]]:
    """URL spans of a long text, piece by piece (see the module docstring on backtracking)."""
    spans, offset = [], 0
    for piece in _WHITESPACE_RUNS.split(text):
        if piece and not piece.isspace() and "://" in piece and piece.count(".") <= X_PIECE_DOTS_MAX:
            spans += [(offset + s, offset + e) for s, e in _scheme_url_spans(piece)]
        offset += len(piece)
    return spans


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def measure(channel: Channel, text: str, limit: int | None = None, spoiler_text: str | None = None) -> Measure:
    """``text`` as ``channel`` counts it, against the channel limit (or ``limit``); a Mastodon
    spoiler (content warning) counts towards the same limit."""
    limit = limit or CHANNEL_LIMITS[channel]
    surrogates = tuple(sorted(set(_SURROGATE.findall(text + (spoiler_text or "")))))
    if surrogates:
        # Unpaired surrogates cannot be encoded for any platform: counted as U+FFFD, and invalid.
        clean = None if spoiler_text is None else _SURROGATE.sub("\ufffd", spoiler_text)
        counted = measure(channel, _SURROGATE.sub("\ufffd", text), limit, clean)
        invalid = tuple(sorted(set(counted.invalid_characters) | set(surrogates)))
        return Measure(counted.length, counted.limit, counted.byte_length, counted.byte_limit, invalid)
    if channel is Channel.X:
        invalid = tuple(sorted(X_INVALID & set(unicodedata.normalize("NFC", text))))
        return Measure(length=x_weighted_length(text), limit=limit, invalid_characters=invalid)
    if channel is Channel.MASTODON:
        return Measure(length=mastodon_length(text, spoiler_text or ""), limit=limit)
    if channel is Channel.BLUESKY:
        return Measure(
            length=grapheme_count(text), limit=limit, byte_length=utf8_length(text), byte_limit=BLUESKY_MAX_BYTES
        )
    if channel is Channel.LINKEDIN:
        return Measure(length=utf16_length(text), limit=limit)
    return Measure(length=len(unicodedata.normalize("NFC", text)), limit=limit)


__all__ = [
    "BLUESKY_MAX_BYTES",
    "CHANNEL_LIMITS",
    "Measure",
    "grapheme_count",
    "mastodon_length",
    "measure",
    "utf8_length",
    "utf16_length",
    "x_weighted_length",
]
