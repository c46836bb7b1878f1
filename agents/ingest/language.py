"""Language detection with lingua: one detector per process, built lazily under a lock.

Building the detector loads its models (seconds, ~100 MB), so it is built once and shared.
The languages it distinguishes are data (``data/languages.txt``, ISO 639-1 codes): restricting
the set keeps start-up short and avoids exotic confusions on short texts. A text too short or
too mixed to call gets ``und`` (ISO 639-2 "undetermined"), never a guess.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from lingua import LanguageDetector

UNDETERMINED = "und"
MIN_LETTERS = 12
"""Fewer letters than this and no language is named (a title or a handle is not evidence)."""

_detector: LanguageDetector | None = None
_lock = threading.Lock()


@lru_cache(maxsize=1)
def supported_languages() -> tuple[str, ...]:
    text = (resources.files("agents.ingest") / "data" / "languages.txt").read_text()
    return tuple(line.split("#")[0].strip().lower() for line in text.splitlines() if line.split("#")[0].strip())


def _build() -> LanguageDetector:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in supported_languages()]
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def detector() -> LanguageDetector:
    """The process's detector, built on first use."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = _build()
    return _detector


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text``'s language, or ``und`` when it cannot be told."""
    if sum(1 for ch in text[:4000] if ch.isalpha()) < MIN_LETTERS:
        return UNDETERMINED
    found = detector().detect_language_of(text[:4000])
    return UNDETERMINED if found is None else found.iso_code_639_1.name.lower()


def detect_languages(texts: list[str]) -> list[str]:
    """Languages of many texts (lingua's parallel batch call)."""
    short = [sum(1 for ch in t[:4000] if ch.isalpha()) < MIN_LETTERS for t in texts]
    found = detector().detect_languages_in_parallel_of([t[:4000] for t in texts])
    return [
        UNDETERMINED if is_short or lang is None else lang.iso_code_639_1.name.lower()
        for is_short, lang in zip(short, found, strict=True)
    ]
