"""Text cleaning: what every document's ``text`` goes through before it is stored or compared.

Cleaning is deliberately conservative: markup becomes text (block elements become line
breaks), entities are decoded, Unicode is NFC-normalized, control and zero-width characters
go, runs of spaces collapse and paragraphs are kept (passages and angle summaries need them).
The content hash is taken over a further *comparison form* (case-folded, punctuation and
whitespace squeezed), so the same text with different typography hashes the same.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

import regex

_BLOCK_TAGS = re.compile(
    r"<\s*(?:br|/?p|/?div|/?li|/?h[1-6]|/?tr|/?blockquote|/?section|/?article|/?ul|/?ol|/?pre)\b[^>]*>",
    re.IGNORECASE,
)
_DROP_ELEMENTS = re.compile(r"<\s*(script|style|noscript|template)\b.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENTS = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG = re.compile(r"<[^>]{0,2000}>")
_LOOKS_LIKE_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(\s[^>]*)?/?>")
# Cc (controls) except tab/newline, Cf (format: zero-width, bidi marks), Co/Cs (private, surrogates).
_INVISIBLE = regex.compile(r"[^\P{C}\t\n]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_COMPARISON_STRIP = regex.compile(r"[\p{P}\p{S}]+")


def strip_markup(text: str) -> str:
    """Markup to plain text: scripts/styles dropped, block tags to newlines, other tags removed."""
    text = _COMMENTS.sub(" ", text)
    text = _DROP_ELEMENTS.sub(" ", text)
    text = _BLOCK_TAGS.sub("\n", text)
    return _TAG.sub(" ", text)


def clean_text(raw: str) -> str:
    """The cleaned form of ``raw`` (may be empty: the caller decides whether that is an error)."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if _LOOKS_LIKE_HTML.search(text):
        text = strip_markup(text)
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = _BLANK_LINES.sub("\n\n", text)
    # Single line breaks inside a paragraph are layout, not structure.
    paragraphs = [" ".join(p.split("\n")) for p in text.split("\n\n")]
    return "\n\n".join(p.strip() for p in paragraphs if p.strip())


def comparison_form(text: str) -> str:
    """Case-folded text with punctuation and symbols removed and whitespace squeezed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_COMPARISON_STRIP.sub(" ", folded).split())


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the comparison form: the exact-duplicate key of a document."""
    return hashlib.sha256(comparison_form(text).encode("utf-8")).hexdigest()


def printable_ratio(text: str) -> float:
    """Share of characters that are letters, digits, punctuation or spaces: a binary body or
    mis-decoded bytes score low."""
    if not text:
        return 0.0
    good = sum(1 for ch in text if (ch.isprintable() and ch != "\ufffd") or ch in "\n\t\r")
    letters = sum(1 for ch in text if ch.isalpha())
    return min(good / len(text), 1.0) * min(1.0, 4 * letters / len(text))
