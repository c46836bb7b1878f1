"""Opportunity scout engine: ingestion of raw items and scouting of documents for a brand.

Ops (each takes one input model, returns one result model):

* ``ingest`` - :class:`agents.ingest.models.IngestInput` -> ``IngestResult``: raw items
  cleaned, language-tagged, deduplicated and embedded (passages), ready to store;
* ``scout`` - :class:`agents.scout.models.ScoutInput` -> ``ScoutResult``: the brand's new and
  updated OpportunityCards from prepared documents;
* ``screen`` - :class:`agents.scout.models.ScreenInput` -> ``ScreenResult``: many brands
  against the same documents in one vectorized pass (the pairs worth a full ``scout``);
* ``extract_page`` - :class:`agents.ingest.pages.FetchedPage` -> ``RawItem``: a fetched page's
  main text (trafilatura, in a worker thread), for a brand agent writing about a URL;
* ``calibrate`` - :class:`agents.calibration.models.CalibrationInput` -> ``CalibrationResult``:
  a brand's voice from its example posts (:mod:`agents.calibration`; CPU only, no model), so a
  brand agent calibrates in the pool, never in an API replica.

The engine holds the process's embedder and two caches: the background corpus vectors (one
model call per process) and brand anchors by content (a brand's pillars are embedded once,
not per call). Both caches are pure functions of their keys, so pool members stay
interchangeable.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from agents.calibration import Calibrator
from agents.calibration.models import CalibrationInput, CalibrationResult
from agents.ingest.models import IngestInput, IngestResult, RawItem
from agents.ingest.pages import FetchedPage, extract_page
from agents.ingest.pipeline import Ingestor
from agents.scout.models import BrandProfile, ScoutInput, ScoutResult, ScreenHit, ScreenInput, ScreenResult
from agents.scout.profile import AnchorCache, BrandAnchors, anchor_texts, anchors_from_vectors
from agents.scout.relevance import BrandStack, Calibration, PassageBatch, background_texts, calibrate, screen
from agents.scout.scout import Scout

from .base import EngineModel

if TYPE_CHECKING:  # pragma: no cover - importing the memory package pulls in chromadb
    from storage.memory.embeddings import TextEmbedder


class OpportunityScout:
    """Finds reasons for a brand to post: documents prepared from raw items, screened and scored
    against the brand's pillars, context and personas (:mod:`agents.scout`)."""

    OPS: ClassVar[dict[str, type[EngineModel]]] = {
        "ingest": IngestInput,  # type: ignore[dict-item]
        "scout": ScoutInput,  # type: ignore[dict-item]
        "screen": ScreenInput,  # type: ignore[dict-item]
        "calibrate": CalibrationInput,  # type: ignore[dict-item]
        "extract_page": FetchedPage,  # type: ignore[dict-item]
    }

    def __init__(self, embedder: TextEmbedder, *, scout: Scout | None = None, ingestor: Ingestor | None = None,
                 anchor_cache_size: int = 4096) -> None:  # fmt: skip
        self.embedder = embedder
        self.method = scout or Scout()
        self.ingestor = ingestor or Ingestor(embedder)
        self._anchors = AnchorCache(anchor_cache_size)
        self._calibrations: dict[str, Calibration] = {}
        self._background: np.ndarray | None = None
        self._background_lock = asyncio.Lock()
        self._calibrator: Calibrator | None = None

    async def ingest(self, payload: IngestInput) -> IngestResult:
        """Raw items to documents (see :mod:`agents.ingest.pipeline`)."""
        return await self.ingestor.ingest(payload)

    async def extract_page(self, payload: FetchedPage) -> RawItem:
        """A fetched page's main text; ``Invalid`` (field ``body``) when it is not HTML or holds
        none. Parsing is CPU work: a worker thread keeps the member's event loop answering."""
        return await asyncio.to_thread(extract_page, payload.body, payload.url, content_type=payload.content_type,
                                       charset=payload.charset)  # fmt: skip

    async def _background_vectors(self) -> np.ndarray:
        if self._background is None:
            async with self._background_lock:
                if self._background is None:
                    vectors = await self.embedder.aembed(list(background_texts()))
                    self._background = np.asarray(vectors, dtype=np.float32)
        return self._background

    async def brand_anchors(self, brand: BrandProfile) -> tuple[BrandAnchors, Calibration]:
        """The brand's anchor vectors and calibration, embedded once per distinct content."""
        texts = anchor_texts(brand)
        key = AnchorCache.key(self.embedder.model_name, texts)
        anchors = self._anchors.get(key)
        if anchors is None:
            pillars, context, personas = texts
            vectors = np.asarray(await self.embedder.aembed([*pillars, *context, *personas]), dtype=np.float32)
            k, c = len(pillars), len(context)
            anchors = anchors_from_vectors(vectors[:k], vectors[k : k + c], vectors[k + c :])
            self._anchors.put(key, anchors)
        calibration = self._calibrations.get(key)
        if calibration is None:
            calibration = calibrate(await self._background_vectors(), anchors.pillars, anchors.context)
            self._calibrations[key] = calibration
            if len(self._calibrations) > self._anchors.maxsize:
                self._calibrations.pop(next(iter(self._calibrations)))
        return anchors, calibration

    async def screen(self, payload: ScreenInput) -> ScreenResult:
        """Every brand against the same documents in one vectorized pass (language, pillar
        relevance and threshold only): the pairs worth a full :meth:`scout`."""
        prepared = [await self.brand_anchors(b) for b in payload.brands]
        if not payload.docs:
            return ScreenResult(hits=[ScreenHit(brand_id=b.brand_id, doc_ids=[]) for b in payload.brands])
        batch = PassageBatch.pack(
            [np.asarray(d.passage_vectors, dtype=np.float32) for d in payload.docs],
            np.asarray([d.vector for d in payload.docs], dtype=np.float32),
        )
        stack = BrandStack.build([a.pillars for a, _ in prepared], [a.context for a, _ in prepared],
                                 [c for _, c in prepared])  # fmt: skip
        z, _, support = screen(batch, stack, self.method.top_passages)
        hits = []
        for column, brand in enumerate(payload.brands):
            languages = {lang.split("-")[0].lower() for lang in brand.languages}
            passing = [i for i in np.argsort(-z[:, column], kind="stable") if z[i, column] >= self.method.threshold_z
                       and support[i, column] >= self.method.component_floor_z
                       and payload.docs[i].language.split("-")[0].lower() in languages]  # fmt: skip
            hits.append(ScreenHit(brand_id=brand.brand_id, doc_ids=[payload.docs[i].id for i in passing]))
        return ScreenResult(hits=hits)

    async def calibrate(self, payload: CalibrationInput) -> CalibrationResult:
        """The brand's next snapshot drafts from its examples (the shipped corpora load once)."""
        if self._calibrator is None:
            self._calibrator = Calibrator()
        return await self._calibrator.calibrate(payload)

    async def scout(self, payload: ScoutInput) -> ScoutResult:
        """The brand's cards from prepared documents (see :mod:`agents.scout.scout`)."""
        anchors, calibration = await self.brand_anchors(payload.brand)
        return self.method.score(payload, anchors, calibration)
