"""Benchmark: content writer - packages per second with the composer (2 channels × 2
variants, every gate on with the real MiniLM embedder) and the share of time in generation,
grounding and gates; the rest is staging (argument, plans, objects).

    .venv/bin/python benchmarks/bench_writer.py --rounds 2

Packages are the writer's labelled set (tests/data/writer: 3 brands, 32 cards), in process,
no Ray, no storage (the writer does not persist yet). A warm-up package loads the model; each
round then writes every package with a new seed, so the texts differ from the last round's
and their sentences are embedded again. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from common import machine, percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.gates import run_gates
from agents.writer import (
    Composer,
    critic,
    write_package,
)
from storage.memory import Embedder
from tests.data.writer.corpus import requests

SPENT = {"generation": 0.0, "grounding": 0.0, "gates": 0.0}


class Timed:
    name = "composer"

    def __init__(self) -> None:
        self.inner = Composer()

    async def generate(self, request):
        t = time.perf_counter()
        try:
            return await self.inner.generate(request)
        finally:
            SPENT["generation"] += time.perf_counter() - t


def timed_grounding(original):
    def check(text, refs):
        t = time.perf_counter()
        try:
            return original(text, refs)
        finally:
            SPENT["grounding"] += time.perf_counter() - t

    return check


async def main(rounds: int) -> dict:
    embedder = Embedder(num_threads=1)

    async def gates(candidate):
        t = time.perf_counter()
        try:
            return await run_gates(candidate, embedder)
        finally:
            SPENT["gates"] += time.perf_counter() - t

    critic.check_grounding = timed_grounding(critic.check_grounding)
    generator = Timed()
    await write_package(requests(seed=999)[0], generator, gates)  # warm-up: model and probe vectors
    for key in SPENT:
        SPENT[key] = 0.0
    latencies, candidates, attempts, passed = [], 0, 0, 0
    start = time.perf_counter()
    for r in range(rounds):
        for req in requests(seed=r + 1):
            t = time.perf_counter()
            res = await write_package(req, generator, gates)
            latencies.append(time.perf_counter() - t)
            for c in res.session.candidates:
                candidates += 1
                attempts += len(c.attempts)
                passed += c.passed
    total = time.perf_counter() - start
    staged = total - sum(SPENT.values())
    return {
        "machine": machine(),
        "packages": len(latencies),
        "packages_per_second": round(len(latencies) / total, 2),
        "p50_ms": round(1000 * percentile(latencies, 0.5), 1),
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "candidates": candidates,
        "attempts_per_candidate": round(attempts / candidates, 3),
        "passed": round(passed / candidates, 3),
        "share": {k: round(v / total, 3) for k, v in {**SPENT, "staging": staged}.items()},
        "storage": "not measured: the writer does not persist yet",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    print(json.dumps(asyncio.run(main(parser.parse_args().rounds)), indent=2))
