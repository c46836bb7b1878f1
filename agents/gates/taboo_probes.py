"""A brand's taboo expanded into what the taboo gate compares sentences with.

A taboo is a short text ("Never disparage competitors by name", "No discount talk"). It is
expanded once per brand:

1. **The act**: the prohibition words are taken off its front (``data/taboo_prohibitions.txt``),
   leaving the act ("disparage competitors by name").
2. **Kinds of act** (``data/taboo_acts.json``): the act is matched to the kinds whose
   description it is near (``kind_min``; else the nearest one from ``kind_floor``). Each kind
   brings sentence probes that commit the act and *contrast* probes that name the same subject
   neutrally or argue against it, plus lexical evidence: cue phrases of the act and, where the
   act needs one, the objects it must be about (a condition for a health claim, a rival for
   disparaging).
3. **The brand brain**: the brand's competitors fill the kinds' ``{object}`` templates ("{object}'s
   product is a joke" / "fair play to {object}"), so a post that names a competitor is compared
   with acts *and* contrasts that name it too and the name itself weighs on neither side; they
   are also objects (``{competitor}``). The brand's stances join the contrasts (its positions
   are its ordinary voice, not acts).
4. A taboo no kind covers is its own act probe, with its refusal ("we never ...") as contrast.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from .phrases import PhraseSet
from .rules import Context, load_json, load_lines
from .tokens import fold


@dataclass(frozen=True)
class Lexicon:
    """One kind's lexical evidence: a sentence holds it when it has a cue and, if the kind has
    objects, one of them."""

    cues: PhraseSet
    objects: PhraseSet | None

    def evidence(self, text_words: list[str]) -> Evidence:
        cues = self.cues.find(text_words)
        if not cues:
            return Evidence()
        if self.objects is None:
            return Evidence(cues=tuple(cues))
        objects = self.objects.find(text_words)
        return Evidence(cues=tuple(cues), objects=tuple(objects)) if objects else Evidence()


@dataclass(frozen=True)
class Evidence:
    """The cue phrases (and objects) of a kind found in a sentence; ``strength`` 0 (none), 1 (a
    cue of an act that needs no object), 2 (a cue and the object it is about)."""

    cues: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()

    @property
    def strength(self) -> int:
        return 0 if not self.cues else 2 if self.objects else 1

    @property
    def phrases(self) -> tuple[str, ...]:
        return self.cues + self.objects


@dataclass(frozen=True)
class TabooProbes:
    taboo: str
    act_text: str
    kinds: tuple[str, ...]
    act: tuple[str, ...]
    contrast: tuple[str, ...]
    lexicons: tuple[Lexicon, ...]

    def evidence(self, text_words: list[str]) -> Evidence:
        """The strongest lexical evidence of the taboo's kinds in a sentence."""
        return max((lexicon.evidence(text_words) for lexicon in self.lexicons), key=lambda e: e.strength, default=Evidence())


def act_of(taboo: str) -> str:
    """The act a taboo forbids: its text without the prohibition in front."""
    folded = fold(taboo).strip()
    for prefix in load_lines("taboo_prohibitions.txt"):
        if folded.startswith(prefix + " "):
            rest = taboo.strip()[len(prefix) + 1 :].strip()
            return rest or taboo
    return taboo.strip()


@cache
def _kinds() -> dict[str, dict]:
    return load_json("taboo_acts.json")["kinds"]


@cache
def _lexicon(kind: str, competitors: tuple[str, ...]) -> Lexicon | None:
    spec = _kinds()[kind]
    cues = PhraseSet.of(spec.get("cues", []), competitors)
    if not cues:
        return None
    objects = PhraseSet.of(spec["objects"], competitors) if spec.get("objects") else None
    return Lexicon(cues=cues, objects=objects)


async def probes_for(ctx: Context, taboo: str) -> TabooProbes:
    """The probes and lexical evidence of one of the brand's taboos."""
    config, kinds = load_json("taboo.json"), _kinds()
    brand = ctx.candidate.brand
    competitors = tuple(brand.competitors)
    act_text = act_of(taboo)
    names = list(kinds)
    vectors = await ctx.vectors([act_text] + [kinds[k]["description"] for k in names])
    near = vectors[1:] @ vectors[0]
    chosen = [k for k, cos in zip(names, near, strict=True) if cos >= config["kind_min"]]
    if not chosen and float(np.max(near)) >= config["kind_floor"]:
        chosen = [names[int(np.argmax(near))]]
    act: list[str] = []
    contrast: list[str] = []
    for kind in chosen:
        spec = kinds[kind]
        objects = list(competitors[: config["competitors_max"]]) or spec.get("default_object", [])
        act += spec["act"] + [t.format(object=o) for t in spec.get("act_templates", []) for o in objects]
        contrast += spec["contrast"] + [t.format(object=o) for t in spec.get("contrast_templates", []) for o in objects]
    if not chosen:
        act = [act_text]
        contrast = [template.format(act=act_text) for template in config["refusal_templates"]]
    contrast += list(brand.stances)
    lexicons = tuple(lex for k in chosen if (lex := _lexicon(k, competitors)) is not None)
    return TabooProbes(taboo=taboo, act_text=act_text, kinds=tuple(chosen), act=tuple(dict.fromkeys(act)),
                       contrast=tuple(dict.fromkeys(contrast)), lexicons=lexicons)  # fmt: skip
