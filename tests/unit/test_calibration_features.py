"""Text features: a table of small texts with their counts worked out by hand."""

from __future__ import annotations

import pytest

from agents.calibration import FEATURES, aggregate, measure
from agents.calibration.text import emoji_count, sentences, words

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Median load time fell 38% in Q3. Cost dropped to $0.62.", {"number_rate": 2 / 11, "question_rate": 0.0, "sentence_words": 5.5}),
        ("Do you water on Sundays? I do! We love it.", {"question_rate": 1 / 3, "exclamation_rate": 1 / 3, "first_person_rate": 2 / 10, "second_person_rate": 1 / 10}),
        ("Hey friends 🌿💚 we're gonna repot today 👩‍👩‍👧", {"emoji_rate": 3 / 6}),
        ("Therefore, the methodology requires approximately four weeks.", {"formal_rate": 4 / 7, "informal_rate": 0.0}),
        ("It's okay, don't worry, it'll grow back.", {"informal_rate": 4 / 7}),
        ("Maybe it might work. Never guess, always measure.", {"hedge_rate": 2 / 8, "assertive_rate": 2 / 8}),
        ("Steps:\n- Export the table\n- Compare the totals\n1. Ship it", {"list_rate": 3 / 4}),
    ],
)
def test_measured_features(text, expected):
    measured = measure(text)
    assert set(measured) == set(FEATURES)
    for feature, value in expected.items():
        assert measured[feature] == pytest.approx(value), feature


def test_links_and_mentions_are_not_words_and_emoji_lines_are_not_sentences():
    text = "Read it at https://example.com/a-b?c=d thanks @ana_b\n🎉🎉\nDone."
    assert words(text) == ["read", "it", "at", "thanks", "done"]
    assert sentences(text) == ["Read it at   thanks", "Done."]


def test_emoji_sequences_count_once():
    assert emoji_count("👍🏽 🇫🇷 ❤️ 👩‍💻 plain") == 4


def test_aggregate_weighs_each_example_the_same():
    short = {f: 0.0 for f in FEATURES} | {"number_rate": 1.0}
    long = {f: 0.0 for f in FEATURES}
    means, stds = aggregate([short, long, long, long])
    assert means["number_rate"] == pytest.approx(0.25)
    assert stds["number_rate"] == pytest.approx(0.5)
