"""The taboo gate's per-kind classifiers: the corpus they are trained on, the shipped weights
bound to that corpus and to their embedding model, and the training itself on vectors whose
answer is known. Their effect on the gate is measured on the labelled table and the held-out
sets (test_gates_table.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from agents.gates import taboo_classifier
from agents.gates.rules import load_json
from agents.gates.taboo_classifier import CORPUS, WEIGHTS, Corpus, KindModel, classifier_for, digest, fit, load_corpus, train
from agents.gates.tokens import fold

pytestmark = pytest.mark.unit

TEST_DATA = Path(__file__).resolve().parents[1] / "data" / "gates"


def _test_texts() -> set[str]:
    """Every post text of the gate table, the held-out sets and the brands' histories, folded."""
    texts = set()
    for path in TEST_DATA.glob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rows = data.get("rows", []) if isinstance(data, dict) and "rows" in data else []
        texts |= {fold(r["text"]).strip() for r in rows if "text" in r}
        if path.name == "brands.yml":
            texts |= {fold(v["text"]).strip() for brand in data.values() for v in brand.get("history", [])}
    return texts


def test_the_corpus_covers_every_kind_with_acts_and_traps():
    kinds = set(load_json("taboo_acts.json")["kinds"])
    files = {yaml.safe_load(p.read_text(encoding="utf-8"))["kind"]: p for p in CORPUS.glob("*.yml")}
    assert set(files) == kinds | {"ordinary"}
    corpus = load_corpus()
    for kind in kinds:
        assert len(corpus.acts[kind]) >= 70 and len(corpus.contrasts[kind]) >= 70, kind
    assert len(corpus.ordinary) >= 150


def test_no_text_is_both_an_act_and_a_trap_of_its_kind():
    corpus = load_corpus()
    for kind in corpus.acts:
        assert not set(corpus.acts[kind]) & set(corpus.contrasts[kind]), kind
        assert not set(corpus.acts[kind]) & set(corpus.ordinary), kind


def test_the_corpus_shares_no_post_with_the_test_data():
    """The held-out sets measure wording the classifier never saw: no corpus text is one of
    theirs (nor of the table or the brands' histories)."""
    corpus = load_corpus()
    trained = {fold(t).strip() for texts in [*corpus.acts.values(), *corpus.contrasts.values(), corpus.ordinary] for t in texts}
    assert trained & _test_texts() == set()


def test_the_shipped_weights_are_trained_on_the_current_corpus():
    """Edit the corpus, the kinds' probes or the background, and this fails until
    ``python -m agents.gates.taboo_classifier`` is run again."""
    shipped = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert shipped["corpus_sha256"] == digest()
    assert set(shipped["kinds"]) == set(load_json("taboo_acts.json")["kinds"])
    for kind, model in shipped["kinds"].items():
        assert len(model["weights"]) == 384, kind
        assert model["auc"] >= 0.9, (kind, model["auc"])  # cross-validated on the corpus


def test_the_weights_belong_to_their_embedding_model():
    shipped = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert classifier_for(shipped["model"]) is not None
    assert classifier_for("another-model") is None


def _clusters(rng: np.random.Generator, centre: np.ndarray, n: int) -> np.ndarray:
    x = centre + 0.15 * rng.standard_normal((n, centre.size))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_fit_learns_the_direction_of_the_acts():
    rng = np.random.default_rng(7)
    act, other = np.eye(16)[0], np.eye(16)[1]
    model = fit(_clusters(rng, act, 40), _clusters(rng, other, 120), c=1.0)
    assert (model.probability(_clusters(rng, act, 20)) > 0.5).all()
    assert (model.probability(_clusters(rng, other, 20)) < 0.5).all()


def test_a_kinds_probability_is_the_highest_of_the_taboos_kinds():
    w = np.zeros(4, dtype=np.float32)
    classifier = taboo_classifier.Classifier(model_name="m", kinds={
        "a": KindModel(np.array([4, 0, 0, 0], dtype=np.float32), 0.0),
        "b": KindModel(w, -2.0),
    })  # fmt: skip
    rows = np.array([[1, 0, 0, 0], [-1, 0, 0, 0]], dtype=np.float32)
    assert np.allclose(classifier.probability(["b"], rows), 1 / (1 + np.exp(2.0)))
    both = classifier.probability(["a", "b"], rows)
    assert both[0] > 0.98 and np.isclose(both[1], 1 / (1 + np.exp(2.0)))
    assert (classifier.probability(["unknown"], rows) == 0).all()


def test_training_chooses_a_regularisation_and_reports_held_out_figures():
    """``train`` on a tiny corpus with an embedder whose answer is known: acts of a kind point
    one way, everything else another."""
    rng = np.random.default_rng(3)
    acts = [f"act {i}" for i in range(30)]
    corpus = Corpus(acts={"k": acts}, contrasts={"k": [f"trap {i}" for i in range(30)]},
                    ordinary=[f"post {i}" for i in range(40)])  # fmt: skip

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([_clusters(rng, np.eye(8)[0 if t.startswith("act") else 1], 1)[0] for t in texts])

    trained = train(embed, "toy", corpus)
    model = trained["kinds"]["k"]
    assert trained["model"] == "toy" and model["c"] in taboo_classifier.C_GRID
    assert model["positives"] == 30 and model["negatives"] == 70
    assert model["auc"] > 0.95 and len(model["weights"]) == 8
