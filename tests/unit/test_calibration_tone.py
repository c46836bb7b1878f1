"""The tone map: z-scores against the background, scores, labels and knobs."""

from __future__ import annotations

import pytest

from agents.calibration import BackgroundCorpus, ToneMap
from agents.calibration.features import FEATURES

pytestmark = pytest.mark.unit


def background() -> BackgroundCorpus:
    means = {f: 0.1 for f in FEATURES}
    stds = {f: 0.05 for f in FEATURES}
    return BackgroundCorpus(texts=(), feature_means=means, feature_stds=stds, ngrams=None)  # type: ignore[arg-type]


def tone_map() -> ToneMap:
    return ToneMap(
        dimensions={
            "data_orientation": {"high": "data-driven", "low": "qualitative", "weights": {"number_rate": 1.0}},
            "energy": {"high": "enthusiastic", "low": "measured", "weights": {"emoji_rate": 1.0, "exclamation_rate": 1.0}},
            "warmth": {"high": "warm", "low": "reserved", "weights": {"second_person_rate": 1.0}},
        },
        knobs={"story_vs_tactical": {"weights": {"story_rate": 1.0, "number_rate": -1.0}}},
        min_descriptors=1, lean_margin=10,
    )  # fmt: skip


def means(**changes: float) -> dict[str, float]:
    return {f: 0.1 for f in FEATURES} | changes


def test_like_the_background_scores_50_and_earns_no_label():
    profile = tone_map().profile(means(), background())
    assert profile.scores == {"data_orientation": 50.0, "energy": 50.0, "warmth": 50.0}
    assert profile.descriptors == [] and profile.knobs == {"story_vs_tactical": 0.5}


def test_far_from_the_background_earns_the_pole_most_extreme_first():
    profile = tone_map().profile(means(number_rate=0.3, second_person_rate=0.0), background())
    assert profile.feature_z["number_rate"] == pytest.approx(4.0)
    assert profile.scores["data_orientation"] > 99 and profile.scores["warmth"] < 3
    assert profile.descriptors == ["data-driven", "reserved"]
    assert profile.knobs["story_vs_tactical"] < 0.01  # numbers pull towards tactical


def test_a_moderate_voice_still_gets_its_strongest_leaning_named():
    # z = 0.5 on number_rate: 69 points, under high_at 70 but 19 points from the middle.
    profile = tone_map().profile(means(number_rate=0.125, emoji_rate=0.11), background())
    assert 60 < profile.scores["data_orientation"] < 70
    assert profile.descriptors == ["data-driven"]


def test_the_shipped_map_labels_are_its_vocabulary():
    shipped = ToneMap.load()
    assert {"formal", "casual", "warm", "data-driven", "concise"} <= shipped.vocabulary
    assert set(shipped.knobs) == {"story_vs_tactical", "aggressive_vs_safe"}
    assert all(f in FEATURES for d in shipped.dimensions.values() for f in d["weights"])
