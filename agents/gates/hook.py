"""G2 hook: the first line must carry something - a subject, a number, a question, a claim or
a tension. A greeting or throat-clearing opener with no subject is rejected (``weak_hook``).

The first non-blank line (its first sentence when the line is a long paragraph) is tokenized;
greeting and filler phrases (``data/hook_openers.txt``) are removed, then function words,
forms of address, vague nouns and time words (``data/hook_stopwords.txt``). What remains is the
subject. No subject and no number: score 0. Otherwise the score grows with the subject's
words, a number, a question and a cue of tension (``data/hook_tension.txt``). The threshold
(default 20) rejects below it; a brand can raise it to demand stronger hooks.
"""

from __future__ import annotations

import re
from functools import cache

from storage.objects import Gate

from .model import GateResult
from .rules import Context, Rule, finding, load_lines, result
from .tokens import words

RULE = Rule(name="hook", gate=Gate.G2_HOOK, codes=("weak_hook",), summary="the first line carries a subject")

LONG_LINE = 200
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")


def first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(line) > LONG_LINE:
        line = _SENTENCE.split(line, maxsplit=1)[0]
    return line


@cache
def _openers() -> list[tuple[str, ...]]:
    phrases = {tuple(words(line)) for line in load_lines("hook_openers.txt")}
    return sorted((p for p in phrases if p), key=len, reverse=True)


def _strip_openers(tokens: list[str]) -> list[str]:
    """Tokens with every greeting/filler phrase removed (longest phrases first)."""
    out: list[str] = []
    i = 0
    openers = _openers()
    while i < len(tokens):
        for phrase in openers:
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


@cache
def _word_set(name: str) -> frozenset[str]:
    return frozenset(word for line in load_lines(name) for word in words(line))


def hook_score(line: str) -> tuple[float, list[str]]:
    """The hook's score (0-100) and its subject words."""
    tokens = words(line)
    stop = _word_set("hook_stopwords.txt")
    rest = _strip_openers(tokens)
    number = any(t.isdigit() or any(ch.isdigit() for ch in t) for t in rest)
    subject = [t for t in rest if t not in stop and not t.isdigit()]
    if not subject and not number:
        return 0.0, []
    tension = bool(set(tokens) & _word_set("hook_tension.txt"))
    question = "?" in line
    score = 30.0 + 15.0 * min(len(subject), 3) + 10.0 * number + 10.0 * (question and bool(subject)) + 5.0 * tension
    return min(score, 100.0), subject


def check(ctx: Context) -> GateResult:
    if not ctx.candidate.text.strip():
        return result(RULE, 0.0, [], skipped=True)  # the platform gate rejects an empty post
    line = first_line(ctx.candidate.text)
    score, subject = hook_score(line)
    threshold = ctx.threshold(RULE) or 0.0
    findings = []
    if score < threshold:
        why = "no subject" if not subject else f"score {score:.0f} below the brand's {threshold:.0f}"
        findings.append(finding(RULE, ctx.severity(RULE), "weak_hook", f"the first line is weak ({why})", line[:200]))
    return result(RULE, score, findings, threshold)
