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
2. **Calibration** (:mod:`.taboo_background`): raw cosines mean different things for different
   probe sets, so the lean and the best act cosine are read in standard deviations of the same
   measures on ordinary brand posts (``data/taboo_background.txt``): z-scores.
3. **Negation** (:mod:`.negation`): if taking the sentence's negation out makes it lean more
   to the act, the negation argues against the act ("this is not a treatment for ..."), and the
   lean is lowered by ``negation_weight`` times that shift; a negation that is part of the act
   ("you can't lose") shifts the other way and is left alone.
4. **Lexical evidence** (:mod:`.phrases`): a cue of the act and, for acts about something,
   one of its objects ("cures" + "arthritis"; a competitor's name + "a joke"; "welcome" + a
   proper name). The stronger the evidence, the less the sentence must lean (``margins_z``:
   none, a named party alone, a cue, a cue with its object); a hedge takes a cue back, and so
   do a negation aimed at it ("we never say guaranteed") and a frame that reports or warns
   against the claim ("a rival claims ...", "beware of ...").

5. **The kinds' classifiers** (:mod:`.taboo_classifier`): a linear model per kind, trained on
   a corpus of acts and traps, reads new wording along the act's direction in the embedding
   space; its log-odds lose a negation that argues against the act, as the lean does.

A sentence breaks the taboo when it is near an act (``act_z_min``) and leans past its margin
(both by the strength of its evidence), or when its kinds' classifier is sure enough and its
lean agrees (``classifier``: ``p_min`` and ``lean_min_z``, by the strength of its evidence).
The score is 50 at that boundary, lower the further past it (``score_scale`` per standard
deviation); the threshold (default 50) rejects below it, so a brand makes the gate stricter or
looser with one number. Calibration: ``data/taboo.json``, tuned on the calibration rows of the
labelled gate table (``tests/data/gates/table.yml``) and reported on five held-out sets
(``taboo_holdout*.yml``; the fifth written blind). Without an embedder the gate is skipped.

6. **The judge** (:mod:`.judge`, where a language model is configured): a taboo whose score is
   within ``judge.ask_margin`` above the threshold down to ``judge.keep_margin`` below it is
   settled by the judge's answer instead (``taboo_judge_cleared`` flags a rejection it takes
   back; ``taboo_judge_unavailable`` a failed request, when the score decides as without it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from storage.objects import Gate

from .judge import Breach, JudgeUnavailable
from .model import Finding, GateResult, Severity
from .negation import denegated, distanced, negated_inside, negated_outside
from .rules import Context, Rule, finding, load_json, result
from .taboo_background import Background, lean_and_act
from .taboo_classifier import Classifier, classifier_for
from .taboo_probes import TabooProbes, probes_for
from .tokens import words

RULE = Rule(name="taboo", gate=Gate.G4_VOICE, codes=("taboo", "taboo_judge_cleared", "taboo_judge_unavailable"),
            summary="breaks none of the brand's taboos")

_SENTENCE = re.compile(r"(?<=[.!?…;:])\s+|\n+")


def sentences(text: str) -> list[str]:
    """The post's sentences of two words or more. A shorter fragment ("LaneGuard?", "Wow.") is
    joined to the sentence after it (the last to the one before), since it often names what that
    sentence is about; a fragment with no word at all is dropped."""
    out: list[str] = []
    carry = ""
    for piece in (p.strip() for p in _SENTENCE.split(text)):
        if not words(piece):
            continue
        joined = f"{carry} {piece}" if carry else piece
        if len(words(joined)) < 2:
            carry = joined
            continue
        out.append(joined)
        carry = ""
    if carry and out:
        out[-1] = f"{out[-1]} {carry}"
    return out


def units(text: str, max_sentences: int) -> list[str]:
    """The sentences of a post and each pair of adjacent ones (an act may span two)."""
    parts = sentences(text)[:max_sentences]
    return parts + [f"{a} {b}" for a, b in pairwise(parts)]


def _evidence(probes: TabooProbes, text_words: list[str]) -> tuple[int, bool]:
    """The strength of a unit's lexical evidence, and whether its negation is part of the act
    (it sits inside the cues found: "no analysts needed", "can't lose"). A cue that a negation
    outside it may be aimed at ("we never say guaranteed") counts for nothing, as does a cue the
    sentence reports or warns against ("a rival claims it cures ..."); the object stays."""
    evidence = probes.evidence(text_words)
    if evidence.cues and (negated_outside(text_words, evidence.cues) or distanced(text_words, evidence.cues)):
        return evidence.without_cues().strength, False
    return evidence.strength, bool(evidence.cues) and negated_inside(evidence.cues)


def _negation_shift(values: np.ndarray, negations: list[str | None], n_sentences: int, act_negations: list[bool],
                    tolerance: float) -> np.ndarray:  # fmt: skip
    """Per unit, how far taking its negation out moves a measure towards the act, past the
    tolerance: ``values`` holds the units' measures, then those of the units that have a
    negation, without it, in order. A pair inherits the larger shift of its two sentences (a
    sentence that argues against the act does so next to any other); a negation that is part of
    the act's cue shifts nothing."""
    n = len(negations)
    shift = np.zeros(n, dtype=np.float64)
    j = n
    for i, negation in enumerate(negations):
        if negation:
            shift[i] = max(0.0, float(values[j] - values[i]) - tolerance)
            j += 1
    for i in range(n_sentences, n):  # pair i joins sentences k and k + 1
        k = i - n_sentences
        shift[i] = max(shift[i], shift[k], shift[k + 1])
    shift[np.array(act_negations, dtype=bool)] = 0.0
    return shift


async def _scores(ctx: Context, probes: TabooProbes, parts: list[str], negations: list[str | None], n_sentences: int,
                  ordinary: list[str], act_negations: list[bool]) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Per unit: its lean to the act in background standard deviations, the negation's shift
    (:func:`_negation_shift`) taken off, and its best act cosine, likewise."""
    config = load_json("taboo.json")
    positive = [n for n in negations if n]
    lean, act = await lean_and_act(ctx, probes, parts + positive, ordinary)
    background = await Background.of(ctx, probes, ordinary)
    shift = _negation_shift(lean, negations, n_sentences, act_negations, config["negation_tolerance"])
    is_pair = np.arange(len(parts)) >= n_sentences
    lean = lean[: len(parts)] - config["negation_weight"] * shift
    return background.lean_z(lean, is_pair), background.act_z(act[: len(parts)], is_pair)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


async def _classified(ctx: Context, classifier: Classifier, kinds: tuple[str, ...], parts: list[str],
                      negations: list[str | None], n_sentences: int, act_negations: list[bool]) -> np.ndarray:  # fmt: skip
    """Per unit: the log-odds that it commits an act of the taboo's kinds, by the kinds'
    classifiers, with a negation that argues against the act taken off as for the lean
    (:func:`_negation_shift` of the log-odds)."""
    config = load_json("taboo.json")["classifier"]
    positive = [n for n in negations if n]
    logits = _logit(classifier.probability(kinds, await ctx.vectors(parts + positive)))
    shift = _negation_shift(logits, negations, n_sentences, act_negations, config["negation_tolerance"])
    return logits[: len(parts)] - config["negation_weight"] * shift


async def check(ctx: Context) -> GateResult:
    c = ctx.candidate
    threshold = ctx.threshold(RULE) or 0.0
    if ctx.embedder is None or not c.brand.taboos:
        return result(RULE, 100.0, [], threshold, skipped=ctx.embedder is None and bool(c.brand.taboos))
    config = load_json("taboo.json")
    n_sentences = len(sentences(c.text)[: config["max_sentences"]])
    parts = units(c.text, config["max_sentences"])
    if not parts:
        return result(RULE, 100.0, [], threshold)
    # The brand's recent passing posts are its ordinary voice: contrast for every taboo, so a
    # sentence that is merely on the brand's subject is not mistaken for an act on it.
    ordinary = [s for prior in c.history if prior.text.strip() for s in sentences(prior.text)][: config["history_sentences"]]
    part_words = [words(p) for p in parts]
    negations = [denegated(p) for p in parts]  # each unit without its negation (None: it has none), for every taboo
    classifier = classifier_for(ctx.embedder.model_name)
    measured: list[Measured] = []
    for taboo in c.brand.taboos:
        probes = await probes_for(ctx, taboo)
        evidence = [_evidence(probes, w) for w in part_words]
        lean_z, act_z = await _scores(ctx, probes, parts, negations, n_sentences, ordinary,
                                      [inside for _, inside in evidence])  # fmt: skip
        margin = np.array([config["margins_z"][strength] for strength, _ in evidence])
        act_min = np.array([config["act_z_min"][strength] if probes.kinds else config["self_z_min"] for strength, _ in evidence])
        # Past the boundary on both conditions -> below 50; the weaker condition decides.
        excess = np.minimum(act_z - act_min, lean_z - margin)
        if classifier is not None and probes.kinds:
            # Or the kinds' classifier is sure enough and the lean agrees, for the strength of
            # the evidence (a grade whose p_min is null has no such path).
            settings = config["classifier"]
            logits = await _classified(ctx, classifier, probes.kinds, parts, negations, n_sentences,
                                       [inside for _, inside in evidence])  # fmt: skip
            grades = [strength for strength, _ in evidence]
            usable = np.array([settings["p_min"][g] is not None for g in grades])
            needed = _logit(np.array([settings["p_min"][g] or 0.5 for g in grades]))
            lean_min = np.array([settings["lean_min_z"][g] or 0.0 for g in grades])
            by_classifier = np.minimum((logits - needed) * settings["z_per_logit"], lean_z - lean_min)
            excess = np.where(usable, np.maximum(excess, by_classifier), excess)
        scores = 50.0 - config["score_scale"] * excess
        worst = int(scores.argmin())
        measured.append(Measured(taboo, float(np.clip(scores[worst], 0.0, 100.0)), parts[worst]))
    return await _verdict(ctx, measured, threshold)


@dataclass(frozen=True)
class Measured:
    """One taboo's score on the post, and the unit that scored worst."""

    taboo: str
    score: float
    unit: str


async def _verdict(ctx: Context, measured: list[Measured], threshold: float) -> GateResult:
    """Each taboo's verdict: its score against the threshold, or, with a judge, the judge's
    answer for the taboos whose score is in the band around the threshold (:mod:`.judge`).
    The score stays the embedding measure; a rejection the judge takes back and a judge that
    did not answer are flagged, so the verdict is always explained."""
    band = load_json("taboo.json")["judge"]
    ask = [m for m in measured if threshold - band["keep_margin"] <= m.score < threshold + band["ask_margin"]]
    judged: dict[str, Breach] | None = None
    findings: list[Finding] = []
    if ctx.judge is not None and ask:
        c = ctx.candidate
        try:
            judged = {b.taboo: b for b in await ctx.judge.breaches([m.taboo for m in ask], c.text, c.brand.competitors)}
        except JudgeUnavailable as error:
            findings.append(finding(RULE, Severity.FLAG, "taboo_judge_unavailable",
                                    f"the taboo judge did not answer ({error.reason}); the embedding measure decided"))  # fmt: skip
    asked = {m.taboo for m in ask} if judged is not None else set()
    for m in measured:
        if m.taboo not in asked:
            if m.score < threshold:
                findings.append(finding(RULE, ctx.severity(RULE), "taboo", f"breaks the taboo {m.taboo!r}: {m.unit[:160]!r}",
                                        m.taboo))  # fmt: skip
        elif (breach := judged.get(m.taboo)) is not None:  # type: ignore[union-attr]
            quoted = breach.quote or m.unit
            findings.append(finding(RULE, ctx.severity(RULE), "taboo",
                                    f"breaks the taboo {m.taboo!r} (judge): {quoted[:160]!r}", m.taboo))  # fmt: skip
        elif m.score < threshold:
            findings.append(finding(RULE, Severity.FLAG, "taboo_judge_cleared",
                                    f"near the taboo {m.taboo!r}, cleared by the judge: {m.unit[:160]!r}", m.taboo))  # fmt: skip
    return result(RULE, min((m.score for m in measured), default=100.0), findings, threshold)
