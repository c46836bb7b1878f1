"""Near-duplicates: a light rewording of one of the brand's recent passing variants on the same
channel is rejected as ``near_duplicate_of:<variant id>``.

Only history on the candidate's channel is compared (the same message on another channel is a
cross-post, not a duplicate). The lexical similarity of two posts is the better of
rapidfuzz's ``ratio`` and ``token_sort_ratio`` over their folded tokens (swapped words,
reordered sentences, changed case and punctuation barely move it). With an embedder, the
cosine of the two posts' MiniLM vectors is averaged in, so a rewording that swaps several
words for synonyms still scores high while another post on the same topic, which shares the
meaning only loosely and few words, does not. The gate's score is ``100 * (1 - similarity)``
to the nearest prior; below the threshold (default 20, i.e. similarity >= 0.80) it raises.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from storage.objects import Gate

from .model import GateResult, PriorVariant
from .rules import Context, Rule, finding, result
from .tokens import words

RULE = Rule(
    name="similarity",
    gate=Gate.COMPLIANCE,
    codes=("near_duplicate_of:<id>",),
    summary="not a near-duplicate of a recent passing variant on the same channel",
)


def lexical_similarity(a: str, b: str) -> float:
    left, right = " ".join(words(a)), " ".join(words(b))
    if not left or not right:
        return 0.0
    return max(fuzz.ratio(left, right), fuzz.token_sort_ratio(left, right)) / 100.0


async def check(ctx: Context) -> GateResult:
    c = ctx.candidate
    priors: list[PriorVariant] = [p for p in c.history if p.channel is c.channel and p.text.strip()]
    threshold = ctx.threshold(RULE) or 0.0
    if not priors or not c.text.strip():
        return result(RULE, 100.0, [], threshold, skipped=not priors)
    similarities = [lexical_similarity(c.text, p.text) for p in priors]
    if ctx.embedder is not None:
        vectors = await ctx.vectors([c.text] + [p.text for p in priors])
        cosines = vectors[1:] @ vectors[0]
        similarities = [max(lex, (lex + float(cos)) / 2) for lex, cos in zip(similarities, cosines, strict=True)]
    best = max(range(len(priors)), key=similarities.__getitem__)
    score = 100.0 * (1.0 - similarities[best])
    findings = []
    if score < threshold:
        prior = priors[best]
        findings.append(finding(RULE, ctx.severity(RULE), f"near_duplicate_of:{prior.id}",
                                f"{similarities[best]:.0%} similar to variant {prior.id}", prior.id))  # fmt: skip
    return result(RULE, score, findings, threshold)
