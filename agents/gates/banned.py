"""G4 voice, words: the brand's banned words and phrases, matched as whole tokens.

Matching is on folded tokens (:mod:`.tokens`), so case, width, ligatures and composed vs
decomposed accents do not hide a word, and a word inside a longer word (``scrap`` in
``scrapbook``) never matches. A multi-word entry matches the same run of tokens. A ``hard``
entry rejects (``banned_word_hard``); a ``soft`` one flags and passes (``banned_word_soft_flag``).
A rubric override with severity ``flag`` makes hard words flag too (same code).
"""

from __future__ import annotations

from storage.objects import BannedSeverity, Gate

from .model import GateResult, Severity
from .rules import Context, Rule, finding, result
from .tokens import words

RULE = Rule(
    name="banned_words",
    gate=Gate.G4_VOICE,
    codes=("banned_word_hard", "banned_word_soft_flag"),
    summary="none of the brand's banned words or phrases, as whole tokens",
)


def _occurs(needle: tuple[str, ...], haystack: list[str]) -> bool:
    n = len(needle)
    if n == 0 or n > len(haystack):
        return False
    first = needle[0]
    return any(haystack[i] == first and tuple(haystack[i : i + n]) == needle for i in range(len(haystack) - n + 1))


def check(ctx: Context) -> GateResult:
    text_words = words(ctx.candidate.text)
    hard_severity = ctx.severity(RULE)
    findings = []
    hits = 0
    for entry in ctx.candidate.brand.banned_words:
        if not _occurs(tuple(words(entry.word)), text_words):
            continue
        hits += 1
        if entry.severity is BannedSeverity.HARD:
            findings.append(finding(RULE, hard_severity, "banned_word_hard",
                                    f"uses the banned word {entry.word!r}", entry.word))  # fmt: skip
        else:
            findings.append(finding(RULE, Severity.FLAG, "banned_word_soft_flag",
                                    f"uses {entry.word!r}, which the brand avoids", entry.word))  # fmt: skip
    return result(RULE, 100.0 / (1 + hits), findings)
