"""Signatures, the weighted edit distance, threshold clustering and the adjusted Rand index."""

from __future__ import annotations

import random

import pytest

from agents.miner.clustering import SignatureClusterer
from agents.miner.evaluation import adjusted_rand_index
from agents.miner.signature import (
    SequenceDistance,
    SignatureBatch,
    parse_signature_key,
    signature_key,
    signature_of,
    to_many,
)
from agents.miner.taxonomy import default_taxonomy

D = SequenceDistance(default_taxonomy())
STORY = signature_of(["hook_story", "context", "confession", "turning_point", "lesson", "cta_question"])
LIST5 = signature_of(["hook_number", *["list_item"] * 5, "lesson", "cta_plain"])
LIST3 = signature_of(["hook_number", *["list_item"] * 3, "lesson", "cta_plain"])


def test_runs_collapse_to_one_symbol_with_a_count():
    assert LIST5 == (("hook_number", 1), ("list_item", 5), ("lesson", 1), ("cta_plain", 1))
    assert parse_signature_key(signature_key(LIST5)) == LIST5
    assert signature_key(LIST5) == "hook_number>list_item*5>lesson>cta_plain"


def test_distance_is_a_normalised_symmetric_dissimilarity():
    assert D(STORY, STORY) == 0.0
    assert D(STORY, LIST5) == pytest.approx(D(LIST5, STORY))
    assert 0.0 < D(STORY, LIST5) <= 1.0
    assert D((), ()) == 0.0 and 0.0 < D((), STORY) <= 1.0


def test_related_beats_cost_less_than_unrelated_ones():
    question_hook = (("hook_question", 1),) + STORY[1:]
    plain_cta = STORY[:-1] + (("cta_plain", 1),)
    benefit_instead_of_confession = STORY[:2] + (("benefit", 1),) + STORY[3:]
    assert D(STORY, plain_cta) < D(STORY, question_hook) < D(STORY, benefit_instead_of_confession)


def test_list_length_matters_little_and_context_is_cheap_to_drop():
    assert D(LIST5, LIST3) < 0.1
    without_context = tuple(s for s in STORY if s[0] != "context")
    without_lesson = tuple(s for s in STORY if s[0] != "lesson")
    assert D(STORY, without_context) < D(STORY, without_lesson)


def test_clustering_finds_the_number_of_clusters_itself():
    rng = random.Random(3)
    shapes = [STORY, LIST5, signature_of(["hook_contrarian", "evidence", "reframe", "lesson"]),
              signature_of(["hook_announcement", "benefit", "benefit", "evidence", "cta_plain"])]
    weights: dict = {}
    truth_of: dict = {}
    for label, shape in enumerate(shapes):
        for _ in range(12):  # noisy copies: a context beat inserted, or the CTA of the other kind
            kinds = [k for k, c in shape for _ in range(c)]
            if rng.random() < 0.5:
                kinds.insert(rng.randrange(1, len(kinds)), "context")
            swap = {"cta_plain": "cta_question", "cta_question": "cta_plain"}
            if rng.random() < 0.3 and kinds[-1] in swap:
                kinds[-1] = swap[kinds[-1]]
            sig = signature_of(kinds)
            weights[sig] = weights.get(sig, 0) + 1
            truth_of.setdefault(sig, set()).add(label)
    clusters = SignatureClusterer(D, threshold=0.3).fit(weights)
    assert len(clusters) == len(shapes)
    assert sum(c.weight for c in clusters) == sum(weights.values())
    for cluster in clusters:
        assert len(set().union(*(truth_of[s] for s in cluster.members))) == 1


def test_clustering_is_deterministic_and_independent_of_input_order():
    weights = {STORY: 5, LIST5: 4, LIST3: 2, STORY[:-1]: 1}
    a = SignatureClusterer(D).fit(weights)
    b = SignatureClusterer(D).fit(dict(reversed(list(weights.items()))))
    assert [(c.medoid, c.members) for c in a] == [(c.medoid, c.members) for c in b]
    assert {c.medoid for c in a} == {STORY, LIST5}


def test_adjusted_rand_index_on_hand_computed_cases():
    assert adjusted_rand_index([0, 0, 1, 1], [5, 5, 7, 7]) == 1.0
    # pairs: index 1, rows 2, cols 1, expected 1/3, max 3/2 -> (2/3) / (7/6) = 4/7
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)
    assert adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2]) < 0
    with pytest.raises(ValueError):
        adjusted_rand_index([0], [0, 1])



def test_the_vectorised_distance_equals_the_scalar_one():
    rng = random.Random(11)
    kinds = [*default_taxonomy().kinds, "list_item", "list_item"]
    sigs = [signature_of(rng.choice(kinds) for _ in range(rng.randint(0, 9))) for _ in range(120)]
    batch = SignatureBatch(D, sigs)
    for a in sigs[:30]:
        assert to_many(D, a, batch).tolist() == pytest.approx([D(a, b) for b in sigs])
