"""The calibration call: what the result holds and how it treats what the brand had."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from agents.calibration import Calibrator, chunk_text, parse_examples
from agents.calibration.banned import BannedRules
from agents.calibration.models import CalibrationInput, Example
from storage.errors import Invalid
from storage.objects import (
    BannedWord,
    BrandBrainSnapshot,
    BrandRuntimeContext,
    Channel,
    ChannelOverride,
    DnaSource,
    LengthMode,
    MemorySourceType,
    RiskMode,
    VoiceMarker,
)
from storage.objects.brain import MEMORY_TEXT_MAX

pytestmark = pytest.mark.unit

DATA = Path(__file__).parents[1] / "data" / "calibration"


@pytest.fixture(scope="module")
def calibrator() -> Calibrator:
    return Calibrator()


@pytest.fixture(scope="module")
def ledger_examples():
    return parse_examples((DATA / "ledgerline_examples.json").read_bytes(), "json").examples


def brand_state():
    brand_id = uuid4()
    snapshot = BrandBrainSnapshot(
        brand_id=brand_id, version=3, positioning="Analytics that ends meetings early.",
        tone_descriptors=["supportive", "casual"], taboos=['Never say "game-changer" or "synergy"', "No AI hype", "Trashing competitors"],
        voice_markers=[VoiceMarker(phrase="Ship the chart", source=DnaSource.MANUAL),
                       VoiceMarker(phrase="old detected phrase", source=DnaSource.DETECTED)],
        banned_words=[BannedWord(word="disrupt", severity="soft", source=DnaSource.MANUAL),
                      BannedWord(word="leverage", source=DnaSource.DETECTED, reason="taboo: an old taboo")],
    )  # fmt: skip
    override = ChannelOverride(tone_bias={"story_vs_tactical": 0.5, "aggressive_vs_safe": 0.3, "humor": 0.2},
                               length_mode=LengthMode.MEDIUM, risk_mode=RiskMode.SAFE)  # fmt: skip
    context = BrandRuntimeContext(brand_id=brand_id, brand_brain_snapshot_id=snapshot.id, version=4,
                                  channel_overrides={Channel.LINKEDIN: override, Channel.X: override})  # fmt: skip
    return snapshot, context


def test_the_result_is_the_next_snapshot_with_the_measured_dna(calibrator, ledger_examples):
    snapshot, context = brand_state()
    result = calibrator.run(CalibrationInput(snapshot=snapshot, runtime_context=context, examples=ledger_examples))
    new = result.snapshot
    assert (new.brand_id, new.version) == (snapshot.brand_id, 4) and new.id != snapshot.id
    assert new.positioning == snapshot.positioning and new.taboos == snapshot.taboos
    assert set(new.tone_profile) == set(calibrator.tone_map.dimensions)
    assert all(0 <= v <= 100 for v in new.tone_profile.values())
    # Labels outside calibration's vocabulary stay; its own labels are re-measured ("casual" goes).
    assert "supportive" in new.tone_descriptors and "casual" not in new.tone_descriptors
    assert "data-driven" in new.tone_descriptors


def test_manual_markers_stay_and_detected_ones_are_replaced(calibrator, ledger_examples):
    snapshot, _ = brand_state()
    markers = calibrator.run(CalibrationInput(snapshot=snapshot, examples=ledger_examples)).snapshot.voice_markers
    phrases = [m.phrase for m in markers]
    assert phrases[0] == "Ship the chart" and markers[0].source is DnaSource.MANUAL
    assert "old detected phrase" not in phrases
    detected = [m for m in markers if m.source is DnaSource.DETECTED]
    assert detected and all(0 < m.weight <= 10 for m in detected)
    assert [m.weight for m in detected] == sorted((m.weight for m in detected), reverse=True)


def test_banned_words_come_from_taboos_and_explicit_lists(calibrator, ledger_examples):
    snapshot, _ = brand_state()
    explicit = [BannedWord(word="Disrupt", severity="hard"), BannedWord(word="world-class", severity="soft")]
    result = calibrator.run(CalibrationInput(snapshot=snapshot, examples=ledger_examples, banned_words=explicit))
    by_word = {w.word.casefold(): w for w in result.snapshot.banned_words}
    assert by_word["game-changer"].severity == "hard" and by_word["synergy"].severity == "hard"
    assert by_word["game-changer"].source is DnaSource.DETECTED and "game-changer" in by_word["game-changer"].reason
    assert by_word["ai hype"].severity == "soft"
    assert by_word["disrupt"].severity == "hard"  # the explicit list wins over the old manual entry
    assert by_word["world-class"].severity == "soft"
    assert "leverage" not in by_word  # derived from a taboo the brand no longer has
    assert "trashing competitors" not in by_word and "competitors" not in by_word  # a behaviour, not a word


@pytest.mark.parametrize(
    "taboo, expected",
    [
        ('Never say "game-changer"', [("game-changer", "hard")]),
        ("Don't use the words revolutionary, magic or 10x", [("revolutionary", "hard"), ("magic", "hard"), ("10x", "hard")]),
        ("Avoid jargon and buzzwords.", [("jargon", "soft"), ("buzzwords", "soft")]),
        ("Banned phrases: circle back; move the needle", [("circle back", "hard"), ("move the needle", "hard")]),
        ("Overpromising AI magic", []),
        ("No claims about guaranteed returns on every single investment ever made", []),  # too long to be a word
        ("We never mention “cheap” — say “affordable”", [("cheap", "hard"), ("affordable", "hard")]),
    ],
)
def test_taboo_rules(taboo, expected):
    assert [(w.word, str(w.severity)) for w in BannedRules.load().from_taboo(taboo)] == expected


def test_examples_that_use_a_banned_word_are_reported_by_row(calibrator):
    snapshot, _ = brand_state()
    texts = ["Our dashboards are a game-changer for RevOps.", "Median load time fell 40%.",
             "Pipeline coverage is 3.1x.", "Another Game-Changer release today."]  # fmt: skip
    examples = [Example(text=t, source="paste", row=i) for i, t in enumerate(texts, start=1)]
    result = calibrator.run(CalibrationInput(snapshot=snapshot, examples=examples))
    assert result.event.warnings == ["banned word 'game-changer' (hard) appears in example rows 1, 4"]


def test_the_runtime_context_gets_the_knobs_and_the_new_snapshot(calibrator, ledger_examples):
    snapshot, context = brand_state()
    result = calibrator.run(CalibrationInput(snapshot=snapshot, runtime_context=context, examples=ledger_examples))
    new = result.runtime_context
    assert new.brand_brain_snapshot_id == result.snapshot.id and new.version == context.version
    for channel, override in new.channel_overrides.items():
        assert override.tone_bias["story_vs_tactical"] == result.tone.knobs["story_vs_tactical"]
        assert override.tone_bias["aggressive_vs_safe"] == result.tone.knobs["aggressive_vs_safe"]
        assert override.tone_bias["humor"] == 0.2  # a knob calibration does not measure stays
        assert (override.length_mode, override.risk_mode) == (LengthMode.MEDIUM, RiskMode.SAFE)
    assert result.tone.knobs["story_vs_tactical"] < 0.5  # a data-heavy voice is tactical


def test_every_example_becomes_imported_example_memory(calibrator, ledger_examples):
    snapshot, _ = brand_state()
    long_post = Example(text=" ".join(f"Sentence number {i} states one more measured fact." for i in range(40)),
                        source="paste", row=99)  # fmt: skip
    examples = [*ledger_examples, long_post]
    result = calibrator.run(CalibrationInput(snapshot=snapshot, examples=examples))
    drafts = result.memory_drafts
    assert {d.source_type for d in drafts} == {MemorySourceType.IMPORTED_EXAMPLE}
    assert {d.brand_id for d in drafts} == {snapshot.brand_id}
    assert all(len(d.raw_text) <= MEMORY_TEXT_MAX for d in drafts)
    short = [d for d in drafts if "row:99" not in d.tags]
    assert [d.raw_text for d in short] == [e.text for e in ledger_examples]
    pieces = [d.raw_text for d in drafts if "row:99" in d.tags]
    assert len(pieces) > 1 and " ".join(pieces) == long_post.text
    assert all(f"calibration:{result.event.id}" in d.tags for d in drafts)


def test_the_event_holds_before_and_after(calibrator, ledger_examples):
    snapshot, context = brand_state()
    result = calibrator.run(CalibrationInput(snapshot=snapshot, runtime_context=context, examples=ledger_examples,
                                             trigger="drift_alert"))  # fmt: skip
    event = result.event
    assert (event.trigger_type, event.example_count, event.sources) == ("drift_alert", 28, ["json"])
    assert event.before.snapshot_version == 3 and event.after.snapshot_version == 4
    assert event.before.voice_markers == ["Ship the chart", "old detected phrase"]
    assert event.after.voice_markers == [m.phrase for m in result.snapshot.voice_markers]
    assert event.before.tone_profile == {} and event.after.tone_profile == result.snapshot.tone_profile
    assert event.before.tone_bias["linkedin"]["story_vs_tactical"] == 0.5
    assert event.after.tone_bias["linkedin"]["story_vs_tactical"] == result.tone.knobs["story_vs_tactical"]
    assert event.after.banned_words["game-changer"] == "hard"


def test_too_few_examples_are_refused(calibrator):
    snapshot, _ = brand_state()
    examples = [Example(text="Just one post.", source="paste", row=1), Example(text="And two.", source="paste", row=2)]
    with pytest.raises(Invalid) as caught:
        calibrator.run(CalibrationInput(snapshot=snapshot, examples=examples))
    assert caught.value.details["field"] == "examples"


@pytest.mark.parametrize("limit", [40, 120, 500])
def test_chunks_keep_every_word_and_respect_the_limit(limit):
    text = ("Short one. " * 5) + "A very long sentence " + "that keeps going " * 30 + "and ends.\nNew line here!"
    pieces = chunk_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert " ".join(pieces).split() == text.split()
