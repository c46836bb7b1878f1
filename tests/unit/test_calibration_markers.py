"""The voice-marker scorer on small constructed corpora: what it keeps, merges and drops."""

from __future__ import annotations

import pytest

from agents.calibration import BackgroundCorpus, VoiceMarkerScorer
from agents.calibration.markers import surface_form

pytestmark = pytest.mark.unit

GENERIC = [
    "Thank you for joining us this week, we had a great time with everyone.",
    "Thank you to our customers for another great year together with the team.",
    "Our store is open this week with new products for the season ahead.",
    "Join us for a great evening of music and food this week downtown.",
    "We are hiring new people to join our team and grow the business this year.",
    "Thank you for your patience while we update the website this week.",
] * 5  # thirty generic documents


def background() -> BackgroundCorpus:
    return BackgroundCorpus.from_texts(GENERIC)


def test_a_phrase_common_in_the_background_is_not_a_marker_however_often_the_brand_says_it():
    brand = [f"Thank you, readers. Post {i} talks about kiln temperature and glaze chemistry." for i in range(8)]
    phrases = [p.tokens for p in VoiceMarkerScorer().score(brand, background())]
    assert ("thank", "you") not in phrases
    assert any(set(p) & {"kiln", "glaze"} for p in phrases)


def test_a_phrase_below_the_minimum_document_frequency_is_not_a_marker():
    brand = ["Glaze chemistry matters.", "Glaze chemistry again.", "Kiln logs today.", "Kiln logs tomorrow.", "Kiln logs forever."]
    scorer = VoiceMarkerScorer(min_document_frequency=3, min_z=0.0)
    phrases = [p.tokens for p in scorer.score(brand, background())]
    assert ("kiln", "logs") in phrases and ("glaze", "chemistry") not in phrases


def test_overlapping_candidates_merge_into_the_phrase_they_form():
    brand = [f"Here is what the kiln log says about batch {c}. Then we fire again." for c in "abcdefgh"]
    phrases = VoiceMarkerScorer(min_z=1.0).score(brand, background())
    tokens = [p.tokens for p in phrases]
    assert ("what", "the", "kiln", "log", "says", "about", "batch") in tokens or (
        "here", "is", "what", "the", "kiln", "log", "says", "about", "batch") in tokens
    # No shorter piece of the merged phrase survives next to it.
    longest = max(tokens, key=len)
    assert not any(t != longest and " ".join(t) in " ".join(longest) for t in tokens)


def test_a_shorter_phrase_that_recurs_more_widely_beats_its_rare_extension():
    brand = ["Kiln logs matter.", "Read the kiln logs.", "Kiln logs first, opinions later.", "We keep kiln logs daily.",
             "Kiln logs beat memory.", "Check kiln logs twice.", "Kiln logs never lie.", "Kiln logs never lie, again.",
             "Kiln logs never lie twice."]  # fmt: skip
    phrases = [p.tokens for p in VoiceMarkerScorer(min_z=0.5).score(brand, background())]
    assert ("kiln", "logs") in phrases
    assert ("kiln", "logs", "never", "lie") not in phrases


def test_numbers_and_edge_function_words_are_not_phrases():
    brand = [f"The kiln reached 1,200 degrees in test {i} of the glaze." for i in range(6)]
    for phrase in VoiceMarkerScorer(min_z=0.0).score(brand, background()):
        assert not any(t[0].isdigit() for t in phrase.tokens)
        assert phrase.tokens[0] not in {"the", "of", "in"} and phrase.tokens[-1] not in {"the", "of", "in"}


def test_the_surface_form_is_how_the_brand_writes_it():
    texts = ["One chart, one decision.", "ONE CHART, ONE DECISION!", "Remember: One chart, one decision."]
    assert surface_form(("one", "chart", "one", "decision"), texts) == "One chart, one decision"
    assert surface_form(("don't", "guess"), ["Don’t guess.", "don't guess", "Don’t guess!"]) == "Don’t guess"
