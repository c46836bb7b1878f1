"""Beat labelling: each unit of a post gets a kind of the taxonomy, from cues and features.

A kind's score for a unit is the sum of its matching cue phrases' weights plus its feature
weights times the unit's features (both from the cue file). Position restricts the choice:

* the first unit is a hook, of the hook kind that scores highest;
* a tail unit (one of the last ``tail_units``) is a CTA if its best CTA score reaches ``cta_min``
  (the second to last only when the last one is a CTA too);
* a list line is a list item, unless it is such a CTA;
* any other unit takes the best body kind, or ``context`` when no body kind reaches ``min_score``;
  a sentence leans towards the kind of the sentence before it on its line (``continuation``
  weights), since one run of prose usually plays one role.

Consecutive units of one kind in one paragraph are merged into one beat (list lines never are:
each list item is a beat of its own); so are consecutive CTA units of one paragraph, taking the
kind of the last ("Want the checklist? DM me." is one plain CTA).
"""

from __future__ import annotations

from dataclasses import dataclass

from .cues import CuePack, load_cues
from .features import starts_with_anaphor, strip_marker, unit_features
from .segmentation import Unit, segment_units
from .taxonomy import Taxonomy, default_taxonomy


@dataclass(frozen=True)
class LabelledUnit:
    unit: Unit
    kind: str
    score: float


@dataclass(frozen=True)
class LabelledBeat:
    kind: str
    text: str
    paragraph: int
    line: int  # of its last unit


class BeatLabeller:
    """Labels the beats of a post. Holds its cue pack and taxonomy; pure otherwise."""

    def __init__(self, cues: CuePack | None = None, taxonomy: Taxonomy | None = None) -> None:
        self.cues = cues if cues is not None else load_cues("en")
        self.taxonomy = taxonomy if taxonomy is not None else default_taxonomy()
        self._hooks = self.taxonomy.of_family("hook")
        self._ctas = self.taxonomy.of_family("cta")
        self._body = self.taxonomy.of_family("body")

    def _scores(self, units: list[Unit], index: int, kinds: list[str],
                previous_kind: str | None = None) -> list[tuple[float, str]]:
        unit = units[index]
        previous = units[index - 1] if index > 0 and units[index - 1].paragraph == unit.paragraph else None
        before = units[index - 1] if index > 0 else None
        features = unit_features(unit, index, len(units), self.cues, previous, before)
        text = strip_marker(unit.text)
        continuation = 0.0
        if previous is not None and previous_kind is not None and previous.line == unit.line:
            continuation = self.cues.continuation_paragraph + (
                self.cues.continuation_anaphor if starts_with_anaphor(unit, self.cues) else 0.0
            )
        scored = []
        for kind in kinds:
            weights = self.cues.feature_weights.get(kind, {})
            score = self.cues.cue_score(kind, text) + sum(w * features.get(f, 0.0) for f, w in weights.items())
            if kind == previous_kind:
                score += continuation
            scored.append((score, kind))
        return scored

    def label_units(self, units: list[Unit]) -> list[LabelledUnit]:
        count = len(units)
        kinds: list[LabelledUnit | None] = [None] * count
        # Tail first: whether the last unit is a CTA decides whether the one before may be.
        tail_start = max(1, count - self.cues.tail_units)
        for index in range(count - 1, tail_start - 1, -1):
            if index < count - 1 and (kinds[index + 1] is None or kinds[index + 1].kind not in self._ctas):
                break
            score, kind = max(self._scores(units, index, self._ctas))
            if score < self.cues.cta_min:
                break
            kinds[index] = LabelledUnit(units[index], kind, score)
        for index, unit in enumerate(units):
            if kinds[index] is not None:
                continue
            if index == 0:
                score, kind = max(self._scores(units, index, self._hooks))
            elif unit.is_list:
                score, kind = 1.0, "list_item"
            else:
                before = kinds[index - 1]
                previous_kind = before.kind if before is not None and before.kind in self._body else None
                score, kind = max(self._scores(units, index, self._body, previous_kind))
                if score < self.cues.min_score:
                    kind = "context"
            kinds[index] = LabelledUnit(unit, kind, score)
        return self._pair_reframes(units, [k for k in kinds if k is not None])

    def _pair_reframes(self, units: list[Unit], labelled: list[LabelledUnit]) -> list[LabelledUnit]:
        """"Buyers don't move down a funnel. They loop." is one reframe: when a reframe answers the
        negation of the sentence before it, that sentence (if it was plain context) joins it."""
        out = list(labelled)
        for index in range(1, len(out)):
            previous = units[index - 1]
            if (
                out[index].kind == "reframe"
                and out[index - 1].kind == "context"
                and previous.paragraph == units[index].paragraph
                and unit_features(units[index], index, len(units), self.cues, previous)["after_negation_anaphor"]
            ):
                out[index - 1] = LabelledUnit(previous, "reframe", out[index - 1].score)
        return out

    def label(self, text: str) -> list[LabelledBeat]:
        """The beats of ``text``, in order."""
        beats: list[LabelledBeat] = []
        for item in self.label_units(segment_units(text)):
            previous = beats[-1] if beats else None
            same_paragraph = previous is not None and previous.paragraph == item.unit.paragraph
            same_kind = previous is not None and previous.kind == item.kind and item.kind != "list_item"
            # "Want the checklist? DM me." is one call to action; the last sentence says which kind.
            both_cta = previous is not None and previous.kind in self._ctas and item.kind in self._ctas
            if previous is not None and same_paragraph and (same_kind or both_cta):
                joint = " " if previous.line == item.unit.line else "\n"
                beats[-1] = LabelledBeat(item.kind, f"{previous.text}{joint}{item.unit.text}", previous.paragraph,
                                         item.unit.line)
            else:
                beats.append(LabelledBeat(item.kind, item.unit.text, item.unit.paragraph, item.unit.line))
        return beats
