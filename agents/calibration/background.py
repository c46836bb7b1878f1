"""The background corpus: generic business and social-media prose the brand is compared with.

``data/background_corpus.jsonl`` holds a few hundred posts and paragraphs across industries
(SaaS, retail, food, finance, health, travel, education, nonprofits, B2B services ...), written
for this purpose. A phrase is a voice marker only if the brand uses it far more than this
corpus does; a tone score says where the brand's features sit in this corpus's distribution.
The corpus is read and counted once per process (it is data, never mutated).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .features import FEATURES, measure
from .lexicon import DATA_DIR, Lexicon, load_lexicon
from .ngrams import NgramCounts, sentence_tokens

DEFAULT_CORPUS = DATA_DIR / "background_corpus.jsonl"
MIN_ORDER = 1
MAX_ORDER = 4


@dataclass(frozen=True)
class BackgroundCorpus:
    texts: tuple[str, ...]
    feature_means: dict[str, float]
    feature_stds: dict[str, float]
    ngrams: NgramCounts

    @classmethod
    def from_texts(cls, texts: list[str], lexicon: Lexicon | None = None) -> BackgroundCorpus:
        lex = lexicon or load_lexicon()
        measured = [measure(t, lex) for t in texts]
        n = len(measured)
        means = {f: sum(m[f] for m in measured) / n for f in FEATURES}
        stds = {f: math.sqrt(sum((m[f] - means[f]) ** 2 for m in measured) / max(n - 1, 1)) for f in FEATURES}
        counts = NgramCounts((sentence_tokens(t) for t in texts), range(MIN_ORDER, MAX_ORDER + 1), lex)
        return cls(tuple(texts), means, stds, counts)


@cache
def load_background(path: Path = DEFAULT_CORPUS) -> BackgroundCorpus:
    """The shipped corpus (or another JSONL file of ``{"text": ...}`` lines), counted once."""
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return BackgroundCorpus.from_texts(texts)
