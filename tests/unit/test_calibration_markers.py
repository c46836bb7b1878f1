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
    tokens = [" ".join(p.tokens) for p in phrases]
    merged = [t for t in tokens if "what the kiln log says about batch" in t]
    assert len(merged) == 1
    # No shorter piece of the merged phrase survives next to it.
    assert not any(t != merged[0] and t in merged[0] for t in tokens)


def test_a_phrase_keeps_the_function_words_the_brand_always_says_around_it():
    brand = ["In our experience, celadon cracks when cooled fast.", "In our experience, stoneware forgives a lot.",
             "Porcelain warps in our experience.", "In our experience, ash glazes run.", "Kilns drift, in our experience.",
             "In our experience, cones beat thermocouples.", "Our experience differs from the manuals."]  # fmt: skip
    [phrase] = [p for p in VoiceMarkerScorer(min_z=0.5).score(brand, background()) if "experience" in p.tokens]
    assert phrase.phrase == "In our experience"


def test_a_shorter_phrase_that_recurs_more_widely_beats_its_rare_extension():
    brand = ["Kiln logs matter.", "Read the kiln logs.", "Kiln logs first, opinions later.", "We keep kiln logs daily.",
             "Kiln logs beat memory.", "Check kiln logs twice.", "Kiln logs never lie.", "Kiln logs never lie, again.",
             "Kiln logs never lie twice."]  # fmt: skip
    phrases = [p.tokens for p in VoiceMarkerScorer(min_z=0.5).score(brand, background())]
    assert ("kiln", "logs") in phrases
    assert ("kiln", "logs", "never", "lie") not in phrases


def test_numbers_are_never_part_of_a_phrase_and_candidates_do_not_start_with_function_words():
    brand = [f"The kiln reached 1,200 degrees in test {c} of the glaze." for c in "abcdef"]
    phrases = VoiceMarkerScorer(min_z=0.0).score(brand, background())
    assert phrases
    for phrase in phrases:
        assert not any(t[0].isdigit() for t in phrase.tokens)
    # "of the glaze" is not a phrase of its own: a candidate never starts with "of".
    assert not any(p.tokens[0] == "of" for p in phrases)


def test_the_surface_form_is_how_the_brand_writes_it():
    texts = ["One chart, one decision.", "ONE CHART, ONE DECISION!", "Remember: One chart, one decision."]
    assert surface_form(("one", "chart", "one", "decision"), texts) == "One chart, one decision"
    assert surface_form(("don't", "guess"), ["Don’t guess.", "don't guess", "Don’t guess!"]) == "Don’t guess"


def test_a_recurring_hashtag_is_a_marker_a_recurring_single_word_is_not():
    brand = [f"Firing day {c}: glaze tests, cone packs and patience. #KilnLife" for c in "abcde"] + [
        "Glaze tests again today.", "More glaze tests tomorrow.", "Cone packs are ready."]
    phrases = VoiceMarkerScorer(min_z=0.5).score(brand, background())
    assert "#KilnLife" in [p.phrase for p in phrases]
    assert all(len(p.tokens) > 1 or p.tokens[0].startswith("#") for p in phrases)
