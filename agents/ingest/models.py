"""Inputs and results of ingestion: one raw item in, one prepared document (or a reason) out."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from storage.objects import GlobalSourceDoc, SourceDocType

RAW_TEXT_MAX = 2_000_000
"""Longest raw body accepted (pages are capped by the fetcher well below this)."""


class IngestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RawItem(IngestModel):
    """Something to ingest: pasted text, a feed entry, a fetched page, a bulk-import row.

    ``text`` may hold markup (feed summaries do); it is cleaned. ``language`` given by the
    source is only a hint: the detector decides.
    """

    source_type: SourceDocType = SourceDocType.PASTED_TEXT
    text: str = Field(max_length=RAW_TEXT_MAX)
    source_url: str | None = Field(default=None, max_length=2048)
    title: str | None = Field(default=None, max_length=2000)
    author_handle: str | None = Field(default=None, max_length=120)
    published_at: AwareDatetime | None = None
    org_id: UUID | None = None


class KnownDoc(IngestModel):
    """A document already stored, as dedupe needs it: its id, URL, text and vector."""

    id: UUID
    source_url: str | None = None
    text: str
    vector: list[float] | None = None
    org_id: UUID | None = None


class PreparedDoc(IngestModel):
    """A new document, its passages and their vectors (unit length), and the doc's own vector
    (the normalized mean of its passages)."""

    doc: GlobalSourceDoc
    url_key: str | None
    passages: list[str]
    passage_vectors: list[list[float]]
    vector: list[float]


MergeReason = Literal["same_url", "same_text", "near_duplicate"]


class Merged(IngestModel):
    """An item that was already known: it joins ``doc_id`` instead of becoming a document."""

    index: int
    doc_id: UUID
    reason: MergeReason


class Rejected(IngestModel):
    """An item that cannot become a document, with the field at fault and why."""

    index: int
    field: str
    reason: str


class IngestInput(IngestModel):
    items: list[RawItem] = Field(max_length=5000)
    known: list[KnownDoc] = Field(default=[], max_length=200_000)
    now: AwareDatetime | None = None


class IngestResult(IngestModel):
    docs: list[PreparedDoc]
    merged: list[Merged]
    rejected: list[Rejected]


