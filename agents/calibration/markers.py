"""Voice markers: the phrases a brand says far more often than generic prose does.

Each candidate n-gram (``ngrams.py``) is scored with the log-odds ratio with an informative
Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words", §3.5): brand counts against
background-corpus counts, the prior proportional to the phrase's pooled frequency, the result
divided by its standard error. The z-score shrinks rare phrases towards zero (a phrase seen
twice proves little) and cancels phrases every writer uses ("let us know", "in the comments").

Then: a phrase must recur (minimum document frequency among the brand's examples), overlapping
candidates are merged into the longer phrase they form when that phrase really occurs
(``"here's what the"`` + ``"what the data says"`` → ``"here's what the data says"``), and a
phrase contained in another is dropped when the longer one covers most of its occurrences (or
the longer one is dropped when the shorter recurs much more widely).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import regex

from .background import MAX_ORDER, MIN_ORDER, BackgroundCorpus
from .lexicon import Lexicon, load_lexicon
from .ngrams import Gram, NgramCounts, contains, document_frequency, sentence_tokens


@dataclass(frozen=True)
class ScoredPhrase:
    phrase: str            # the most frequent surface form in the brand's examples
    tokens: Gram
    z: float               # log-odds z-score against the background
    document_frequency: int
    background_count: int


@dataclass
class VoiceMarkerScorer:
    """Configuration as plain fields (scikit-learn style); ``score`` is pure.

    ``prior_strength`` is α0, the prior's total pseudo-count per n-gram order, as a multiple
    of the pooled token count of that order: 1.0 gives the prior as much weight as the two
    corpora together, which keeps brand-only phrases from scoring on one or two uses.
    """

    min_order: int = MIN_ORDER
    max_order: int = MAX_ORDER
    prior_strength: float = 0.3
    min_z: float = 2.0
    min_document_frequency: int = 3
    min_document_share: float = 0.04
    merge_ratio: float = 0.75
    max_phrase_tokens: int = 8
    max_markers: int = 12

    def score(self, texts: list[str], background: BackgroundCorpus, lexicon: Lexicon | None = None) -> list[ScoredPhrase]:
        """The brand's distinctive recurring phrases, best first."""
        lex = lexicon or load_lexicon()
        documents = [sentence_tokens(t) for t in texts]
        brand = NgramCounts(documents, range(self.min_order, self.max_order + 1), lex)
        min_df = max(self.min_document_frequency, math.ceil(self.min_document_share * len(texts)))
        z_by_gram: dict[Gram, float] = {}
        for gram, df in brand.df.items():
            if df < min_df:
                continue
            z = self._z(gram, brand, background.ngrams)
            if z >= self.min_z:
                z_by_gram[gram] = z
        df_by_gram = {g: brand.df[g] for g in z_by_gram}
        merged = self._merge_overlaps(z_by_gram, df_by_gram, documents, min_df)
        kept = self._collapse_contained(merged, df_by_gram)
        ranked = sorted(kept, key=lambda g: (-z_by_gram[g], g))[: self.max_markers]
        phrases = []
        for gram in ranked:
            whole = self._extend_edges(gram, documents, lex)
            phrases.append(ScoredPhrase(
                surface_form(whole, texts), whole, round(z_by_gram[gram], 3), df_by_gram[gram],
                background.ngrams.count.get(gram, 0),
            ))  # fmt: skip
        return phrases

    def _extend_edges(self, gram: Gram, documents: list[list[list[str]]], lexicon: Lexicon) -> Gram:
        """The phrase with the function words the brand always says around it: candidates
        may not start or end with "the" or "in", but "In our experience" is what the brand
        writes. A stop word joins when it stands next to the phrase in most of its occurrences."""
        while 1 < len(gram) < self.max_phrase_tokens:  # a hashtag stands alone
            before: Counter[str] = Counter()
            after: Counter[str] = Counter()
            joins = lexicon.stopwords
            total = 0
            n = len(gram)
            for doc in documents:
                for sentence in doc:
                    for i in range(len(sentence) - n + 1):
                        if tuple(sentence[i : i + n]) == gram:
                            total += 1
                            before[sentence[i - 1] if i > 0 else ""] += 1
                            after[sentence[i + n] if i + n < len(sentence) else ""] += 1
            word_before, count_before = before.most_common(1)[0] if before else ("", 0)
            word_after, count_after = after.most_common(1)[0] if after else ("", 0)
            if word_before in joins and count_before >= self.merge_ratio * total and count_before >= count_after:
                gram = (word_before, *gram)
            elif word_after in joins and count_after >= self.merge_ratio * total:
                gram = (*gram, word_after)
            else:
                return gram
        return gram

    def _z(self, gram: Gram, brand: NgramCounts, background: NgramCounts) -> float:
        n = len(gram)
        y_b, y_g = brand.count[gram], background.count.get(gram, 0)
        n_b, n_g = brand.total_by_order[n], background.total_by_order[n]
        alpha0 = self.prior_strength * (n_b + n_g)
        alpha = alpha0 * (y_b + y_g) / (n_b + n_g)
        delta = math.log((y_b + alpha) / (n_b + alpha0 - y_b - alpha)) - math.log(
            (y_g + alpha) / (n_g + alpha0 - y_g - alpha)
        )
        return delta / math.sqrt(1.0 / (y_b + alpha) + 1.0 / (y_g + alpha))

    def _merge_overlaps(
        self, z: dict[Gram, float], df: dict[Gram, int], documents: list[list[list[str]]], min_df: int
    ) -> set[Gram]:
        """Join candidates that overlap end-to-start into the phrase they form, when that
        phrase occurs in most of the documents one of the parts occurs in."""
        grams = set(z)
        changed = True
        while changed:
            changed = False
            for a in sorted(grams):
                for b in sorted(grams):
                    if a == b or a not in grams or b not in grams or contains(a, b) or contains(b, a):
                        continue
                    joined = _join(a, b)
                    if joined is None or joined in grams or len(joined) > self.max_phrase_tokens:
                        continue
                    joined_df = document_frequency(joined, documents)
                    if joined_df >= max(min_df, self.merge_ratio * min(df[a], df[b])):
                        # A part that recurs well beyond the joined phrase stays a phrase of its own.
                        grams -= {part for part in (a, b) if joined_df >= self.merge_ratio * df[part]}
                        grams.add(joined)
                        z[joined] = max(z[a], z[b])
                        df[joined] = joined_df
                        changed = True
        return grams

    def _collapse_contained(self, grams: set[Gram], df: dict[Gram, int]) -> set[Gram]:
        """Decided on the whole set at once, so the order of candidates does not matter: a
        phrase inside a longer one that covers most of its occurrences goes; a longer phrase
        that covers only a few of a shorter one's occurrences goes."""
        dropped: set[Gram] = set()
        for short in grams:
            for long in grams:
                if long == short or not contains(long, short):
                    continue
                dropped.add(short if df[long] >= self.merge_ratio * df[short] else long)
        return grams - dropped


def _join(a: Gram, b: Gram) -> Gram | None:
    """``a`` extended by ``b`` when a suffix of ``a`` is a prefix of ``b`` (longest overlap)."""
    for k in range(min(len(a), len(b)) - 1, 0, -1):
        if a[-k:] == b[:k]:
            return a + b[k:]
    return None


def surface_form(gram: Gram, texts: list[str]) -> str:
    """How the brand writes the phrase most often (its casing and apostrophes)."""
    pattern = regex.compile(
        r"(?<![\p{L}\d])" + r"[\s,;:\-–—]{1,4}".join(regex.escape(t).replace("'", "['’]") for t in gram) + r"(?![\p{L}\d])",
        regex.IGNORECASE,
    )
    forms = Counter(m.group(0) for t in texts for m in pattern.finditer(t))
    if not forms:
        return " ".join(gram)
    return " ".join(forms.most_common(1)[0][0].split())
