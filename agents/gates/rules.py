"""What every gate module shares: its rule description, the check context, result helpers.

Each gate module defines ``RULE`` (a :class:`Rule`) and ``async def run(ctx) -> GateResult``.
The context carries the candidate, the severity and threshold in force (defaults from
``data/rules.json``, replaced by the brand's rubric overrides) and one embedding cache, so
the gates that need sentence vectors embed each text once per check, in one batch.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from storage.objects import Gate

from .model import Finding, GateInput, GateResult, RuleName, Severity

if TYPE_CHECKING:  # pragma: no cover - importing the memory package pulls in chromadb
    from storage.memory.embeddings import TextEmbedder

    from .judge import TabooJudge

DATA = Path(__file__).parent / "data"


@cache
def load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@cache
def load_lines(name: str) -> tuple[str, ...]:
    """A data file of one entry per line; ``#`` starts a comment."""
    lines = (line.split("#", 1)[0].strip() for line in (DATA / name).read_text(encoding="utf-8").splitlines())
    return tuple(line for line in lines if line)


@dataclass(frozen=True)
class Rule:
    """A gate as a lint rule: its name, the quality gate it scores, the codes it raises, and
    whether it fixes (LinkedIn escaping) rather than only reports."""

    name: RuleName
    gate: Gate
    codes: tuple[str, ...]
    summary: str
    fixes: bool = False

    @property
    def default_severity(self) -> Severity:
        return Severity(load_json("rules.json")[self.name]["severity"])

    @property
    def default_threshold(self) -> float | None:
        return load_json("rules.json")[self.name]["threshold"]


VECTOR_CACHE_MAX = 8192
_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
"""Unit vectors by (model, text), shared by every check in the process: probes, taboo texts and
the brand's history recur on every call, so they are embedded once, not per candidate."""


@dataclass
class Context:
    """One check in progress: the candidate, the embedder and the taboo judge (both optional)
    and shared vectors."""

    candidate: GateInput
    embedder: TextEmbedder | None = None
    judge: TabooJudge | None = None
    _vectors: dict[str, np.ndarray] = field(default_factory=dict)

    def _cached(self, text: str) -> np.ndarray | None:
        key = (self.embedder.model_name, text)  # type: ignore[union-attr]
        vector = _cache.get(key)
        if vector is not None:
            _cache.move_to_end(key)
        return vector

    def severity(self, rule: Rule) -> Severity:
        override = self.candidate.rubric.get(rule.name)
        return override.severity if override and override.severity else rule.default_severity

    def threshold(self, rule: Rule) -> float | None:
        override = self.candidate.rubric.get(rule.name)
        return override.threshold if override and override.threshold is not None else rule.default_threshold

    async def vectors(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts`` (rows), embedding only those not embedded yet this check."""
        assert self.embedder is not None
        for text in texts:
            if text not in self._vectors and (hit := self._cached(text)) is not None:
                self._vectors[text] = hit
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, await self.embedder.aembed(missing), strict=True):
                v = np.asarray(vector, dtype=np.float32)
                norm = float(np.linalg.norm(v))
                self._vectors[text] = v / norm if norm else v
                _cache[(self.embedder.model_name, text)] = self._vectors[text]
            while len(_cache) > VECTOR_CACHE_MAX:
                _cache.popitem(last=False)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])


def finding(rule: Rule, severity: Severity, code: str, message: str, evidence: str | None = None) -> Finding:
    return Finding(code=code, rule=rule.name, gate=rule.gate, severity=severity, message=message, evidence=evidence)


def result(
    rule: Rule,
    score: float,
    findings: list[Finding],
    threshold: float | None = None,
    *,
    skipped: bool = False,
) -> GateResult:
    """A gate's result: it passes unless one of its findings rejects."""
    return GateResult(
        rule=rule.name,
        gate=rule.gate,
        score=round(min(100.0, max(0.0, score)), 2),
        passed=not any(f.severity is Severity.REJECT for f in findings),
        threshold=threshold,
        skipped=skipped,
        findings=findings,
    )
