"""Deduplication: one document per story, however many feeds or pastes bring it.

Three keys, cheapest first:

1. the normalized URL (:func:`agents.ingest.urls.normalize_url`);
2. the content hash of the text's comparison form (same text, other typography);
3. near-identical text: MinHash signatures of word 3-shingles (character runs for scripts
   written without spaces) in an LSH index find candidates; a candidate merges when its
   estimated Jaccard similarity is high on its own, or moderate *and* the two texts' embeddings
   say they tell the same story. The embedding condition is what lets a light rewording merge
   (every changed word breaks three shingles) while two articles on the same topic, which
   share vocabulary but hardly any 3-shingles, never do.

Thresholds are fields of :class:`NearDuplicateIndex`; defaults in :class:`DedupeConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable, Hashable

import numpy as np
import regex
from datasketch import MinHash, MinHashLSH

from .text import comparison_form

_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
_TOKEN = regex.compile(rf"[{_CJK}]|[^\s{_CJK}]+")


def tokens(text: str) -> list[str]:
    """Words of the comparison form; each CJK character is a token of its own."""
    return _TOKEN.findall(comparison_form(text))


def shingles(text: str, k: int = 3) -> set[str]:
    words = tokens(text)
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


@dataclass(frozen=True)
class DedupeConfig:
    num_perm: int = 128
    shingle_size: int = 3
    candidate_jaccard: float = 0.15
    """LSH threshold: pairs below this estimated Jaccard are not even considered."""
    strong_jaccard: float = 0.5
    """At or above this, two texts are the same document whatever their embeddings say."""
    same_story_cosine: float = 0.9
    """Between candidate and strong Jaccard, texts merge only with this embedding cosine."""
    seed: int = 1


def signature(text: str, config: DedupeConfig = DedupeConfig()) -> MinHash:
    mh = MinHash(num_perm=config.num_perm, seed=config.seed)
    grams = shingles(text, config.shingle_size)
    if grams:
        mh.update_batch([g.encode("utf-8") for g in grams])
    return mh


@dataclass
class NearDuplicateIndex:
    """Documents seen so far, queryable for a near-identical one. Not thread-safe."""

    config: DedupeConfig = field(default_factory=DedupeConfig)
    _lsh: MinHashLSH = field(init=False)
    _signatures: dict[Hashable, MinHash] = field(init=False, default_factory=dict)
    _vectors: dict[Hashable, np.ndarray] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._lsh = MinHashLSH(threshold=self.config.candidate_jaccard, num_perm=self.config.num_perm)

    def __len__(self) -> int:
        return len(self._signatures)

    def add(self, key: Hashable, sig: MinHash, vector: np.ndarray | None = None) -> None:
        if key in self._signatures:
            return
        self._lsh.insert(key, sig)
        self._signatures[key] = sig
        if vector is not None:
            self._vectors[key] = np.asarray(vector, dtype=np.float32)

    def match(self, sig: MinHash, vector: np.ndarray | None = None,
              allowed: Callable[[Hashable], bool] | None = None) -> Hashable | None:  # fmt: skip
        """The key of the best near-duplicate of a text (among ``allowed`` keys), or None."""
        best_key, best = None, -1.0
        for key in self._lsh.query(sig):
            if allowed is not None and not allowed(key):
                continue
            jaccard = sig.jaccard(self._signatures[key])
            if jaccard < self.config.candidate_jaccard:
                continue
            if jaccard < self.config.strong_jaccard:
                other = self._vectors.get(key)
                if vector is None or other is None:
                    continue
                if float(np.dot(vector, other)) < self.config.same_story_cosine:
                    continue
            if jaccard > best:
                best_key, best = key, jaccard
        return best_key
