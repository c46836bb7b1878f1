"""G4 voice, meaning: a post that breaks one of the brand's taboos is rejected (``taboo``),
whether or not it uses a banned word; a post that only comes near it passes.

Measured with MiniLM, one cosine to the taboo's text is useless: posts that *name* the subject
neutrally or argue against it score as high as posts that commit the act. So the gate weighs
three kinds of evidence, on every sentence of the post and every pair of adjacent sentences
(an act often spans two: "Switching from X? Their engine is held together with tape."):

1. **Meaning** (:mod:`.taboo_probes`): the taboo is expanded into act probes and contrast
   probes (the same subject named neutrally, or argued against), with the brand's competitors
   filled into both sides and its stances and recent passing posts (its ordinary voice) added
   to the contrasts. The *lean* of a sentence is the mean of its ``top_k`` best cosines to the
   acts minus the same to the contrasts.
2. **Negation** (:mod:`.negation`): if taking the sentence's negation out makes it lean more
   to the act, the negation argues against the act ("this is not a treatment for ..."), and the
   lean is lowered by ``negation_weight`` times that shift; a negation that is part of the act
   ("you can't lose") shifts the other way and is left alone.
3. **Lexical evidence** (:mod:`.phrases`): a cue of the act and, for acts about something,
   one of its objects ("cures" + "arthritis"; a competitor's name + "a joke"). With it a
   sentence needs to lean only ``margin_cued`` to the act; without it, ``margin``.

A sentence breaks the taboo when it is near an act (best cosine ``>= act_min``) and leans past
its margin. The score is 50 at that boundary, lower the further past it (``score_scale`` per
unit of cosine); the threshold (default 50) rejects below it, so a brand makes the gate
stricter or looser with one number. Calibration: ``data/taboo.json``, measured on the
calibration rows of the labelled gate table (``tests/data/gates/table.yml``) and reported on a
held-out set (``taboo_holdout.yml``). Without an embedder the gate is skipped. An LLM judge may
confirm a rejection where one is configured (not part of this gate).
"""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np

from storage.objects import Gate

from .model import GateResult
from .negation import denegated, negated_outside
from .rules import Context, Rule, finding, load_json, result
from .taboo_probes import TabooProbes, probes_for
from .tokens import words

RULE = Rule(name="taboo", gate=Gate.G4_VOICE, codes=("taboo",), summary="breaks none of the brand's taboos")

_SENTENCE = re.compile(r"(?<=[.!?…;:])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(words(s)) >= 2]


def units(text: str, max_sentences: int) -> list[str]:
    """The sentences of a post and each pair of adjacent ones (an act may span two)."""
    parts = sentences(text)[:max_sentences]
    return parts + [f"{a} {b}" for a, b in pairwise(parts)]


def _top_mean(similarities: np.ndarray, k: int) -> np.ndarray:
    """Per row, the mean of the ``k`` highest similarities (steadier than the single best)."""
    if similarities.shape[1] == 0:
        return np.zeros(similarities.shape[0], dtype=np.float32)
    k = max(1, min(k, similarities.shape[1]))
    return np.sort(similarities, axis=1)[:, -k:].mean(axis=1)


async def _scores(ctx: Context, probes: TabooProbes, texts: list[str], ordinary: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per text: its lean to the act (act minus contrast) and its best cosine to an act."""
    config = load_json("taboo.json")
    vectors = await ctx.vectors(texts)
    act = vectors @ (await ctx.vectors(list(probes.act))).T
    contrast = vectors @ (await ctx.vectors(list(probes.contrast) + ordinary)).T
    return _top_mean(act, config["top_k"]) - _top_mean(contrast, config["top_k"]), act.max(axis=1)


def _strength(probes: TabooProbes, text_words: list[str]) -> int:
    """The strength of the sentence's lexical evidence; none where a negation outside the cue
    may be aimed at it ("we never say guaranteed")."""
    evidence = probes.evidence(text_words)
    return 0 if negated_outside(text_words, evidence.cues) else evidence.strength


async def check(ctx: Context) -> GateResult:
    c = ctx.candidate
    threshold = ctx.threshold(RULE) or 0.0
    if ctx.embedder is None or not c.brand.taboos:
        return result(RULE, 100.0, [], threshold, skipped=ctx.embedder is None and bool(c.brand.taboos))
    config = load_json("taboo.json")
    parts = units(c.text, config["max_sentences"])
    if not parts:
        return result(RULE, 100.0, [], threshold)
    negations = [denegated(p) for p in parts]
    positive = [n for n in negations if n]
    # The brand's recent passing posts are its ordinary voice: contrast for every taboo, so a
    # sentence that is merely on the brand's subject is not mistaken for an act on it.
    ordinary = [s for prior in c.history if prior.text.strip() for s in sentences(prior.text)][: config["history_sentences"]]
    part_words = [words(p) for p in parts]
    findings, lowest = [], 100.0
    for taboo in c.brand.taboos:
        probes = await probes_for(ctx, taboo)
        lean, best_act = await _scores(ctx, probes, parts + positive, ordinary)
        shift = np.zeros(len(parts), dtype=np.float32)
        j = len(parts)
        for i, n in enumerate(negations):
            if n:
                shift[i] = max(0.0, float(lean[j] - lean[i]) - config["negation_tolerance"])
                j += 1
        lean, best_act = lean[: len(parts)] - config["negation_weight"] * shift, best_act[: len(parts)]
        margin = np.array([config["margins"][_strength(probes, w)] for w in part_words])
        act_min = config["act_min"] if probes.kinds else config["self_min"]
        # Past the boundary on both conditions -> below 50; the weaker condition decides.
        excess = np.minimum(best_act - act_min, lean - margin)
        scores = 50.0 - config["score_scale"] * excess
        worst = int(scores.argmin())
        score = float(np.clip(scores[worst], 0.0, 100.0))
        lowest = min(lowest, score)
        if score < threshold:
            findings.append(finding(RULE, ctx.severity(RULE), "taboo",
                                    f"breaks the taboo {taboo!r}: {parts[worst][:160]!r}", taboo))  # fmt: skip
    return result(RULE, lowest, findings, threshold)
