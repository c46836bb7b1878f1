"""A brand's taboo expanded into what the taboo gate compares sentences with.

A taboo is a short text ("Never disparage competitors by name", "No discount talk"). It is
expanded once per check (its vectors are cached across checks):

1. **The act**: the prohibition words are taken off its front (``data/taboo_prohibitions.txt``),
   leaving the act ("disparage competitors by name").
2. **Kinds of act** (``data/taboo_acts.json``): the act is matched to the kinds it is near,
   each kind by the nearest of its description and the ways a brand may phrase such a taboo
   ("bash other companies", "badmouth rivals"): every kind from ``kind_min``, else the nearest
   one from ``kind_floor``. Each kind brings sentence probes that commit the act and *contrast*
   probes that name the same subject neutrally or argue against it, plus lexical evidence: cue
   phrases of the act, the objects the act must be about (a condition for a health claim, a
   rival for disparaging, a proper name for naming a client) and hedges that take an absolute
   claim back ("about", "most", "still").
3. **The brand brain**: the brand's competitors fill the disparaging kind's ``{object}``
   templates ("{object}'s product is a joke" / "fair play to {object}"), so a post that names a
   competitor is compared with acts *and* contrasts that name it too and the name itself weighs
   on neither side; they are also its objects (``{competitor}``). The proper names of the post
   (:mod:`.names`, without the competitors and the brand's own names) are the objects of
   naming a client (``{name}``). The brand's stances join the contrasts (its positions are its
   ordinary voice, not acts).
4. A taboo no kind covers is its own act probe, with its refusal ("we never ...") as contrast.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from .names import proper_names
from .phrases import COMPETITOR, NAME, PhraseSet
from .rules import Context, load_json, load_lines
from .tokens import fold


@dataclass(frozen=True)
class Evidence:
    """The cue phrases and objects of a kind found in a sentence. ``strength``: 0 none; 1 the
    act's target alone, when it is a named party (a competitor named, a client's name; a topic
    such as a condition or an election is named by neutral posts as often, so alone it is no
    evidence); 2 a cue of an act that needs no object; 3 a cue and the object it is about, or
    two different cues of an act that needs none ("25% off" and "free shipping")."""

    cues: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    needs_object: bool = False
    named: bool = False

    @property
    def strength(self) -> int:
        if self.cues:
            if self.needs_object:
                return 3 if self.objects else 0
            return 3 if len(self.cues) >= 2 else 2
        return 1 if self.named else 0

    @property
    def phrases(self) -> tuple[str, ...]:
        return self.cues + self.objects

    def without_cues(self) -> Evidence:
        return Evidence(objects=self.objects, needs_object=self.needs_object, named=self.named)


@dataclass(frozen=True)
class Lexicon:
    """One kind's lexical evidence: its cues, the objects it must be about (if any) and the
    hedges that take its claims back."""

    cues: PhraseSet
    objects: PhraseSet | None
    hedges: PhraseSet | None = None
    parties: PhraseSet | None = None

    def evidence(self, text_words: list[str]) -> Evidence:
        cues = tuple(self.cues.find(text_words))
        if cues and self.hedges is not None and self.hedges.find(text_words):
            cues = ()
        if self.objects is None:
            return Evidence(cues=cues)
        named = self.parties is not None and bool(self.parties.find(text_words))
        return Evidence(cues=cues, objects=tuple(self.objects.find(text_words)), needs_object=True, named=named)


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


KINDS_OF_MAX = 4096
_KINDS_OF: dict[tuple[str, str], tuple[str, ...]] = {}


@cache
def _kinds() -> dict[str, dict]:
    return load_json("taboo_acts.json")["kinds"]


def _names_parties(spec: dict) -> bool:
    """Whether a kind's lists use the post's proper names (its lexicon is then per post)."""
    return any(NAME in phrase for phrase in [*spec.get("objects", []), *spec.get("cues", [])])


def _names_competitors(spec: dict) -> bool:
    return any(COMPETITOR in o for o in spec.get("objects", []))


@lru_cache(maxsize=4096)
def _lexicon(kind: str, competitors: tuple[str, ...], names: tuple[str, ...]) -> Lexicon | None:
    spec = _kinds()[kind]
    listed = [cue for name in spec.get("cue_lists", []) for cue in load_lines(name)]
    cues = PhraseSet.of([*spec.get("cues", []), *listed], competitors, names)
    if not cues:
        return None
    objects = PhraseSet.of(spec["objects"], competitors, names) if spec.get("objects") else None
    hedges = PhraseSet.of(spec["hedges"]) if spec.get("hedges") else None
    slots = [o for o in spec.get("objects", []) if COMPETITOR in o or NAME in o]
    parties = PhraseSet.of(slots, competitors, names) if slots else None
    return Lexicon(cues=cues, objects=objects, hedges=hedges, parties=parties or None)


async def kinds_of(ctx: Context, act_text: str) -> tuple[str, ...]:
    """The kinds of act a taboo's act is about (nearest of each kind's description and
    phrasings); kept per process, as a brand's taboos recur on every check."""
    assert ctx.embedder is not None
    key = (ctx.embedder.model_name, act_text)
    if key in _KINDS_OF:
        return _KINDS_OF[key]
    config, kinds = load_json("taboo.json"), _kinds()
    names = list(kinds)
    phrasings = [(k, text) for k in names for text in [kinds[k]["description"], *kinds[k].get("taboos", [])]]
    vectors = await ctx.vectors([act_text] + [text for _, text in phrasings])
    near = vectors[1:] @ vectors[0]
    best = {k: max(float(c) for (kind, _), c in zip(phrasings, near, strict=True) if kind == k) for k in names}
    chosen = tuple(k for k in names if best[k] >= config["kind_min"])
    if not chosen and max(best.values()) >= config["kind_floor"]:
        chosen = (max(best, key=best.__getitem__),)
    if len(_KINDS_OF) < KINDS_OF_MAX:
        _KINDS_OF[key] = chosen
    return chosen


def kind_probes(spec: dict, objects: list[str] | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """A kind's act and contrast probes, its ``{object}`` templates filled with ``objects``."""
    def filled(side: str) -> list[str]:
        return [t.format(object=o) for t in spec.get(f"{side}_templates", []) for o in objects]

    return [*spec["act"], *filled("act")], [*spec["contrast"], *filled("contrast")]


async def probes_for(ctx: Context, taboo: str) -> TabooProbes:
    """The probes and lexical evidence of one of the brand's taboos for this check's post."""
    config, kinds = load_json("taboo.json"), _kinds()
    brand = ctx.candidate.brand
    competitors = tuple(brand.competitors)
    names = tuple(proper_names(ctx.candidate.text, exclude=(*competitors, *brand.own_names)))
    act_text = act_of(taboo)
    chosen = await kinds_of(ctx, act_text)
    act: list[str] = []
    contrast: list[str] = []
    for kind in chosen:
        spec = kinds[kind]
        fill = competitors[: config["competitors_max"]] if _names_competitors(spec) else ()
        objects = list(fill) or spec.get("default_object", [])
        acts, contrasts = kind_probes(spec, objects)
        act += acts
        contrast += contrasts
    if not chosen:
        act = [act_text]
        contrast = [template.format(act=act_text) for template in config["refusal_templates"]]
    contrast += list(brand.stances)
    lexicons = tuple(lex for k in chosen if (lex := _lexicon(k, competitors, names if _names_parties(kinds[k]) else ())) is not None)
    return TabooProbes(taboo=taboo, act_text=act_text, kinds=chosen, act=tuple(dict.fromkeys(act)),
                       contrast=tuple(dict.fromkeys(contrast)), lexicons=lexicons)  # fmt: skip


__all__ = ["Evidence", "Lexicon", "TabooProbes", "act_of", "kind_probes", "kinds_of", "probes_for"]
