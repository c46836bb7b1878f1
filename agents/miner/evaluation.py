"""Measuring a clustering against known labels: the adjusted Rand index (Hubert & Arabie, 1985).

ARI = (index - expected) / (max - expected) over pair counts of the contingency table; 1 is a
perfect match, about 0 a random assignment. Exact integer arithmetic on the table, no sklearn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def adjusted_rand_index(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted must have the same length")
    n = len(truth)
    if n < 2:
        return 1.0
    index = sum(_pairs(c) for c in Counter(zip(truth, predicted)).values())
    rows = sum(_pairs(c) for c in Counter(truth).values())
    cols = sum(_pairs(c) for c in Counter(predicted).values())
    expected = rows * cols / _pairs(n)
    maximum = (rows + cols) / 2
    if maximum == expected:  # both partitions trivial (all one cluster, or all singletons)
        return 1.0
    return (index - expected) / (maximum - expected)
