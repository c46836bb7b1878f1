"""The composer: the embedded default generator. No model; deterministic for a seed.

It writes each beat of the plan from the core argument's sentences (source facts, in the
source's own words, so nothing is invented), the brand's memory lines and voice markers, in
frames (``data/composer_en.json``) chosen by the channel's tone knobs and risk mode:

* **Claims.** Variant *k* of *n* opens on claim *k* of ``[thesis, *points]`` and takes every
  *n*-th of the remaining points for its body, so two variants of a plan say the argument
  through different facts; only when a variant runs out does it borrow the others' points.
  A lesson prefers the brand's own memory line nearest the argument. Claims holding a banned
  word (or a sentence a critic pointed at) are never used.
* **Frames.** Each beat kind has frames with tone tags (story/tactical, bold/calm), a least
  risk mode and needs (a figure, a list, an offer, a voice marker). The frames that fit the
  knobs best are kept, and variants rotate through them, so openings differ across variants;
  no frame is used twice in a post. A casual voice gets contractions in the frames' words.
* **Voice.** A voice marker that opens a sentence ("The data says") leads one beat; the
  brand's recurring hashtags close the post on social channels.
* **Length.** The post is measured as the platform counts it; when over the length mode's
  budget it is rebuilt tighter, in levels: shorter frames and shorter facts first; then only
  facts that leave room for the other beats, cut after their first clause; then (``TIGHT``)
  no voice marker or hashtag, the shortest fresh lines; last, one frame per beat. The least
  compressed build within the budget wins. An ``over_length`` critique shrinks the budget and
  brings the limit the gate applied; the split of facts between variants never changes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from agents.gates import measure
from storage.objects import Channel

from .argument import opens_with_anaphor
from .generator import join_beats
from .grounding import figures
from .models import BeatText, Draft, GenerationRequest
from .planning import family_of, kind_of, risk_allows
from .text import as_sentence, compress, first_clause, load_json, near_lines, words

SOCIAL = {Channel.X, Channel.MASTODON, Channel.BLUESKY, Channel.LINKEDIN}
LEVELS = 6
TIGHT = 3
"""From this level on: shortest lines, no voice marker, no hashtags; the last two levels keep one frame per beat."""
MINIMAL = 5
"""The last level: every fact cut to its longest head that fits its share of the budget
(:func:`.text.compress`), so a short post (X, Bluesky, a small instance) still says one fact
per beat in the source's own words."""
EXCLUDING_CODES = ("taboo", "ungrounded", "banned_word")
CLAIM_SHARE = 0.42
"""In a tight build, a claim takes at most this share of the budget (a hook, a fact, a CTA)."""


@dataclass(frozen=True)
class Frame:
    kind: str
    text: str
    needs: frozenset[str]
    tags: frozenset[str]
    risk: str
    short: bool
    casual: bool


@dataclass(frozen=True)
class Phrasing:
    frames: dict[str, tuple[Frame, ...]]
    bullets: tuple[str, ...]
    counts: tuple[str, ...]
    contractions: dict[str, str]
    casual_below: float
    marker_max_words: int
    hashtags_max: int
    tone_top_share: float

    @classmethod
    def load(cls, language: str = "en") -> Phrasing:
        data = load_json(f"composer_{language}.json")
        frames = {
            kind: tuple(Frame(kind, f["text"], frozenset(f.get("needs", [])), frozenset(f.get("tags", [])),
                              f.get("risk", "safe"), bool(f.get("short")), bool(f.get("casual")))
                        for f in entries)
            for kind, entries in data["frames"].items()
        }
        return cls(frames, tuple(data["bullets"]), tuple(data["counts"]), dict(data["contractions"]),
                   data["casual_below"], data["marker_max_words"], data["hashtags_max"], data["tone_top_share"])  # fmt: skip


def _has_figure(text: str) -> bool:
    return bool(figures(text))


def _lower_first(name: str) -> str:
    """``Marketing attribution`` → ``marketing attribution``; an acronym or brand-cased first
    word (``CRM hygiene``, ``iPhone``) is kept."""
    first, _, rest = name.partition(" ")
    if first[:1].isupper() and first[1:] == first[1:].lower() and not any(ch.isdigit() for ch in first):
        first = first[:1].lower() + first[1:]
    return f"{first} {rest}".strip()


def _with_article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


@dataclass
class _Post:
    """One post being built: what is used, what is left."""

    request: GenerationRequest
    phrasing: Phrasing
    level: int
    own: list[str]
    shared: list[str]
    lessons: list[str]
    markers: list[str]
    budget: int = 0
    reserve: list[str] = field(default_factory=list)
    used_claims: set[str] = field(default_factory=set)
    used_frames: set[str] = field(default_factory=set)
    marker_used: bool = False

    def _fresh(self, claim: str) -> bool:
        return " ".join(words(claim)) not in self.used_claims

    def _use(self, claim: str) -> str:
        self.used_claims.add(" ".join(words(claim)))
        return claim

    def take(self, kind: str) -> str | None:
        """The next fresh claim for a beat: a lesson prefers the brand's own lines, a reframe
        the variant's facts then the brand's lines, every other beat the source's facts."""
        if self.level >= TIGHT:  # the tight builds: the shortest fresh line of any kind
            for queue in (self.own, self.lessons, self.shared[:-1] if len(self.shared) > 1 else []):
                mine = sorted((c for c in queue if self._fresh(c)), key=len)
                if mine and len(mine[0]) <= self.budget * CLAIM_SHARE:
                    return self._use(mine[0])  # the variant's own facts keep variants apart
            fresh = [c for q in (self.own, self.shared, self.lessons, self.reserve) for c in q if self._fresh(c)]
            return self._use(min(fresh, key=len)) if fresh else None
        if kind == "lesson":
            queues = [self.lessons, self.own, self.shared]
        elif kind == "reframe":
            queues = [self.own, self.lessons, self.shared]
        else:
            queues = [self.own, self.shared, self.lessons]
        for queue in [*queues, self.reserve]:  # the reserve: any line of the brand or the argument
            while queue:
                claim = queue.pop(0)
                if self._fresh(claim):
                    return self._use(claim)
        return None


class Composer:
    """The deterministic generator (``generate`` is the async face of :meth:`compose`)."""

    name = "composer"

    def __init__(self, language: str = "en", shrink: float | None = None) -> None:
        self.phrasing = Phrasing.load(language)
        self.shrink = shrink if shrink is not None else load_json("lengths.json")["shrink"]

    async def generate(self, request: GenerationRequest) -> Draft:
        return self.compose(request)

    # --- the whole post -----------------------------------------------------------------

    def budget(self, request: GenerationRequest) -> int:
        over = [i for i in request.instructions if i.code == "over_length"]
        budget = request.budget * self.shrink ** len(over)
        hard = request.limit if not (request.channel is Channel.X and request.thread) else request.budget
        told = [i.limit * self.shrink ** (n // 2) for n, i in enumerate(over) if i.limit]  # the limit the gate applied
        return max(40, int(min([budget, hard, *told])))

    def compose(self, request: GenerationRequest) -> Draft:
        """The least compressed build within the budget; else the least compressed within the
        channel's limit; else the tightest (the platform gate then says why)."""
        budget = self.budget(request)
        builds = []
        for level in range(LEVELS):
            beats = self._build(request, level, budget)
            length = measure(request.channel, join_beats(beats), request.limit).length
            builds.append((beats, length))
            if length <= budget:
                break
        hard = budget if request.channel is Channel.X and request.thread else request.limit
        if any(i.code == "over_length" for i in request.instructions):
            hard = budget  # told it was too long: never hand back a longer build than asked
        shortest = min(builds, key=lambda b: b[1])[0]
        beats = next((b for b, n in builds if n <= budget), None) or next((b for b, n in builds if n <= hard), shortest)
        return Draft(beats=[BeatText(beat=b, text=t) for b, t in beats], body=join_beats(beats), generator=self.name)

    # --- claims -------------------------------------------------------------------------

    def _excluded(self, request: GenerationRequest) -> tuple[list[tuple[str, ...]], list[str]]:
        banned = [tuple(words(w)) for w in request.avoid if words(w)]
        banned += [tuple(words(i.evidence)) for i in request.instructions
                   if i.code.startswith("banned_word") and i.evidence and words(i.evidence)]  # fmt: skip
        texts = [" ".join(words(i.evidence)) for i in request.instructions
                 if i.evidence and i.code.startswith(EXCLUDING_CODES[:2])]  # fmt: skip
        return banned, [t for t in texts if t]

    @staticmethod
    def _clean(text: str, banned: list[tuple[str, ...]], pointed: list[str]) -> bool:
        tokens = words(text)
        joined = " ".join(tokens)
        for needle in banned:
            n = len(needle)
            if any(tuple(tokens[i : i + n]) == needle for i in range(len(tokens) - n + 1)):
                return False
        return not any(p in joined or joined in p for p in pointed)

    def _claims(self, request: GenerationRequest, level: int, budget: int) -> tuple[str, list[str], list[str], list[str]]:
        banned, pointed = self._excluded(request)

        def shape(claim: str) -> str:
            claim = as_sentence(claim)
            if level >= MINIMAL:
                return compress(claim, int(budget * CLAIM_SHARE)) or claim
            if level < 2:
                return claim
            return first_clause(claim) or (first_clause(claim, loose=True) if level >= TIGHT else None) or claim

        # The split between variants is made once, on the full claims, whatever the level, so
        # a tight build of one variant never takes another variant's facts.
        pool = [as_sentence(c) for c in [request.thesis, *request.points] if self._clean(c, banned, pointed)]
        pool = pool or [as_sentence(request.thesis)]
        n, k = max(1, request.variants), request.variant_index
        said = [" ".join(words(i.evidence)) for i in request.instructions if i.code == "near_duplicate" and i.evidence]
        if said:  # a near-duplicate: the facts the other variant did not use come first
            pool = sorted(pool, key=lambda c: any(" ".join(words(c)) in t for t in said))
        # A post opens on a claim that stands alone, not one pointing back ("The reason is...").
        pool = [c for c in pool if not opens_with_anaphor(c)] + [c for c in pool if opens_with_anaphor(c)]
        leads = pool[: min(n, len(pool))]
        lead = leads[k % len(leads)]
        remaining = pool[len(leads):]
        own = remaining[k % n :: n] if remaining else []
        shared = [c for c in remaining if c not in own]
        shared = shared[k % len(shared):] + shared[: k % len(shared)] if shared else []
        shared += [c for c in leads if c != lead]  # another variant's opening: borrowed last
        lines = [as_sentence(m) for m in near_lines(request.memory, [request.thesis, *request.points])
                 if self._clean(m, banned, pointed)]  # fmt: skip
        lessons = lines[k % n :: n]
        if any(i.code == "weak_hook" for i in request.instructions) and not _has_figure(lead):
            # a weak first line: open on a figure the variant has (its own first, then borrowed)
            figured = next((c for c in own + shared if _has_figure(c)), None)
            if figured is not None:
                own = [c for c in own if c != figured] + [lead]
                shared = [c for c in shared if c != figured]
                lead = figured
        lead, own, shared = shape(lead), [shape(c) for c in own], [shape(c) for c in shared]
        if level >= 1:
            own.sort(key=len)
            shared.sort(key=len)
        if level >= 2:
            cap = budget * CLAIM_SHARE
            lessons = [m for m in lessons if len(m) <= cap]
            if len(lead) > cap and own and min(map(len, own)) < len(lead):
                shorter = min(own, key=len)  # open on the variant's own shortest fact instead
                own = [c for c in own if c != shorter] + [lead]
                lead = shorter
        return lead, own, shared, lessons

    # --- frames -------------------------------------------------------------------------

    def _casual(self, request: GenerationRequest) -> bool:
        formality = request.tone_profile.get("formality")
        return "casual" in request.tone_descriptors or (formality is not None and formality < self.phrasing.casual_below)

    def _fit(self, frame: Frame, knobs: dict[str, float]) -> float:
        story, bold = knobs.get("story_vs_tactical", 0.5), knobs.get("aggressive_vs_safe", 0.5)
        value = {"story": story, "tactical": 1 - story, "bold": bold, "calm": 1 - bold}
        scored = [value[t] for t in frame.tags if t in value]
        return sum(scored) / len(scored) if scored else 0.5

    def _pick(self, post: _Post, kind: str, have: set[str]) -> Frame:
        r = post.request
        banned, _ = self._excluded(r)
        casual = self._casual(r)
        frames = [f for f in self.phrasing.frames.get(kind, ()) if f.needs <= have and risk_allows(r.knobs.risk_mode, f.risk)
                  and (casual or not f.casual) and f.text not in post.used_frames
                  and self._clean(f.text.replace("{", "").replace("}", ""), banned, [])]  # fmt: skip
        _, pointed = self._excluded(r)
        if pointed:  # a frame whose own words a critic pointed at (a taboo sentence) is not used again
            frames = [f for f in frames if not self._pointed(self._fill(post, f, "", 0, dry=True), pointed)]
        if not frames:
            frames = [Frame(kind, "{claim}", frozenset(), frozenset(), "safe", True, False)]
        if family_of(kind) == "hook" and any(i.code == "weak_hook" for i in r.instructions):
            frames = [f for f in frames if "strong" in f.tags] or frames
            if "figure_lead" not in have:
                frames = [f for f in frames if "question" in f.tags] or frames
        if "marker" in have and any("marker" in f.needs for f in frames):
            frames = [f for f in frames if "marker" in f.needs]  # the brand's own words first
        ranked = sorted(frames, key=lambda f: -self._fit(f, r.knobs.tone_bias))
        top = ranked[: max(min(2, len(ranked)), math.ceil(len(ranked) * self.phrasing.tone_top_share))]
        near_dup = sum(1 for i in r.instructions if i.code.startswith("near_duplicate"))
        offset = random.Random(f"{r.seed}:{kind}").randrange(len(top))
        start = (offset + r.variant_index + near_dup * (r.attempt - 1)) % len(top)
        order = top[start:] + top[:start]  # variants rotate through the same frames
        if post.level >= MINIMAL:  # the fact carries the beat: a frame around it, the shortest
            carrying = [f for f in frames if "{claim}" in f.text] or frames
            frame = min(carrying, key=lambda f: (len(f.text), f.text))
        elif post.level >= LEVELS - 2:
            frame = min(frames, key=lambda f: len(f.text))
        elif post.level >= 1:  # tighter: the variant's next frame that is no longer than most
            lengths = sorted(len(f.text) for f in frames)
            short = lengths[len(lengths) // 2] if post.level < TIGHT else lengths[min(1, len(lengths) - 1)]
            frame = next((f for f in order if len(f.text) <= short), min(frames, key=lambda f: len(f.text)))
        else:
            frame = order[0]
        post.used_frames.add(frame.text)
        return frame

    @staticmethod
    def _pointed(static: str, pointed: list[str]) -> bool:
        joined = " ".join(words(static))
        return len(joined.split()) >= 3 and any(joined in p for p in pointed)

    def _fill(self, post: _Post, frame: Frame, claim: str | None, count: int, *, dry: bool = False) -> str:
        r = post.request
        text = frame.text
        if self._casual(r):
            for long, short in self.phrasing.contractions.items():
                text = text.replace(long, short)
        marker = ""
        if "{marker}" in text and post.markers:
            marker = post.markers[r.variant_index % len(post.markers)]
            post.marker_used = post.marker_used or not dry
        offer = _lower_first(r.offers[r.variant_index % len(r.offers)]) if r.offers else ""
        values = {"{claim}": claim or "", "{topic}": _lower_first(r.topic), "{a_persona}": _with_article(_lower_first(r.persona)),
                  "{offer}": offer, "{Count}": self.phrasing.counts[min(count, len(self.phrasing.counts) - 1)],
                  "{marker}": marker}  # fmt: skip
        for slot, value in values.items():
            text = text.replace(slot, value)
        return " ".join(text.split())

    # --- beats --------------------------------------------------------------------------

    def _build(self, r: GenerationRequest, level: int, budget: int) -> list[tuple[str, str]]:
        lead, own, shared, lessons = self._claims(r, level, budget)
        banned, _ = self._excluded(r)
        markers = [m for m in r.voice_markers if m[:1].isupper() and not m.startswith("#") and self._clean(m, banned, [])
                   and len(m.split()) <= self.phrasing.marker_max_words] if level < TIGHT else []  # fmt: skip
        banned, pointed = self._excluded(r)
        reserve = [as_sentence(m) for m in [*r.memory, r.thesis, *r.points] if self._clean(m, banned, pointed)]
        post = _Post(r, self.phrasing, level, own, shared, lessons, markers, budget, reserve)
        count = sum(1 for b in r.beats if kind_of(b) == "list_item")
        bullet = self.phrasing.bullets[(r.variant_index + r.seed) % len(self.phrasing.bullets)]
        out: list[tuple[str, str]] = []
        lead_pending = True
        for beat in r.beats:
            kind, family = kind_of(beat), family_of(beat)
            have = {"offer"} if r.offers else set()
            if count >= 2:
                have.add("list")
            if markers and not post.marker_used:
                have.add("marker")
            if family == "hook":
                if _has_figure(lead):
                    have.add("figure_lead")
                frame = self._pick(post, kind, have - {"marker"})
                if "{claim}" in frame.text:
                    lead_pending = False
                    post._use(lead)
                out.append((beat, self._fill(post, frame, lead, count)))
                continue
            if family == "cta":
                frame = self._pick(post, kind, have - {"marker"})
                out.append((beat, self._fill(post, frame, None, count)))
                continue
            if lead_pending:
                claim, lead_pending = post._use(lead), False
            else:
                claim = post.take(kind)
            if claim is None:
                continue
            if family == "list":
                out.append((beat, f"{bullet} {claim}"))
                continue
            if _has_figure(claim):
                have.add("figure_claim")
            if kind != "lesson":
                have.discard("marker")
            frame = self._pick(post, kind, have)
            out.append((beat, self._fill(post, frame, claim, count)))
        hashtags = [m for m in r.voice_markers if m.startswith("#") and self._clean(m, banned, [])]
        hashtags = hashtags[: self.phrasing.hashtags_max]
        if hashtags and level < TIGHT and r.channel in SOCIAL and out:
            last_beat, last_text = out[-1]
            out[-1] = (last_beat, f"{last_text}\n\n{' '.join(hashtags)}")
        return out


__all__ = ["Composer", "Frame", "Phrasing"]
