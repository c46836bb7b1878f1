"""Grounding: every figure, proper name, quotation, URL and handle in a variant must trace to
what the writer was given - the source documents, the card, the core argument or the brand
brain (names, personas, pillars, offers, competitors, voice markers, memory). A variant with
one untraceable claim is rejected before the gates, so no generator can invent a statistic,
a company or a quote.

* **Figures**: numbers with their unit (``58%``, ``$3.80``, ``1,140``, ``Q2``, ``4.2x``),
  normalized (thousands separators, currency and ``percent``/``%`` spelled either way) and
  looked up among the references' figures. A list's ordinal (``1.`` opening a line) is
  structure, not a claim.
* **Names**: capitalized words that do not open a sentence, and acronyms, CamelCase or
  digit-bearing words anywhere (``GA4``, ``HubSpot``); traced when the same word occurs in
  the references. A capitalized word opening a sentence is a name too unless it is a common
  word: one written in lower case somewhere in the calibration's background corpus (476
  generic posts), the references or the composer's frames ("Gartner says" is caught,
  "Teams that..." is not).
* **Figures in words** (``five weeks``, ``forty clients``) are figures too: traced by the
  same number in words or digits; ``one`` and counts of the post's own parts ("Three things")
  are not (``data/grounding.json``).
* **Quotations**: text in double quotes (straight or curly) of three words or more must occur
  in a reference (case and whitespace folded).
* **URLs and handles** must occur in a reference as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from .models import Claim, GroundingReport

_FIGURE = re.compile(
    r"(?<![\w.])(?:[$€£¥]\s?)?(?:Q[1-4]\b|\d[\d,]*(?:\.\d+)?)(?:\s?(?:%|percent|per cent|x\b|k\b|m\b|bn\b))?",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"^\s*\d{1,2}[.)]\s", re.MULTILINE)
_THREAD_MARK = re.compile(r"\s\d{1,3}/\d{1,3}$", re.MULTILINE)
_QUOTE = re.compile(r"[\"“”]([^\"“”]{3,}?)[\"“”]")
_URL = re.compile(r"https?://[^\s)>\]]+")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_][A-Za-z0-9_.]{0,63}")
_WORD = re.compile(r"[#]?[A-Za-z0-9][\w'’&-]*")
_SENTENCE_START = re.compile(r"(?:^|[.!?…:;]\s+|\n\s*(?:[-•→▪*]\s*)?|[\"“(]\s*|—\s*)$")
_SPACE = re.compile(r"\s+")


def _norm_figure(raw: str) -> str:
    """``1,140`` → ``1140``, ``58 percent`` → ``58%``, ``$3.80`` → ``$3.8``."""
    s = re.sub(r"per\s?cent", "%", raw.lower()).replace(" ", "").replace(",", "").rstrip(".")
    if "." in s:
        head, _, tail = s.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit()).rstrip("0")
        rest = "".join(ch for ch in tail if not ch.isdigit())
        s = head + (f".{digits}" if digits else "") + rest
    return s


def _key(norm: str) -> tuple[str, bool]:
    if norm.upper().startswith("Q") and norm[1:].isdigit():
        return norm.upper(), False
    return re.sub(r"[^\d.]", "", norm), "%" in norm


@cache
@cache
def _data() -> dict:
    return json.loads((Path(__file__).parent / "data" / "grounding.json").read_text(encoding="utf-8"))


def _number_words() -> tuple[dict[str, int], frozenset[str]]:
    data = _data()
    return dict(data["number_words"]), frozenset(data["structural_nouns"])


_NUMBER_WORD = re.compile(r"\b([A-Za-z]+)\b(?:\s+([A-Za-z]+))?")


def word_figures(text: str) -> list[str]:
    """Numbers written in words (``forty``), each as its digits, counts of parts left out."""
    numbers, structural = _number_words()
    out = []
    tokens = re.findall(r"[A-Za-z]+", text)
    for i, token in enumerate(tokens):
        value = numbers.get(token.lower())
        if value is None:
            continue
        following = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        if following in structural:
            continue
        out.append(str(value))
    return out


def figures(text: str) -> list[str]:
    """The figures of ``text`` as written (list ordinals and thread numbering left out)."""
    text = _THREAD_MARK.sub("", _ORDINAL.sub(" ", text))
    text = _URL.sub(" ", text)
    return [m.group(0).strip() for m in _FIGURE.finditer(text) if any(ch.isdigit() for ch in m.group(0))
            or m.group(0).upper().startswith("Q")]  # fmt: skip


BACKGROUND = Path(__file__).parents[1] / "calibration" / "data" / "background_corpus.jsonl"


@cache
def common_words() -> frozenset[str]:
    """Words written in lower case in the background corpus and the composer's frames."""
    from .composer import (
        Phrasing,  # the frames' own words are the composer's, not claims
    )

    texts = [json.loads(line)["text"] for line in BACKGROUND.read_text(encoding="utf-8").splitlines() if line.strip()]
    frames = [f.text for kind in Phrasing.load().frames.values() for f in kind]
    lower = {w for t in texts for w in _WORD.findall(t) if w.islower()}
    return frozenset(lower | {w.lower() for t in frames for w in _WORD.findall(t)})


def _looks_like_name(word: str, sentence_start: bool, common: frozenset[str] = frozenset()) -> bool:
    if word.startswith("#") or word == "I" or len(word) < 2 or word in _data()["not_names"]:
        return False
    core = word.rstrip("'’s") if word.endswith(("'s", "’s")) else word
    if not core or not core[0].isalpha():
        return any(ch.isdigit() for ch in core) and any(ch.isalpha() for ch in core)
    inner_upper = any(ch.isupper() for ch in core[1:])
    has_digit = any(ch.isdigit() for ch in core)
    if inner_upper or has_digit:
        return True
    return core[0].isupper() and (not sentence_start or core.lower() not in common)


def names(text: str, common: frozenset[str] = frozenset()) -> list[str]:
    found: list[str] = []
    text = _URL.sub(" ", _HANDLE.sub(" ", text))
    for match in _WORD.finditer(text):
        word = match.group(0)
        start = bool(_SENTENCE_START.search(text[max(0, match.start() - 4) : match.start()])) or match.start() == 0
        if _looks_like_name(word, start, common):
            found.append(word.rstrip("'’s") if word.endswith(("'s", "’s")) else word)
    return found


def quotes(text: str) -> list[str]:
    return [q.strip() for q in _QUOTE.findall(text) if len(q.split()) >= 3]


def _fold(text: str) -> str:
    return _SPACE.sub(" ", text.replace("’", "'").casefold()).strip()


class References:
    """What a variant may cite: the figures, words, folded text, URLs and handles of the
    references, indexed once per package."""

    def __init__(self, texts: Iterable[str]) -> None:
        texts = [t for t in texts if t]
        self.folded = "\n".join(_fold(t) for t in texts)
        self.figures = {_norm_figure(f) for t in texts for f in figures(t)}
        self.figure_keys = {_key(f) for f in self.figures} | {(w, False) for t in texts for w in word_figures(t)}
        self.words = {w.rstrip("'’s") if w.endswith(("'s", "’s")) else w for t in texts for w in _WORD.findall(t)}
        self.words_folded = {w.casefold() for w in self.words}
        self.common = common_words() | {w for w in self.words if w.islower()}
        self.urls = {u.rstrip(".,") for t in texts for u in _URL.findall(t)}
        self.handles = {h.casefold() for t in texts for h in _HANDLE.findall(t)}

    def has_figure(self, raw: str) -> bool:
        """Traced when the same number occurs with the same percent-ness (``$4.20`` is
        ``4.20 dollars``; ``58%`` is ``58 percent`` but not ``58 clients``)."""
        norm = _norm_figure(raw)
        return norm in self.figures or _key(norm) in self.figure_keys

    def has_name(self, word: str) -> bool:
        return word in self.words or (word.isupper() and word.casefold() in self.words_folded)

    def has_quote(self, quote: str) -> bool:
        return _fold(quote).strip(" .,!?") in self.folded


def check_grounding(text: str, refs: References) -> GroundingReport:
    """Every claim of ``text`` against ``refs``: passed when none is untraceable."""
    checked: list[Claim] = []
    untraced: list[Claim] = []

    def record(kind: str, value: str, ok: bool) -> None:
        claim = Claim(kind=kind, text=value)  # type: ignore[arg-type]
        checked.append(claim)
        if not ok:
            untraced.append(claim)

    for url in _URL.findall(text):
        record("url", url.rstrip(".,"), url.rstrip(".,") in refs.urls)
    for handle in _HANDLE.findall(_URL.sub(" ", text)):
        record("handle", handle, handle.casefold() in refs.handles)
    for quote in quotes(text):
        record("quote", quote, refs.has_quote(quote))
    for figure in figures(text):
        record("figure", figure, refs.has_figure(figure))
    for number in word_figures(text):
        record("figure", number, (number, False) in refs.figure_keys or refs.has_figure(number))
    for name in dict.fromkeys(names(text, refs.common)):
        record("name", name, refs.has_name(name))
    return GroundingReport(passed=not untraced, checked=checked, untraced=untraced)


__all__ = ["References", "check_grounding", "figures", "names", "quotes", "word_figures"]
