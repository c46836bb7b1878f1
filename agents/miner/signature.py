"""Structure signatures of posts and the distance between them.

A signature is the post's beat kinds in order, with runs of one kind collapsed to one symbol and
a count (five list items are ``("list_item", 5)``, two context paragraphs ``("context", 2)``), so a
listicle of 3 and one of 7 have the same shape.

The distance is an edit distance over symbols (Wagner-Fischer) with the taxonomy's costs:
substituting a related kind (story hook ↔ number hook, lesson ↔ reframe) costs less than 1,
inserting or deleting optional glue (context) costs less than a load-bearing beat, and equal list
symbols with different counts cost a little per item of difference (capped). It is normalised by
the longer signature's length, so it lies in [0, 1] for any pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .taxonomy import Taxonomy

Symbol = tuple[str, int]
Signature = tuple[Symbol, ...]


def signature_of(kinds: Iterable[str]) -> Signature:
    out: list[Symbol] = []
    for kind in kinds:
        if out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + 1)
        else:
            out.append((kind, 1))
    return tuple(out)


def signature_key(signature: Signature) -> str:
    """A readable, stable string of a signature: ``hook_story>context>list_item*5>cta_plain``."""
    return ">".join(kind if count == 1 else f"{kind}*{count}" for kind, count in signature)


def parse_signature_key(key: str) -> Signature:
    out: list[Symbol] = []
    for part in key.split(">"):
        kind, _, count = part.partition("*")
        out.append((kind, int(count) if count else 1))
    return tuple(out)


class SequenceDistance:
    """Normalised weighted edit distance between signatures (callable)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        names = list(taxonomy.kinds)
        self.index = {name: i for i, name in enumerate(names)}
        k = len(names)
        # Row/column k is padding (and any kind the taxonomy does not know: cost 1, gap default).
        self._sub_matrix = np.ones((k + 1, k + 1))
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                self._sub_matrix[i, j] = taxonomy.substitution(a, b)
        self._gap_vector = np.array([taxonomy.gap(n) for n in names] + [0.0])
        self._list = self.index.get("list_item", -1)

    def _sub(self, a: Symbol, b: Symbol) -> float:
        if a[0] == b[0]:
            if a[0] != "list_item" or a[1] == b[1]:
                return 0.0
            return min(self.taxonomy.list_count_cap, self.taxonomy.list_count_step * abs(a[1] - b[1]))
        return self.taxonomy.substitution(a[0], b[0])

    def raw(self, a: Sequence[Symbol], b: Sequence[Symbol]) -> float:
        gap = self.taxonomy.gap
        previous = [0.0]
        for sym in b:
            previous.append(previous[-1] + gap(sym[0]))
        for sa in a:
            current = [previous[0] + gap(sa[0])]
            for j, sb in enumerate(b, start=1):
                current.append(min(
                    previous[j] + gap(sa[0]),
                    current[j - 1] + gap(sb[0]),
                    previous[j - 1] + self._sub(sa, sb),
                ))
            previous = current
        return previous[-1]

    def __call__(self, a: Sequence[Symbol], b: Sequence[Symbol]) -> float:
        longest = max(len(a), len(b))
        if longest == 0:
            return 0.0
        return min(1.0, self.raw(a, b) / longest)


class SignatureBatch:
    """Many signatures as padded arrays, for :func:`to_many` (one query against all of them in a
    few vectorised steps instead of one Python loop per pair). Rows can be appended up to the
    capacity given at construction."""

    def __init__(self, distance: SequenceDistance, signatures: Sequence[Signature] = (), *,
                 width: int | None = None, capacity: int | None = None) -> None:
        self.distance = distance
        self.signatures: list[Signature] = []
        self.width = width or max([1, *(len(s) for s in signatures)])
        capacity = max(capacity or 0, len(signatures), 1)
        self._pad = len(distance.index)
        self._kinds = np.full((capacity, self.width), self._pad, dtype=np.int64)
        self._counts = np.zeros((capacity, self.width), dtype=np.int64)
        self._lengths = np.zeros(capacity, dtype=np.int64)
        for sig in signatures:
            self.append(sig)

    def append(self, signature: Signature) -> None:
        row = len(self.signatures)
        if row >= len(self._lengths):
            raise ValueError("the batch is full")
        if len(signature) > self.width:
            raise ValueError(f"signature longer than the batch width {self.width}")
        for col, (kind, count) in enumerate(signature):
            self._kinds[row, col] = self.distance.index.get(kind, self._pad)
            self._counts[row, col] = count
        self._lengths[row] = len(signature)
        self.signatures.append(signature)

    @property
    def kinds(self) -> np.ndarray:
        return self._kinds[: len(self.signatures)]

    @property
    def counts(self) -> np.ndarray:
        return self._counts[: len(self.signatures)]

    @property
    def lengths(self) -> np.ndarray:
        return self._lengths[: len(self.signatures)]


def to_many(distance: SequenceDistance, a: Signature, batch: SignatureBatch) -> np.ndarray:
    """``distance(a, b)`` for every ``b`` of ``batch``, as an array (same values as the scalar)."""
    n, width = batch.kinds.shape
    if n == 0:
        return np.zeros(0)
    gap_b = distance._gap_vector[batch.kinds]  # (n, width); padding gaps are 0
    previous = np.concatenate([np.zeros((n, 1)), np.cumsum(gap_b, axis=1)], axis=1)
    taxonomy = distance.taxonomy
    pad = len(distance.index)
    for kind, count in a:
        ka = distance.index.get(kind, pad)
        ga = distance._gap_vector[ka] if ka != pad else taxonomy.default_gap
        sub = distance._sub_matrix[ka][batch.kinds]  # (n, width)
        if ka == distance._list and ka != pad:
            same = batch.kinds == ka
            sub = np.where(same, np.minimum(taxonomy.list_count_cap, taxonomy.list_count_step * np.abs(batch.counts - count)), sub)
        current = np.empty_like(previous)
        current[:, 0] = previous[:, 0] + ga
        diagonal = previous[:, :-1] + sub
        vertical = previous[:, 1:] + ga
        best = np.minimum(diagonal, vertical)
        for j in range(width):
            current[:, j + 1] = np.minimum(best[:, j], current[:, j] + gap_b[:, j])
        previous = current
    raw = previous[np.arange(n), batch.lengths]
    longest = np.maximum(batch.lengths, len(a))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(longest > 0, np.minimum(1.0, raw / np.maximum(longest, 1)), 0.0)
    return out
