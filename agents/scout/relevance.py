"""Brand relevance of documents: on the pillar *and* in the brand's world, calibrated.

For a document with passage vectors P (n x d) and a brand with pillar anchors A (k x d) and
context direction c (all unit vectors):

* **pillar match** m_i = mean of the top ``top_passages`` cosines between the passages and
  pillar i. A genuine article stays on its topic for several passages; a trap that borrows a
  pillar's words does so in one sentence, and one passage is not enough (plain max would be);
* **context** x = cosine between the document vector and c. An article in a different world
  that happens to use the pillar's words (climate "attribution", wildfire "incident
  response") is far from the brand's positioning, personas and memory;
* **relevance** r = sqrt(max(m*, 0) * max(x, 0)) with m* the best pillar: a geometric mean,
  so both must be high. Same-domain articles on another topic (an influencer contract for an
  analytics brand) share the context but not the pillar; vocabulary traps share the pillar's
  words but not the context. The pillar is the argmax of m (context is common to all).
* **calibration**: r is expressed in standard deviations above the brand's relevance to a
  shipped background corpus of ordinary text (``data/background.txt``): z = (r - mu_b) /
  sigma_b. Brands with broad or narrow pillars, long or short descriptions, land on one
  scale, and the card threshold is a number of standard deviations, not a cosine.

Everything is vectorized over documents and brands: one matrix product of all passages with
all pillar anchors, a padded top-k, one product of document vectors with context directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

TOP_PASSAGES = 2


@lru_cache(maxsize=1)
def background_texts() -> tuple[str, ...]:
    text = (resources.files("agents.scout") / "data" / "background.txt").read_text()
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@dataclass(frozen=True)
class PassageBatch:
    """Documents' passages packed for vectorized scoring.

    ``vectors`` (N x d) holds every passage of every document; ``index`` (docs x p_max) points
    into it, -1 where a document has fewer passages; ``doc_vectors`` (docs x d).
    """

    vectors: np.ndarray
    index: np.ndarray
    doc_vectors: np.ndarray

    @classmethod
    def pack(cls, passage_vectors: list[np.ndarray], doc_vectors: np.ndarray | None = None) -> PassageBatch:
        counts = [len(p) for p in passage_vectors]
        p_max = max(counts) if counts else 1
        index = np.full((len(counts), p_max), -1, dtype=np.int64)
        offset = 0
        for row, count in enumerate(counts):
            index[row, :count] = np.arange(offset, offset + count)
            offset += count
        stacked = np.concatenate(passage_vectors).astype(np.float32) if counts else np.zeros((0, 1), np.float32)
        if doc_vectors is None:
            means = np.stack([p.mean(axis=0) for p in passage_vectors]) if counts else np.zeros((0, 1), np.float32)
            doc_vectors = means / np.linalg.norm(means, axis=1, keepdims=True)
        return cls(stacked, index, np.asarray(doc_vectors, dtype=np.float32))


def passage_scores(batch: PassageBatch, pillars: np.ndarray) -> np.ndarray:
    """(docs x p_max x pillars) cosines of every passage with every pillar, -inf for padding."""
    sims = batch.vectors @ pillars.T  # N x K: the one big product
    padded = np.concatenate([sims, np.full((1, sims.shape[1]), -np.inf, dtype=sims.dtype)])
    return padded[batch.index]  # index -1 picks the -inf row


def pillar_match(per_doc: np.ndarray, batch: PassageBatch, top: int = TOP_PASSAGES) -> np.ndarray:
    """(docs x pillars) mean of each document's ``top`` best passage cosines per pillar."""
    k = min(top, per_doc.shape[1])
    if k == 1:
        best = per_doc.max(axis=1, keepdims=True)
    else:  # the k largest along the passage axis, unordered (partition is linear time)
        best = -np.partition(-per_doc, k - 1, axis=1)[:, :k, :]
    counts = (batch.index >= 0).sum(axis=1).clip(min=1)
    usable = np.minimum(counts, k)[:, None]  # a one-passage doc averages its one passage
    finite = np.where(np.isfinite(best), best, 0.0).sum(axis=1)
    return finite / usable


def combine(match: np.ndarray, context: np.ndarray) -> np.ndarray:
    """Relevance from pillar match (docs x K) and context cosine (docs,): geometric mean with the
    best pillar, both clipped at 0."""
    best = match.max(axis=1)
    return np.sqrt(np.clip(best, 0.0, None) * np.clip(context, 0.0, None))


@dataclass(frozen=True)
class Calibration:
    """Mean and spread of a brand's relevance to the background corpus."""

    mean: float
    std: float

    def z(self, relevance: np.ndarray) -> np.ndarray:
        return (relevance - self.mean) / self.std


MIN_STD = 0.02
"""Floor of the background spread, so a brand whose anchors all miss the background entirely
does not divide by almost nothing."""


def calibrate(background: np.ndarray, pillars: np.ndarray, context: np.ndarray) -> Calibration:
    """Calibration of one brand from background vectors (each line a one-passage document)."""
    match = background @ pillars.T
    relevance = combine(match, background @ context)
    return Calibration(float(relevance.mean()), max(float(relevance.std()), MIN_STD))
