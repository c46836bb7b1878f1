"""Content writer: a text measured by its channel's real counting rule."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, ClassVar

import regex
from pydantic import Field

from storage.objects import Channel

from .base import TEXT_MAX, EngineModel

if TYPE_CHECKING:  # pragma: no cover - importing the memory package pulls in chromadb
    from storage.memory.embeddings import TextEmbedder


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
