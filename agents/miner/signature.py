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
