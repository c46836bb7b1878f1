"""Benchmark: the scout's brand-document pairs per second, 1,000 brands x 200 new documents,
against a bare numpy matrix product of the same shapes, in the same run.

    .venv/bin/python benchmarks/bench_scout.py --brands 1000 --docs 200 --rounds 7

The scored side is :func:`agents.scout.relevance.screen` (every pillar of every brand against
every passage, running top-2, context, calibrated z and support) followed by the threshold and the best
pillar of the passing pairs, i.e. what the engine's ``screen`` op does after its cached anchors.
The bare side is the one product of the same shapes (all passages x all pillar anchors). Vectors
are random unit vectors (MiniLM's 384 dimensions, 1-6 passages a document, 3 pillars a brand):
the arithmetic does not depend on their meaning. Rounds alternate which side runs first;
medians are reported. A second figure is the full per-brand ``Scout.score`` (cards, angles,
source refs) for a sample of brands, which is Python per passing pair.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import machine  # noqa: E402

from agents.scout.models import BrandProfile, PersonaProfile, PillarProfile, ScoutDoc, ScoutInput  # noqa: E402
from agents.scout.profile import anchors_from_vectors  # noqa: E402
from agents.scout.relevance import BrandStack, Calibration, PassageBatch, screen  # noqa: E402
from agents.scout.scout import Scout  # noqa: E402

DIM = 384


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--pillars", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--full-brands", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    passage_vectors = [unit(rng.standard_normal((int(rng.integers(1, 7)), DIM))) for _ in range(args.docs)]
    batch = PassageBatch.pack(passage_vectors)
    pillars = [unit(rng.standard_normal((args.pillars, DIM))) for _ in range(args.brands)]
    contexts = [unit(rng.standard_normal(DIM)) for _ in range(args.brands)]
    # Calibrated so that about 3 % of pairs pass the 4-sigma threshold, as with real feeds.
    raw, _, _ = screen(batch, BrandStack.build(pillars, contexts, [Calibration(0.0, 1.0)] * args.brands))
    std = float(raw.std())
    # The halves' calibration (the support gate) is computed as in production but set wide, so
    # that it costs its arithmetic without changing which pairs pass.
    calibration = Calibration(float(np.quantile(raw, 0.97)) - 4.0 * std, std, pillar=(-1.0, 0.1), context=(-1.0, 0.1))
    stack = BrandStack.build(pillars, contexts, [calibration] * args.brands)
    flat = stack.pillars.reshape(-1, DIM)
    pairs = args.brands * args.docs

    def scored() -> int:
        z, match, support = screen(batch, stack)
        docs, brands = np.nonzero((z >= 4.0) & (support >= 2.0))
        match[docs, brands].argmax(axis=1)
        return len(docs)

    def bare() -> None:
        batch.vectors @ flat.T

    scored(), bare()  # warm-up
    rounds = []
    for r in range(args.rounds):
        order = (scored, bare) if r % 2 == 0 else (bare, scored)
        took = {}
        for fn in order:
            t = time.perf_counter()
            out = fn()
            took[fn.__name__] = time.perf_counter() - t
            if fn is scored:
                passing = out
        t = time.perf_counter()
        batch.doc_vectors @ stack.contexts.T
        doc_x_brand = time.perf_counter() - t
        rounds.append({"scored_pairs_per_s": pairs / took["scored"], "bare_pairs_per_s": pairs / took["bare"],
                       "ratio": took["bare"] / took["scored"], "ratio_vs_docs_x_brands": doc_x_brand / took["scored"],
                       "passing_pairs": passing})  # fmt: skip
    # Full per-brand scouting (cards and all) for a sample of brands.
    now = datetime(2026, 3, 10, tzinfo=UTC)
    docs = [ScoutDoc(id=uuid4(), title=f"Doc {i}", text="A claim. Another sentence here.", language="en",
                     published_at=now, ingested_at=now, passages=["p"] * len(v), passage_vectors=v.tolist(),
                     vector=unit(v.mean(axis=0)).tolist()) for i, v in enumerate(passage_vectors)]  # fmt: skip
    method = Scout(threshold_z=4.0)
    full_took = 0.0
    cards = 0
    for b in range(min(args.full_brands, args.brands)):
        brand = BrandProfile(
            brand_id=uuid4(), name="B", positioning="p",
            pillars=[PillarProfile(id=uuid4(), name=f"P{k}", description="d") for k in range(args.pillars)],
            personas=[PersonaProfile(id=uuid4(), name="X", description="d")],
        )  # fmt: skip
        anchors = anchors_from_vectors(pillars[b], contexts[b][None, :], unit(rng.standard_normal((1, DIM))))
        payload = ScoutInput(brand=brand, docs=docs, now=now)
        t = time.perf_counter()
        result = method.score(payload, anchors, calibration)
        full_took += time.perf_counter() - t
        cards += len(result.cards)
    keys = ("scored_pairs_per_s", "bare_pairs_per_s", "ratio", "ratio_vs_docs_x_brands", "passing_pairs")
    print(json.dumps({
        "machine": machine(), "brands": args.brands, "docs": args.docs, "passages": int(len(batch.vectors)),
        "pillars_per_brand": args.pillars, "rounds": args.rounds,
        "median": {k: round(statistics.median(r[k] for r in rounds), 3) for k in keys},
        "full_scout_per_brand": {"brands": min(args.full_brands, args.brands), "pairs_per_s": round(
            min(args.full_brands, args.brands) * args.docs / full_took), "cards": cards},
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
