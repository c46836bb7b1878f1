"""Calibration quality on hand-written example sets of clearly different voices.

Ledgerline (terse, data-heavy B2B analytics, no emoji) and Maple & Moss (warm, first-person,
questions and emoji, a plant shop), 28 posts each, each with its own recurring phrases and with
generic phrases the background corpus also uses a lot; Northwind Legal (formal, long, hedged
advisory prose, 26 posts) as a third voice (``tests/data/calibration/labels.json``).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from uuid import uuid4

import pytest

from agents.calibration import Calibrator, parse_examples
from agents.calibration.background import DEFAULT_CORPUS
from agents.calibration.models import CalibrationInput
from storage.objects import BrandBrainSnapshot

pytestmark = pytest.mark.unit

DATA = Path(__file__).parents[1] / "data" / "calibration"
LABELS = json.loads((DATA / "labels.json").read_text())
BRANDS = ("ledgerline", "maple_moss", "northwind")
PAIRS = list(itertools.permutations(BRANDS, 2))


def words(text: str) -> str:
    """Lower-case words joined by single spaces, for plain substring checks in the tests."""
    cleaned = "".join(c if c.isalnum() or c in "'-" else " " for c in text.casefold().replace("’", "'"))
    tokens = [t.strip("'-") for t in cleaned.split()]
    return " " + " ".join(tokens) + " "


def examples(name: str):
    return parse_examples((DATA / f"{name}_examples.json").read_bytes(), "json").examples


def snapshot() -> BrandBrainSnapshot:
    return BrandBrainSnapshot(brand_id=uuid4(), version=1, positioning="A brand.")


@pytest.fixture(scope="module")
def calibrator() -> Calibrator:
    return Calibrator()


@pytest.fixture(scope="module")
def results(calibrator):
    return {name: calibrator.run(CalibrationInput(snapshot=snapshot(), examples=examples(name))) for name in BRANDS}


def marker_phrases(result) -> list[str]:
    return [m.phrase for m in result.snapshot.voice_markers]


@pytest.mark.parametrize("a, b", list(itertools.combinations(BRANDS, 2)))
def test_different_voices_get_different_tone_labels(results, a, b):
    assert results[a].snapshot.tone_descriptors and results[b].snapshot.tone_descriptors
    assert results[a].snapshot.tone_descriptors != results[b].snapshot.tone_descriptors


@pytest.mark.parametrize("name", BRANDS)
def test_tone_labels_are_the_ones_a_reader_would_give(results, name):
    descriptors = set(results[name].snapshot.tone_descriptors)
    assert set(LABELS[name]["expect_descriptors"]) <= descriptors, (name, descriptors)
    assert not set(LABELS[name]["forbid_descriptors"]) & descriptors, (name, descriptors)


def test_the_opposite_voices_share_no_tone_label(results):
    assert set(results["ledgerline"].snapshot.tone_descriptors).isdisjoint(results["maple_moss"].snapshot.tone_descriptors)


def test_tone_scores_and_knobs_point_the_right_way(results):
    ledger, maple = results["ledgerline"], results["maple_moss"]
    assert ledger.snapshot.tone_profile["data_orientation"] > maple.snapshot.tone_profile["data_orientation"]
    assert maple.snapshot.tone_profile["warmth"] > ledger.snapshot.tone_profile["warmth"]
    assert maple.snapshot.tone_profile["conversational"] > ledger.snapshot.tone_profile["conversational"]
    assert maple.tone.knobs["story_vs_tactical"] > 0.5 > ledger.tone.knobs["story_vs_tactical"]


@pytest.mark.parametrize("a, b", list(itertools.combinations(BRANDS, 2)))
def test_different_voices_get_different_voice_markers(results, a, b):
    first, second = ({words(p) for p in marker_phrases(results[n])} for n in (a, b))
    assert len(first) >= 3 and len(second) >= 3
    assert first.isdisjoint(second)


@pytest.mark.parametrize("name", BRANDS)
def test_markers_are_the_brands_signature_phrases(results, name):
    """Recall and precision against the hand-labelled signatures: a marker matches a label
    when one contains the other ("data says" inside "The data says")."""
    labels = [words(s) for s in LABELS[name]["signature"]]
    markers = [words(p) for p in marker_phrases(results[name])]

    def match(marker: str, label: str) -> bool:
        return marker in label or label in marker

    recall = sum(any(match(m, lab) for m in markers) for lab in labels) / len(labels)
    precision = sum(any(match(m, lab) for lab in labels) for m in markers) / len(markers)
    assert recall >= 0.8, (recall, markers)
    assert precision >= 0.8, (precision, markers)


@pytest.mark.parametrize("name", BRANDS)
def test_markers_recur_in_the_brand_and_are_rare_in_the_background(results, name):
    """Counted here independently of the scorer: every marker occurs in at least three of the
    brand's examples, and in a far smaller share of background documents than of the brand's."""
    brand = [words(e.text) for e in examples(name)]
    background = [words(json.loads(line)["text"]) for line in DEFAULT_CORPUS.read_text().splitlines() if line.strip()]
    for phrase in marker_phrases(results[name]):
        needle = words(phrase)
        brand_share = sum(needle in t for t in brand) / len(brand)
        background_share = sum(needle in t for t in background) / len(background)
        assert brand_share * len(brand) >= 3, phrase
        assert background_share * 10 < brand_share, (phrase, brand_share, background_share)


@pytest.mark.parametrize("name", [n for n in BRANDS if LABELS[n]["generic_traps"]])
def test_generic_phrases_the_brand_also_uses_are_not_markers(results, name):
    """The traps occur in three or more of the brand's examples (so frequency alone would pick
    them) and often in the background corpus; the log-odds score must leave them out."""
    brand = [words(e.text) for e in examples(name)]
    background = [words(json.loads(line)["text"]) for line in DEFAULT_CORPUS.read_text().splitlines() if line.strip()]
    markers = [words(p) for p in marker_phrases(results[name])]
    for trap in LABELS[name]["generic_traps"]:
        needle = words(trap)
        assert sum(needle in t for t in brand) >= 3, trap  # the trap is really in the set
        assert sum(needle in t for t in background) >= 5, trap  # and really generic
        assert not any(needle in m or m in needle for m in markers), (trap, markers)


def test_swapping_the_examples_swaps_labels_and_markers(calibrator, results):
    """Brand A calibrated with B's examples gets what B got, and the other way round: the
    result is a function of the examples, and a recalibration replaces detected markers."""
    for mine, theirs in PAIRS:
        swapped = calibrator.run(CalibrationInput(snapshot=results[mine].snapshot, examples=examples(theirs)))
        assert swapped.snapshot.tone_descriptors == results[theirs].snapshot.tone_descriptors
        assert marker_phrases(swapped) == marker_phrases(results[theirs])
        assert swapped.snapshot.tone_profile == results[theirs].snapshot.tone_profile
        assert swapped.event.before.voice_markers == marker_phrases(results[mine])
