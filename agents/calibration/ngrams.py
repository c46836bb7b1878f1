"""Candidate phrases: word n-grams within sentences, filtered to ones a writer could reuse.

Order 1 holds hashtags only (a single word is a topic, a recurring hashtag is a habit); their
rate is per word token. An n-gram never crosses a sentence boundary, never holds a number (``"fell 38%"`` is a fact,
not a voice), never consists of stop words only, and never starts or ends with an article,
conjunction or preposition (``"of the data"`` is a fragment, ``"the data says"`` a phrase).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from .lexicon import Lexicon
from .text import is_hashtag, is_number, sentences, words

Gram = tuple[str, ...]


def sentence_tokens(text: str) -> list[list[str]]:
    """The word tokens of each sentence of ``text``."""
    return [tokens for s in sentences(text) if (tokens := words(s))]


def is_candidate(gram: Gram, lexicon: Lexicon) -> bool:
    if len(gram) == 1:
        return is_hashtag(gram[0])
    if any(is_hashtag(t) for t in gram):
        return False
    if gram[0] in lexicon.edge_stopwords or gram[-1] in lexicon.edge_stopwords:
        return False
    if any(is_number(t) for t in gram):
        return False
    return not all(t in lexicon.stopwords for t in gram)


def grams_of(token_lists: Iterable[list[str]], orders: range, lexicon: Lexicon) -> Iterator[Gram]:
    for tokens in token_lists:
        for n in orders:
            for i in range(len(tokens) - n + 1):
                gram = tuple(tokens[i : i + n])
                if is_candidate(gram, lexicon):
                    yield gram


class NgramCounts:
    """Occurrences and document frequencies of candidate n-grams over a set of documents."""

    def __init__(self, documents: Iterable[list[list[str]]], orders: range, lexicon: Lexicon) -> None:
        self.orders = orders
        self.count: Counter[Gram] = Counter()
        self.df: Counter[Gram] = Counter()
        self.documents = 0
        words_total = 0
        for doc in documents:
            self.documents += 1
            words_total += sum(len(s) for s in doc)
            grams = list(grams_of(doc, orders, lexicon))
            self.count.update(grams)
            self.df.update(set(grams))
        self.total_by_order: Counter[int] = Counter()
        for gram, c in self.count.items():
            self.total_by_order[len(gram)] += c
        if 1 in orders:  # hashtags are rare among words, not among hashtags
            self.total_by_order[1] = words_total


def contains(haystack: Gram, needle: Gram) -> bool:
    """``needle`` occurs contiguously in ``haystack``."""
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def document_frequency(gram: Gram, documents: list[list[list[str]]]) -> int:
    """In how many documents ``gram`` occurs inside one sentence (any length, no filters)."""
    return sum(any(contains(tuple(s), gram) for s in doc) for doc in documents)
