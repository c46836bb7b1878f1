"""Every gate, in the order they run, and :func:`run_gates`: one candidate in, one report out.

The registry is the list of rules (``RULES``), like a linter's: each module holds one gate.
The platform gate runs first because the report's length and text to send come from it.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

from . import banned, engagement, hook, platform, similarity, taboo
from .model import GateInput, GateReport, GateResult, Severity
from .rules import Context, Rule

if TYPE_CHECKING:  # pragma: no cover
    from storage.memory.embeddings import TextEmbedder

    from .judge import TabooJudge

GATES = (platform, banned, taboo, hook, similarity, engagement)
RULES: tuple[Rule, ...] = tuple(module.RULE for module in GATES)


async def run_gates(candidate: GateInput, embedder: TextEmbedder | None = None,
                    judge: TabooJudge | None = None) -> GateReport:  # fmt: skip
    """All gates on ``candidate``. Without an embedder the meaning-based parts (taboo, the
    embedding half of similarity) are skipped or lexical only; the report says which. With a
    ``judge`` (:mod:`.judge`), a language model settles the taboo verdicts the embedding
    measures leave open."""
    ctx = Context(candidate, embedder, judge)
    outcome = platform.check(ctx)
    results: list[GateResult] = [outcome.result]
    for module in GATES[1:]:
        produced = module.check(ctx)
        results.append(await produced if inspect.isawaitable(produced) else produced)
    findings = [f for r in results for f in r.findings]
    reasons = [f.code for f in findings if f.severity is Severity.REJECT]
    flags = [f.code for f in findings if f.severity is Severity.FLAG]
    thresholds = {r.rule: r.threshold for r in results if r.threshold is not None}
    return GateReport(
        verdict="reject" if reasons else "flag" if flags else "pass",
        passed=not reasons,
        channel=candidate.channel,
        length=outcome.measure.length,
        limit=outcome.measure.limit,
        byte_length=outcome.measure.byte_length,
        text_to_send=outcome.text_to_send,
        parts=outcome.parts,
        reasons=reasons,
        flags=flags,
        results=results,
        thresholds=thresholds,
        snapshot_id=candidate.brand.snapshot_id,
    )


check = run_gates
