"""G4 voice, meaning: a post that breaks one of the brand's taboos is rejected (``taboo``),
whether or not it uses a banned word; a post that only comes near it passes.

A taboo is a short text ("Trashing competitors"). Its cosine to a sentence is useless on its
own: measured with MiniLM, posts that *name* the subject neutrally or argue against it score
as high as, often higher than, posts that commit the act. So the gate reasons with probes:

1. **Kinds of act** (``data/taboo_acts.json``): each kind (disparaging others, overpromising,
   health claims, financial promises, partisan politics, ...) has a description, a set of
   generic *act* sentences and a set of *contrast* sentences (the same subject named neutrally,
   or argued against). A taboo takes the probes of the kinds its text is near
   (``kind_min``; else the nearest kind if above ``kind_floor``), plus its own text as an act.
2. **Sentence level**: every sentence of the post is compared with the act probes and with
   the contrast probes, to which the sentences of the brand's recent passing posts are added
   (the brand's ordinary voice: being on the brand's subject is not an act). It breaks the
   taboo when it is near an act (best cosine ``>= act_min``) *and* clearly nearer the acts
   than the contrasts (mean of the ``top_k`` best cosines on each side, ``>= margin`` apart).
3. **Stance cues**: a sentence with a cue of negation or refusal (``data/stance_cues.txt``:
   "never", "don't", "avoid", ...) may be given a wider ``margin_negated``, because embeddings
   hardly see negation. Measured, a wider margin did not help beyond the contrast probes
   (which include refusals), so the calibrated values are equal; the knob stays.
4. A taboo no kind covers is checked against its own text only, with ``self_min``.

The gate's score is 50 at the decision boundary, lower the further a sentence is past it
(``score_scale`` per unit of cosine); the threshold (default 50) rejects below it, so a brand
can make the gate stricter or looser with one number. Calibration: ``data/taboo.json``, measured
on the labelled gate table (``tests/data/gates``). Without an embedder the gate is skipped.
An LLM judge may confirm a rejection where one is configured (not part of this gate).
"""

from __future__ import annotations

import re
from functools import cache
from dataclasses import dataclass

import numpy as np

from storage.objects import Gate

from .model import GateResult
from .rules import Context, Rule, finding, load_json, load_lines, result
from .tokens import words

RULE = Rule(name="taboo", gate=Gate.G4_VOICE, codes=("taboo",), summary="breaks none of the brand's taboos")

_SENTENCE = re.compile(r"(?<=[.!?…;:])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(words(s)) >= 2]


@cache
def _stance_cues() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(words(cue)) for cue in load_lines("stance_cues.txt"))


def _has_stance_cue(sentence: str) -> bool:
    tokens = tuple(words(sentence))
    for needle in _stance_cues():
        n = len(needle)
        if any(tokens[i : i + n] == needle for i in range(len(tokens) - n + 1)):
            return True
    return False


@dataclass(frozen=True)
class Probes:
    act: list[str]
    contrast: list[str]
    kinds: list[str]


async def probes_for(ctx: Context, taboo: str) -> Probes:
    """The act and contrast probes of one taboo: those of the kinds it is near, and itself."""
    config, kinds = load_json("taboo.json"), load_json("taboo_acts.json")["kinds"]
    names = list(kinds)
    vectors = await ctx.vectors([taboo] + [kinds[k]["description"] for k in names])
    near = vectors[1:] @ vectors[0]
    chosen = [k for k, cos in zip(names, near, strict=True) if cos >= config["kind_min"]]
    if not chosen and float(near.max()) >= config["kind_floor"]:
        chosen = [names[int(near.argmax())]]
    # The taboo's own text is an act probe only when no kind covers it: next to the kinds'
    # sentences it mostly matches posts that merely name the subject.
    act = [p for k in chosen for p in kinds[k]["act"]] or [taboo]
    contrast = [p for k in chosen for p in kinds[k]["contrast"]]
    return Probes(act=act, contrast=contrast, kinds=chosen)


def _top_mean(similarities: np.ndarray, k: int) -> np.ndarray:
    """Per row, the mean of the ``k`` highest similarities (steadier than the single best)."""
    k = max(1, min(k, similarities.shape[1]))
    return np.sort(similarities, axis=1)[:, -k:].mean(axis=1)


async def check(ctx: Context) -> GateResult:
    c = ctx.candidate
    threshold = ctx.threshold(RULE) or 0.0
    if ctx.embedder is None or not c.brand.taboos:
        return result(RULE, 100.0, [], threshold, skipped=ctx.embedder is None and bool(c.brand.taboos))
    parts = sentences(c.text)
    if not parts:
        return result(RULE, 100.0, [], threshold)
    config = load_json("taboo.json")
    sentence_vectors = await ctx.vectors(parts)
    negated = [_has_stance_cue(s) for s in parts]
    # The brand's recent passing posts are its ordinary voice: contrast for every taboo, so a
    # sentence that is merely on the brand's subject is not mistaken for an act on it.
    ordinary = [s for prior in c.history if prior.text.strip() for s in sentences(prior.text)][: config["history_sentences"]]
    findings, lowest = [], 100.0
    k = config["top_k"]
    for taboo in c.brand.taboos:
        probes = await probes_for(ctx, taboo)
        act = sentence_vectors @ (await ctx.vectors(probes.act)).T
        best_act, near_act = act.max(axis=1), _top_mean(act, k)
        contrast_texts = probes.contrast + ordinary
        if contrast_texts:
            near_contrast = _top_mean(sentence_vectors @ (await ctx.vectors(contrast_texts)).T, k)
        else:
            near_contrast = np.zeros(len(parts), dtype=np.float32)
        act_min = config["act_min"] if probes.kinds else config["self_min"]
        margins = np.array([config["margin_negated"] if n else config["margin"] for n in negated])
        # Past the boundary on both conditions -> below 50; the weaker condition decides.
        excess = np.minimum(best_act - act_min, near_act - near_contrast - margins)
        scores = 50.0 - config["score_scale"] * excess
        worst = int(scores.argmin())
        score = float(np.clip(scores[worst], 0.0, 100.0))
        lowest = min(lowest, score)
        if score < threshold:
            findings.append(finding(RULE, ctx.severity(RULE), "taboo",
                                    f"breaks the taboo {taboo!r}: {parts[worst][:160]!r}", taboo))  # fmt: skip
    return result(RULE, lowest, findings, threshold)
