"""Benchmark: quality gates - candidates checked per second with every gate on, each gate's
share of the time, and the platform counting functions alone as the reference, in one run.

    .venv/bin/python benchmarks/bench_gates.py --rounds 3

Candidates are the labelled gate table (tests/data/gates/table.yml) with its brands, checked
with the real MiniLM embedder (one torch thread), in process (no Ray): what one writer-pool
member does per call. A warm-up pass loads the model and the probe-vector cache; every timed
check then has a text never seen before, so its sentences are embedded (the probes and the
brands' history stay cached, as in a long-lived pool member). Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from common import machine, percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from agents.gates import GATES, measure, run_gates  # noqa: E402
from agents.gates.rules import Context  # noqa: E402
from storage.memory import Embedder  # noqa: E402
from test_gates_table import ROWS, candidate  # noqa: E402


async def gate_times(candidates, embedder) -> dict[str, float]:
    """Seconds spent in each gate over all candidates (each gate timed alone, fresh context)."""
    spent: dict[str, float] = defaultdict(float)
    for c in candidates:
        ctx = Context(c, embedder)
        for module in GATES:
            start = time.perf_counter()
            produced = module.check(ctx)
            if inspect.isawaitable(produced):
                await produced
            spent[module.RULE.name] += time.perf_counter() - start
    return spent


async def main(rounds: int) -> dict:
    embedder = Embedder(num_threads=1)
    embedder.load()
    candidates = [candidate(row) for row in ROWS]
    for c in candidates:  # warm-up: model, probe vectors, data files
        await run_gates(c, embedder)
    latencies, total = [], 0.0
    for i in range(rounds):
        # A new sentence per round, so each check embeds its candidate afresh (as a new draft
        # would); the probes and the brands' history stay cached, as in a long-lived pool member.
        fresh = [c.model_copy(update={"text": f"{c.text} Round {i} note {j}."}) for j, c in enumerate(candidates)]
        for c in fresh:
            start = time.perf_counter()
            await run_gates(c, embedder)
            latencies.append(time.perf_counter() - start)
        total += sum(latencies[-len(candidates):])
    spent = await gate_times([c.model_copy(update={"text": c.text + " Timing run."}) for c in candidates], embedder)
    counting_start = time.perf_counter()
    for _ in range(rounds):
        for c in candidates:
            measure(c.channel, c.text, c.limit)
    counting = time.perf_counter() - counting_start
    checked = rounds * len(candidates)
    share_total = sum(spent.values())
    return {
        "machine": machine(),
        "candidates": len(candidates),
        "rounds": rounds,
        "all_gates_per_second": round(checked / total, 1),
        "all_gates_ms_p50": round(1000 * percentile(latencies, 0.5), 2),
        "all_gates_ms_p99": round(1000 * percentile(latencies, 0.99), 2),
        "gate_share_percent": {name: round(100 * t / share_total, 1) for name, t in spent.items()},
        "gate_ms_per_candidate": {name: round(1000 * t / len(candidates), 3) for name, t in spent.items()},
        "counting_only_per_second": round(checked / counting, 1),
        "counting_only_ms_per_candidate": round(1000 * counting / checked, 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    print(json.dumps(asyncio.run(main(parser.parse_args().rounds)), indent=2))
