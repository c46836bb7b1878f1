"""A linear classifier per kind of taboo act, over MiniLM sentence vectors.

The probes of :mod:`.taboo_probes` recognise an act by its nearest examples, so an act worded
in a way no probe or cue list knows ("an abacus with a subscription fee") leans to nothing. A
linear model learns the *direction* of an act in the embedding space from many examples at
once, and reads new wording along it. Each kind's model is trained on the corpus of
``data/taboo_corpus/`` (per kind: acts, and contrasts written as traps: the same subject named
neutrally, the act argued against, reported or hedged) and the kind's own probes, against
the contrasts of every kind and ordinary brand posts (``ordinary.yml``,
``data/taboo_background.txt``). Other kinds' acts are left out of its negatives: kinds
overlap (a cure promised is a health claim and an overpromise), and a taboo of several kinds
reads the most probable.

Training (``python -m agents.gates.taboo_classifier``) needs the embedder and scikit-learn; it
writes ``data/taboo_classifier.json``: per kind a weight vector and bias, the regularisation
chosen by cross-validation and the cross-validated figures, with the embedding model's name
and a digest of the corpus. The gate only reads that file (numpy): a check costs one matrix
product per kind. The weights are bound to their model: under another embedder the gate reads
no probabilities (:func:`classifier_for` gives None). A test holds the file to the corpus'
digest, so an edit of the corpus without retraining fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from .rules import DATA, load_json, load_lines
from .taboo_probes import kind_probes

CORPUS = DATA / "taboo_corpus"
WEIGHTS = DATA / "taboo_classifier.json"
ORDINARY = "ordinary"
C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
FOLDS = 5


@dataclass(frozen=True)
class Corpus:
    """Per kind its act and contrast examples, and the ordinary posts every kind is read against."""

    acts: dict[str, list[str]]
    contrasts: dict[str, list[str]]
    ordinary: list[str]

    def examples(self, kind: str) -> tuple[list[str], list[str]]:
        """One kind's positives and negatives (each text once; a text that is an act of this
        kind is never also a negative)."""
        positives = list(dict.fromkeys(self.acts[kind]))
        taken = set(positives)
        others = [c for k in self.contrasts for c in self.contrasts[k]]
        negatives = [t for t in dict.fromkeys([*self.contrasts[kind], *others, *self.ordinary]) if t not in taken]
        return positives, negatives


def _files() -> list[Path]:
    return sorted(CORPUS.glob("*.yml"))


def digest() -> str:
    """A digest of everything the models are trained on: the corpus files, the kinds' probes
    and the background."""
    h = hashlib.sha256()
    for path in [*_files(), DATA / "taboo_acts.json", DATA / "taboo_background.txt"]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def load_corpus() -> Corpus:
    kinds = load_json("taboo_acts.json")["kinds"]
    probes = {k: kind_probes(spec, spec.get("default_object", [])) for k, spec in kinds.items()}
    acts = {k: act for k, (act, _) in probes.items()}
    contrasts = {k: contrast for k, (_, contrast) in probes.items()}
    ordinary = list(load_lines("taboo_background.txt"))
    for path in _files():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        kind = data["kind"]
        if kind == ORDINARY:
            ordinary += data["contrasts"]
            continue
        if kind not in kinds:
            raise ValueError(f"{path.name}: unknown kind {kind!r} (not in taboo_acts.json)")
        acts[kind] += data["acts"]
        contrasts[kind] += data["contrasts"]
    return Corpus(acts=acts, contrasts=contrasts, ordinary=ordinary)


@dataclass(frozen=True)
class KindModel:
    weights: np.ndarray
    bias: float

    def probability(self, vectors: np.ndarray) -> np.ndarray:
        """Per row of unit vectors, the probability that it commits the act."""
        return 1.0 / (1.0 + np.exp(-(vectors @ self.weights + self.bias)))


@dataclass(frozen=True)
class Classifier:
    model_name: str
    kinds: dict[str, KindModel]

    def probability(self, kinds: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Per row, the highest probability among ``kinds`` (0 where none has a model)."""
        best = np.zeros(vectors.shape[0], dtype=np.float64)
        for kind in kinds:
            if (model := self.kinds.get(kind)) is not None:
                best = np.maximum(best, model.probability(vectors))
        return best


@cache
def _load() -> Classifier | None:
    if not WEIGHTS.exists():
        return None
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    kinds = {k: KindModel(np.asarray(m["weights"], dtype=np.float32), float(m["bias"])) for k, m in data["kinds"].items()}
    return Classifier(model_name=data["model"], kinds=kinds)


def classifier_for(model_name: str) -> Classifier | None:
    """The trained classifier, if it was trained with this embedding model."""
    classifier = _load()
    return classifier if classifier is not None and classifier.model_name == model_name else None


Embed = Callable[[list[str]], np.ndarray]


def fit(positives: np.ndarray, negatives: np.ndarray, c: float) -> KindModel:
    """L2-regularised logistic regression, both classes weighted equally."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([positives, negatives])
    y = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x, y)
    return KindModel(model.coef_[0].astype(np.float32), float(model.intercept_[0]))


def cross_validated(positives: np.ndarray, negatives: np.ndarray, c: float, folds: int = FOLDS) -> dict[str, float]:
    """Held-out figures of one regularisation: ROC AUC, and the recall at the probability that
    lets through at most 2 % of the held-out negatives."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    x = np.vstack([positives, negatives])
    y = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
    p = np.zeros(len(y))
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(x, y):
        model = fit(x[train][y[train] == 1], x[train][y[train] == 0], c)
        p[test] = model.probability(x[test])
    cut = float(np.quantile(p[y == 0], 0.98))
    return {"auc": float(roc_auc_score(y, p)), "recall_at_2pct": float((p[y == 1] > cut).mean())}


def train(embed: Embed, model_name: str, corpus: Corpus | None = None) -> dict:
    """Every kind's model, its regularisation chosen by cross-validated AUC over ``C_GRID``."""
    corpus = corpus or load_corpus()
    texts = list(dict.fromkeys([t for k in corpus.acts for t in corpus.acts[k]]
                               + [t for k in corpus.contrasts for t in corpus.contrasts[k]] + corpus.ordinary))  # fmt: skip
    vectors = dict(zip(texts, embed(texts), strict=True))
    kinds = {}
    for kind in corpus.acts:
        positives, negatives = corpus.examples(kind)
        if not positives:
            continue
        pos = np.stack([vectors[t] for t in positives])
        neg = np.stack([vectors[t] for t in negatives])
        figures = {c: cross_validated(pos, neg, c) for c in C_GRID}
        c = max(C_GRID, key=lambda c: (round(figures[c]["auc"], 3), -c))
        model = fit(pos, neg, c)
        kinds[kind] = {"c": c, "positives": len(positives), "negatives": len(negatives), **figures[c],
                       "bias": round(model.bias, 6), "weights": [round(float(w), 6) for w in model.weights]}  # fmt: skip
    return {"_doc": "Written by `python -m agents.gates.taboo_classifier` (see its docstring); do not edit.",
            "model": model_name, "corpus_sha256": digest(), "kinds": kinds}  # fmt: skip


def dumps(trained: dict) -> str:
    """The trained file, one kind per line (the weights are no reading matter)."""
    head = {k: v for k, v in trained.items() if k != "kinds"}
    kinds = ",\n".join(f"  {json.dumps(k)}: {json.dumps(m)}" for k, m in trained["kinds"].items())
    return json.dumps(head, indent=1)[:-2] + ',\n "kinds": {\n' + kinds + "\n }\n}\n"


def main(argv: list[str] | None = None) -> None:
    from storage.memory import Embedder

    parser = argparse.ArgumentParser(description="Train the taboo gate's per-kind classifiers on data/taboo_corpus.")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    embedder = Embedder(num_threads=2)
    embedder.load()

    def embed(texts: list[str]) -> np.ndarray:
        vectors = embedder.embed_array(texts)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    trained = train(embed, embedder.model_name)
    args.out.write_text(dumps(trained), encoding="utf-8")
    for kind, m in trained["kinds"].items():
        print(f"{kind:20s} C={m['c']:<5} +{m['positives']:<4} -{m['negatives']:<5} "
              f"cv AUC {m['auc']:.3f}  recall at 2% FP {m['recall_at_2pct']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
