"""The ingestion pipeline: raw items to cleaned, language-tagged, deduplicated, embedded docs.

Order of work, per call:

1. clean each item's text and title; an item with nothing left, or with text that is not text
   (a binary body, mis-decoded bytes), is rejected naming the field;
2. drop exact duplicates by normalized URL or content hash, against the known documents and
   within the batch;
3. in parallel: embed the remaining documents' passages (one batched model call) and detect
   their languages and MinHash signatures in a worker thread (lingua is native code and leaves
   the interpreter free; the two overlap on two cores);
4. drop near-duplicates (MinHash + embedding confirmation, see :mod:`agents.ingest.dedupe`),
   in input order, so the first of a pair is kept and the second joins it.

Pure apart from the embedder: the same input gives the same documents (ids aside), so a caller
may retry a failed call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import numpy as np

from storage.errors import Invalid
from storage.objects import GlobalSourceDoc

from .dedupe import DedupeConfig, NearDuplicateIndex, signature
from .language import detect_languages
from .models import IngestInput, IngestResult, KnownDoc, Merged, PreparedDoc, RawItem, Rejected
from .passages import split_passages
from .text import clean_text, content_hash, printable_ratio
from .urls import normalize_url

if TYPE_CHECKING:  # pragma: no cover
    from storage.memory.embeddings import TextEmbedder

MIN_TEXT_CHARS = 20
MIN_PRINTABLE = 0.9
"""Real text has virtually no control or replacement characters; binary decoded as text has many."""
TITLE_MAX = 500


@dataclass
class _Candidate:
    index: int
    item: RawItem
    text: str
    title: str | None
    url: str | None
    url_key: str | None
    hash: str
    passages: list[str] = field(default_factory=list)


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


class Ingestor:
    """Turns raw items into documents. ``embedder`` is the process's shared model handle."""

    def __init__(self, embedder: TextEmbedder, *, dedupe: DedupeConfig | None = None,
                 min_text_chars: int = MIN_TEXT_CHARS) -> None:  # fmt: skip
        self.embedder = embedder
        self.dedupe = dedupe or DedupeConfig()
        self.min_text_chars = min_text_chars

    def _candidate(self, index: int, item: RawItem) -> _Candidate | Rejected:
        if printable_ratio(item.text[:20000]) < MIN_PRINTABLE:
            return Rejected(index=index, field="text", reason="the body is not readable text (binary or mis-decoded)")
        text = clean_text(item.text)
        if len(text) < self.min_text_chars:
            return Rejected(index=index, field="text", reason=f"fewer than {self.min_text_chars} characters of text after cleaning")
        if printable_ratio(text) < MIN_PRINTABLE:
            return Rejected(index=index, field="text", reason="the body is not readable text (binary or mis-decoded)")
        url = url_key = None
        if item.source_url:
            try:
                url_key = normalize_url(item.source_url, field="source_url")
            except Invalid as exc:
                return Rejected(index=index, field="source_url", reason=exc.message)
            url = item.source_url.strip()
        title = clean_text(item.title)[:TITLE_MAX].strip() or None if item.title else None
        return _Candidate(index, item, text, title, url, url_key, content_hash(text))

    async def ingest(self, payload: IngestInput) -> IngestResult:
        now = payload.now or datetime.now(UTC)
        rejected: list[Rejected] = []
        merged: list[Merged] = []
        # Keys are scoped by org: a public item never joins a private document, a private item
        # joins a public one or one of its own org.
        by_url: dict[tuple[UUID | None, str], UUID] = {}
        by_hash: dict[tuple[UUID | None, str], UUID] = {}
        org_of: dict[UUID, UUID | None] = {}
        for known in payload.known:
            org_of[known.id] = known.org_id
            if known.source_url:
                try:
                    by_url.setdefault((known.org_id, normalize_url(known.source_url)), known.id)
                except Invalid:
                    pass
            by_hash.setdefault((known.org_id, content_hash(known.text)), known.id)

        def lookup(table: dict[tuple[UUID | None, str], UUID], org: UUID | None, key: str | None) -> UUID | None:
            if key is None:
                return None
            return table.get((org, key)) or (table.get((None, key)) if org is not None else None)
        # 1-2: clean, then exact duplicates (first occurrence wins within the batch).
        fresh: list[_Candidate] = []
        pending_ids: dict[int, UUID] = {}
        for index, item in enumerate(payload.items):
            cand = self._candidate(index, item)
            if isinstance(cand, Rejected):
                rejected.append(cand)
                continue
            org = item.org_id
            same_url, same_text = lookup(by_url, org, cand.url_key), lookup(by_hash, org, cand.hash)
            if same_url or same_text:
                reason = "same_url" if same_url else "same_text"
                merged.append(Merged(index=index, doc_id=same_url or same_text, reason=reason))  # type: ignore[arg-type]
                continue
            pending_ids[index] = uuid4()
            org_of[pending_ids[index]] = org
            if cand.url_key:
                by_url[(org, cand.url_key)] = pending_ids[index]
            by_hash[(org, cand.hash)] = pending_ids[index]
            cand.passages = split_passages(cand.text, cand.title)
            fresh.append(cand)
        if not fresh:
            return IngestResult(docs=[], merged=merged, rejected=rejected)
        # 3: embeddings and (languages, signatures) side by side.
        all_passages = [p for c in fresh for p in c.passages]
        known_texts = [k.text for k in payload.known]

        def side_work() -> tuple[list[str], list, list]:
            langs = detect_languages([c.text for c in fresh])
            sigs = [signature(c.text, self.dedupe) for c in fresh]
            known_sigs = [signature(t, self.dedupe) for t in known_texts]
            return langs, sigs, known_sigs

        vectors, (languages, sigs, known_sigs) = await asyncio.gather(
            self.embedder.aembed(all_passages), asyncio.to_thread(side_work)
        )
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(all_passages), -1)
        # 4: near-duplicates, against the known docs and earlier docs of this batch.
        index = NearDuplicateIndex(self.dedupe)
        for known, sig in zip(payload.known, known_sigs, strict=True):
            index.add(known.id, sig, None if known.vector is None else _unit(np.asarray(known.vector, dtype=np.float32)))
        docs: list[PreparedDoc] = []
        offset = 0
        for cand, lang, sig in zip(fresh, languages, sigs, strict=True):
            passage_vectors = matrix[offset : offset + len(cand.passages)]
            offset += len(cand.passages)
            doc_vector = _unit(passage_vectors.mean(axis=0))
            org = cand.item.org_id
            twin = index.match(sig, doc_vector, allowed=lambda key, org=org: org_of.get(key) in (None, org))
            if twin is not None:
                merged.append(Merged(index=cand.index, doc_id=twin, reason="near_duplicate"))  # type: ignore[arg-type]
                continue
            doc_id = pending_ids[cand.index]
            index.add(doc_id, sig, doc_vector)
            item = cand.item
            doc = GlobalSourceDoc(
                id=doc_id, org_id=item.org_id, source_type=item.source_type, source_url=cand.url,
                author_handle=item.author_handle.strip() or None if item.author_handle else None,
                title=cand.title, language=lang, text=cand.text, content_hash=cand.hash,
                published_at=item.published_at, ingested_at=now,
            )  # fmt: skip
            docs.append(PreparedDoc(
                doc=doc, url_key=cand.url_key, passages=cand.passages,
                passage_vectors=passage_vectors.tolist(), vector=doc_vector.tolist(),
            ))  # fmt: skip
        merged.sort(key=lambda m: m.index)
        return IngestResult(docs=docs, merged=merged, rejected=sorted(rejected, key=lambda r: r.index))


def known_from_prepared(docs: list[PreparedDoc]) -> list[KnownDoc]:
    """The known-document view of prepared docs (to feed a later call's dedupe)."""
    return [KnownDoc(id=d.doc.id, source_url=d.doc.source_url, text=d.doc.text, vector=d.vector, org_id=d.doc.org_id)
            for d in docs]  # fmt: skip
