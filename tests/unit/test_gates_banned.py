"""G4 banned words: whole tokens after NFKC and case folding; hard rejects, soft flags."""

from __future__ import annotations

import pytest

from agents.gates import BrandRules, GateInput, Rubric, RubricOverride, run_gates
from agents.gates.tokens import words
from storage.objects import BannedSeverity, BannedWord, Channel

pytestmark = pytest.mark.unit

RULES = BrandRules(banned_words=[
    BannedWord(word="scrap", severity=BannedSeverity.HARD),
    BannedWord(word="game changer", severity=BannedSeverity.HARD),
    BannedWord(word="synergy", severity=BannedSeverity.SOFT),
    BannedWord(word="don't worry", severity=BannedSeverity.HARD),
])  # fmt: skip


def test_tokens_are_runs_of_letters_digits_and_marks():
    assert words("Scrap-heap #scrap @Scrap's 🙂scrap🙂") == ["scrap", "heap", "scrap", "scrap", "s", "scrap"]
    assert words("ＳＣＲＡＰ") == ["scrap"]  # full-width folds under NFKC
    assert words("ﬁnal") == ["final"]  # ligature
    assert words("cafe\u0301") == words("café")  # NFD and NFC alike
    assert words("STRASSE Straße") == ["strasse", "strasse"]
    assert words("नमस्ते") == ["नमस्ते"]  # combining vowel signs stay inside the token


async def _codes(text: str, rules: BrandRules = RULES, rubric: Rubric = Rubric()) -> tuple[list[str], list[str]]:
    report = await run_gates(GateInput(channel=Channel.LINKEDIN, text=text, brand=rules, rubric=rubric))
    result = report.result("banned_words")
    return [f.code for f in result.findings if f.severity == "reject"], [f.code for f in result.findings if f.severity == "flag"]


@pytest.mark.parametrize(
    ("text", "rejects", "flags"),
    [
        ("We turned a scrap of an idea into a plan.", ["banned_word_hard"], []),
        ("SCRAP the old funnel.", ["banned_word_hard"], []),
        ("The scrap-heap of old dashboards.", ["banned_word_hard"], []),
        ("Our #scrap pile grew.", ["banned_word_hard"], []),
        ("ｓｃｒａｐ it.", ["banned_word_hard"], []),
        ("This is a Game  Changer, honestly.", ["banned_word_hard"], []),
        ("A game-changer? No.", ["banned_word_hard"], []),
        ("Don’t worry, the data is fine.", ["banned_word_hard"], []),  # either apostrophe is a boundary
        ("Don't worry about it.", ["banned_word_hard"], []),
        ("My scrapbook of launch notes.", [], []),  # a longer word containing it
        ("Scrapping features is healthy.", [], []),
        ("The game changed when pricing did.", [], []),
        ("Team synergy matters.", [], ["banned_word_soft_flag"]),
        ("Synergies matter.", [], []),
    ],
)
async def test_whole_token_matching(text, rejects, flags):
    assert await _codes(text) == (rejects, flags)


async def test_another_brands_banned_word_passes_and_soft_words_pass_with_a_flag():
    other = BrandRules(banned_words=[BannedWord(word="cheap", severity=BannedSeverity.HARD)])
    assert await _codes("Cheap tricks rarely last.", RULES) == ([], [])
    assert await _codes("Cheap tricks rarely last.", other) == (["banned_word_hard"], [])
    report = await run_gates(GateInput(channel=Channel.X, text="Synergy is a word we avoid. Churn is not.", brand=RULES))
    assert report.passed and "banned_word_soft_flag" in report.flags


async def test_a_rubric_can_turn_hard_words_into_flags():
    rubric = Rubric(overrides=[RubricOverride(rule="banned_words", severity="flag")])
    assert await _codes("Scrap it.", RULES, rubric) == ([], ["banned_word_hard"])
