"""The calibration engine: one call from a brand's examples to its next snapshot's drafts.

``Calibrator.calibrate(CalibrationInput) -> CalibrationResult`` is pure: it reads the shipped
data (background corpus, tone map, banned-word rules) given to its constructor and writes
nothing. Persisting the result (snapshot, runtime context, memory, event: all or nothing) is
``agents.brand_brain.calibration_store``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import regex

from storage.memory.store import MemoryDraft
from storage.objects import BrandBrainSnapshot, BrandRuntimeContext, DnaSource, MemorySourceType, VoiceMarker
from storage.objects.base import new_id, utcnow
from storage.objects.brain import MEMORY_TEXT_MAX

from .background import BackgroundCorpus, load_background
from .banned import BannedRules, banned_in_examples, merge_banned
from .features import aggregate, measure
from .importing import require_enough
from .lexicon import load_lexicon
from .markers import ScoredPhrase, VoiceMarkerScorer
from .models import (
    CalibrationEvent,
    CalibrationInput,
    CalibrationResult,
    DnaState,
    Example,
    MarkerEvidence,
)
from .tone import ToneMap

CHUNK_BREAK = regex.compile(r"(?<=[.!?…])\s+|\n+")
MAX_MARKER_WEIGHT = 10.0


@dataclass
class Calibrator:
    """Configuration as plain fields; the shipped data loads by default."""

    scorer: VoiceMarkerScorer = field(default_factory=VoiceMarkerScorer)
    tone_map: ToneMap = field(default_factory=ToneMap.load)
    banned_rules: BannedRules = field(default_factory=BannedRules.load)
    background: BackgroundCorpus = field(default_factory=load_background)
    memory_chunk_chars: int = MEMORY_TEXT_MAX

    async def calibrate(self, request: CalibrationInput) -> CalibrationResult:
        """Async like every engine operation (actors await it); the work itself is CPU-only."""
        return self.run(request)

    def run(self, request: CalibrationInput) -> CalibrationResult:
        require_enough(request.examples)
        current = request.snapshot
        texts = [e.text for e in request.examples]
        lexicon = load_lexicon()
        means, _ = aggregate([measure(t, lexicon) for t in texts])
        tone = self.tone_map.profile(means, self.background)
        phrases = self.scorer.score(texts, self.background, lexicon)

        kept_descriptors = [d for d in current.tone_descriptors if d not in self.tone_map.vocabulary]
        descriptors = list(dict.fromkeys([*tone.descriptors, *kept_descriptors]))
        markers = self._voice_markers(current.voice_markers, phrases)
        derived = [w for taboo in current.taboos for w in self.banned_rules.from_taboo(taboo)]
        banned = merge_banned(current.banned_words, request.banned_words, derived)

        snapshot = BrandBrainSnapshot.model_validate({
            **current.model_dump(), "id": new_id(), "version": current.version + 1, "created_at": utcnow(),
            "tone_profile": tone.scores, "tone_descriptors": descriptors,
            "voice_markers": [m.model_dump() for m in markers], "banned_words": [w.model_dump() for w in banned],
        })  # fmt: skip
        context = self._rematerialize(request.runtime_context, snapshot, tone.knobs)
        event_id = new_id()
        event = CalibrationEvent(
            id=event_id, trigger_type=request.trigger, example_count=len(request.examples),
            sources=sorted({e.source for e in request.examples}),
            before=dna_state(current, request.runtime_context), after=dna_state(snapshot, context),
            warnings=banned_in_examples(banned, list(request.examples)),
        )  # fmt: skip
        return CalibrationResult(
            snapshot=snapshot, runtime_context=context,
            memory_drafts=self._memory_drafts(current.brand_id, request.examples, event_id),
            tone=tone,
            markers=[MarkerEvidence(phrase=p.phrase, z=p.z, document_frequency=p.document_frequency,
                                    background_count=p.background_count) for p in phrases],
            event=event,
        )  # fmt: skip

    def _voice_markers(self, current: list[VoiceMarker], phrases: list[ScoredPhrase]) -> list[VoiceMarker]:
        """Markers set by hand stay; detected ones are replaced by this calibration's."""
        kept = [m for m in current if m.source is not DnaSource.DETECTED]
        taken = {m.phrase.casefold() for m in kept}
        detected = [
            VoiceMarker(phrase=p.phrase[:120], weight=round(min(MAX_MARKER_WEIGHT, p.z / self.scorer.min_z), 2),
                        source=DnaSource.DETECTED)
            for p in phrases
            if p.phrase.casefold() not in taken
        ]  # fmt: skip
        return kept + detected

    @staticmethod
    def _rematerialize(
        context: BrandRuntimeContext | None, snapshot: BrandBrainSnapshot, knobs: dict[str, float]
    ) -> BrandRuntimeContext | None:
        """The runtime context pointed at the new snapshot, every channel's measured tone knobs
        replaced (other knobs, length and risk modes untouched)."""
        if context is None:
            return None
        overrides = {
            channel: o.model_copy(update={"tone_bias": {**o.tone_bias, **knobs}})
            for channel, o in context.channel_overrides.items()
        }
        return BrandRuntimeContext.model_validate(
            {**context.model_dump(), "brand_brain_snapshot_id": snapshot.id, "channel_overrides": overrides}
        )

    def _memory_drafts(self, brand_id: UUID, examples: list[Example], event_id: UUID) -> list[MemoryDraft]:
        drafts = []
        for example in examples:
            for chunk in chunk_text(example.text, self.memory_chunk_chars):
                drafts.append(MemoryDraft(
                    brand_id=brand_id, source_type=MemorySourceType.IMPORTED_EXAMPLE, raw_text=chunk,
                    tags=["calibration", f"calibration:{event_id}", f"import:{example.source}", f"row:{example.row}"],
                ))  # fmt: skip
        return drafts


def chunk_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at sentence ends where possible,
    else at a space (a memory fragment is a short snippet: CO-07 says 50–400 characters)."""
    pieces: list[str] = []
    current = ""
    for sentence in (s.strip() for s in CHUNK_BREAK.split(text)):
        if not sentence:
            continue
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            head, sentence = sentence[:cut].strip(), sentence[cut:].strip()
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        joined = f"{current} {sentence}".strip()
        if len(joined) <= limit:
            current = joined
        else:
            pieces.append(current)
            current = sentence
    if current:
        pieces.append(current)
    return pieces


def dna_state(snapshot: BrandBrainSnapshot, context: BrandRuntimeContext | None) -> DnaState:
    return DnaState(
        snapshot_version=snapshot.version,
        tone_profile=dict(snapshot.tone_profile),
        tone_descriptors=list(snapshot.tone_descriptors),
        voice_markers=[m.phrase for m in snapshot.voice_markers],
        banned_words={w.word: str(w.severity) for w in snapshot.banned_words},
        tone_bias={str(c): dict(o.tone_bias) for c, o in (context.channel_overrides.items() if context else [])},
    )
