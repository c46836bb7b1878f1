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
* **support**: each half must also stand on its own: the pillar match m* and the context x
  are calibrated the same way (z_m, z_x against the background) and a document whose weaker
  half is under ``COMPONENT_FLOOR_Z`` makes no card, however strong the other half. A
  geometric mean lets a very high pillar match pay for a context that is merely ordinary:
  with a thin profile (one pillar, a one-line positioning) a climate "attribution" study
  matches the pillar's word so well that r crosses the threshold while its context is no
  closer to the brand than everyday text (z_x near 1). The floor is two standard deviations,
  the conventional "clearly unusual" line, not a number fitted to documents.

Everything is vectorized over documents and brands: one matrix product of all passages with
all pillar anchors, a padded top-k, one product of document vectors with context directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

TOP_PASSAGES = 2
COMPONENT_FLOOR_Z = 2.0
"""Both halves of relevance (pillar match, context) at least this many background standard
deviations above ordinary text."""


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
    """((N + 1) x pillars) cosines of every passage with every pillar: the one big product,
    written straight into a buffer whose extra last row is -inf, where the padding of
    :attr:`PassageBatch.index` (-1) points (no copy of the product)."""
    pillars = np.asarray(pillars, dtype=np.float32)
    out = np.empty((len(batch.vectors) + 1, len(pillars)), dtype=np.float32)
    np.matmul(batch.vectors.astype(np.float32, copy=False), pillars.T, out=out[:-1])
    out[-1] = -np.inf
    return out


def _rows(sims: np.ndarray, batch: PassageBatch, position: int) -> np.ndarray:
    """Row ``position`` of every document's passages (-inf where a document has fewer)."""
    return sims[batch.index[:, position]]


def pillar_match(sims: np.ndarray, batch: PassageBatch, top: int = TOP_PASSAGES) -> np.ndarray:
    """(docs x pillars) mean of each document's ``top`` best passage cosines per pillar.

    A running top-k over the (few) passage positions, in place, so memory and time stay linear
    in docs x pillars; a document with fewer passages than ``top`` averages the ones it has.
    """
    shape = (len(batch.index), sims.shape[1])
    if top == 2:
        return _top2_mean(sims, batch, shape)
    best = [np.full(shape, -np.inf, dtype=sims.dtype) for _ in range(top)]
    high = np.empty(shape, dtype=sims.dtype)
    for position in range(batch.index.shape[1]):
        x = _rows(sims, batch, position)
        for level in best:  # insert x into the sorted best[0] >= best[1] >= ...
            np.maximum(level, x, out=high)
            np.minimum(level, x, out=x)
            level[...] = high
    total = np.zeros(shape, dtype=sims.dtype)
    for level in best:
        np.add(total, level, out=total, where=np.isfinite(level))
    counts = np.minimum((batch.index >= 0).sum(axis=1), top).clip(min=1)
    total /= counts[:, None].astype(sims.dtype)
    return total


def _top2_mean(sims: np.ndarray, batch: PassageBatch, shape: tuple[int, int]) -> np.ndarray:
    """The default ``top=2`` of :func:`pillar_match` with three array passes per position."""
    first = _rows(sims, batch, 0)
    second = np.full(shape, -np.inf, dtype=sims.dtype)
    low = np.empty(shape, dtype=sims.dtype)
    for position in range(1, batch.index.shape[1]):
        x = _rows(sims, batch, position)
        np.minimum(first, x, out=low)
        np.maximum(second, low, out=second)
        np.maximum(first, x, out=first)
    single = (batch.index >= 0).sum(axis=1) < 2
    if single.any():
        second[single] = first[single]  # a one-passage document averages its one passage
    first += second
    first *= 0.5
    return first


def best_passage(sims: np.ndarray, batch: PassageBatch) -> np.ndarray:
    """(docs x pillars) position of each document's best passage for each pillar."""
    stacked = np.stack([_rows(sims, batch, p) for p in range(batch.index.shape[1])], axis=1)
    return stacked.argmax(axis=1)


def combine(match: np.ndarray, context: np.ndarray) -> np.ndarray:
    """Relevance from pillar match (docs x K) and context cosine (docs,): geometric mean with the
    best pillar, both clipped at 0."""
    best = match.max(axis=1)
    return np.sqrt(np.clip(best, 0.0, None) * np.clip(context, 0.0, None))


@dataclass(frozen=True)
class Calibration:
    """Mean and spread of a brand's relevance to the background corpus, and of each half of it
    (best pillar match, context cosine) as (mean, std); without the halves there is no
    support gate (every document is supported)."""

    mean: float
    std: float
    pillar: tuple[float, float] | None = None
    context: tuple[float, float] | None = None

    def z(self, relevance: np.ndarray) -> np.ndarray:
        return (relevance - self.mean) / self.std

    def support(self, best_match: np.ndarray, context: np.ndarray) -> np.ndarray:
        """The weaker half in background standard deviations: min(z_m, z_x)."""
        if self.pillar is None or self.context is None:
            return np.full(np.shape(best_match), np.inf, dtype=np.float32)
        z_m = (best_match - self.pillar[0]) / self.pillar[1]
        z_x = (context - self.context[0]) / self.context[1]
        return np.minimum(z_m, z_x)


MIN_STD = 0.02
"""Floor of the background spread, so a brand whose anchors all miss the background entirely
does not divide by almost nothing."""


def calibrate(background: np.ndarray, pillars: np.ndarray, context: np.ndarray) -> Calibration:
    """Calibration of one brand from background vectors (each line a one-passage document)."""
    match = background @ pillars.T
    cosine = background @ context
    relevance = combine(match, cosine)
    best = match.max(axis=1)
    return Calibration(float(relevance.mean()), max(float(relevance.std()), MIN_STD),
                       pillar=(float(best.mean()), max(float(best.std()), MIN_STD)),
                       context=(float(cosine.mean()), max(float(cosine.std()), MIN_STD)))  # fmt: skip


@dataclass(frozen=True)
class BrandStack:
    """Many brands' anchors stacked for one vectorized pass: pillars (B x K_max x d, a brand
    with fewer pillars repeats its first, which changes no max), contexts (B x d), calibration
    means and spreads (B,), and those of the two halves (B,; a brand without them has mean
    -inf: always supported)."""

    pillars: np.ndarray
    contexts: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    pillar_means: np.ndarray | None = None
    pillar_stds: np.ndarray | None = None
    context_means: np.ndarray | None = None
    context_stds: np.ndarray | None = None

    @classmethod
    def build(cls, pillars: list[np.ndarray], contexts: list[np.ndarray], calibrations: list[Calibration]) -> BrandStack:
        k_max = max(len(p) for p in pillars)
        padded = np.stack([np.concatenate([p, np.repeat(p[:1], k_max - len(p), axis=0)]) for p in pillars])
        def half(which: str, i: int, default: float) -> np.ndarray:
            return np.array([getattr(c, which)[i] if getattr(c, which) else default for c in calibrations], np.float32)

        return cls(padded.astype(np.float32), np.stack(contexts).astype(np.float32),
                   np.array([c.mean for c in calibrations], np.float32), np.array([c.std for c in calibrations], np.float32),
                   half("pillar", 0, -np.inf), half("pillar", 1, 1.0), half("context", 0, -np.inf),
                   half("context", 1, 1.0))  # fmt: skip


def screen(batch: PassageBatch, brands: BrandStack, top: int = TOP_PASSAGES
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(z, match, support) for every document and brand: z and support (docs x B) as
    :func:`combine` and :meth:`Calibration.support` give them, for B brands at once with one
    product of all passages with all pillars; match (docs x B x K). The best pillar of a pair
    that passes is ``match[doc, brand].argmax()``, taken only for the few pairs that pass."""
    b, k, d = brands.pillars.shape
    sims = passage_scores(batch, brands.pillars.reshape(b * k, d))  # (N + 1) x (B*K)
    match = pillar_match(sims, batch, top).reshape(len(batch.index), b, k)
    pillar = match[:, :, 0].copy()
    for i in range(1, k):  # a max over a short last axis is faster as k - 1 whole-array maxima
        np.maximum(pillar, match[:, :, i], out=pillar)
    context = batch.doc_vectors @ brands.contexts.T  # docs x B
    support = _support(pillar, context, brands)
    np.clip(pillar, 0.0, None, out=pillar)
    np.clip(context, 0.0, None, out=context)
    relevance = np.sqrt(pillar * context, out=pillar)
    relevance -= brands.means
    relevance /= brands.stds
    return relevance, match, support


def _support(pillar: np.ndarray, context: np.ndarray, brands: BrandStack) -> np.ndarray:
    if brands.pillar_means is None or brands.context_means is None:
        return np.full(pillar.shape, np.inf, dtype=np.float32)
    z_m = (pillar - brands.pillar_means) / brands.pillar_stds
    z_x = (context - brands.context_means) / brands.context_stds
    return np.minimum(z_m, z_x, out=z_m)
