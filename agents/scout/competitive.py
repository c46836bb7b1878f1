"""Competitive angle: a document that names one of the brand's competitors.

A competitor is found by its name (legal suffixes such as "Co." or "Inc." dropped, see
``data/legal_suffixes.txt``), by one of its domains in the document's URL or text, or by one
of its handles. Names match whole words, case-insensitively ("Sentrix" is not found in
"Sentrixa"). The scout only calls a document competitive when it is also on a pillar: a
competitor's office party is not an opportunity.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit

import regex

from storage.objects import Competitor


@lru_cache(maxsize=1)
def legal_suffixes() -> frozenset[str]:
    text = (resources.files("agents.scout") / "data" / "legal_suffixes.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def core_name(name: str) -> str:
    """The name without trailing company-form words ("Northstar Coffee Co." -> "Northstar Coffee")."""
    words = name.replace(",", " ").split()
    while len(words) > 1 and words[-1].lower() in legal_suffixes():
        words.pop()
    return " ".join(words)


@lru_cache(maxsize=4096)
def _pattern(competitor_key: tuple[str, tuple[str, ...], tuple[str, ...]]) -> regex.Pattern:
    name, domains, handles = competitor_key
    names = {name, core_name(name)}
    alternatives = [r"\m" + regex.escape(n).replace(r"\ ", r"\s+") + r"\M" for n in names if n]
    alternatives += [r"(?<![\w.-])" + regex.escape(d) + r"\M" for d in domains]
    alternatives += [r"(?<!\w)@?" + regex.escape(h.lstrip("@")) + r"\M" for h in handles]
    return regex.compile("|".join(alternatives), regex.IGNORECASE)


def named_competitor(competitors: list[Competitor], text: str, url: str | None = None) -> str | None:
    """The first competitor the document names (text, title or URL host), or None."""
    host = (urlsplit(url).hostname or "").lower() if url else ""
    for competitor in competitors:
        domains = tuple(competitor.domains)
        if host and any(host == d or host.endswith("." + d) for d in domains):
            return competitor.name
        key = (competitor.name, domains, tuple(competitor.handles))
        if _pattern(key).search(text):
            return competitor.name
    return None
