"""Source ingestion: feeds, pages, pasted text and bulk imports to GlobalSourceDocs.

One concept per module: ``urls`` (normalization), ``text`` (cleaning, content hash),
``language`` (lingua, built once per process), ``dedupe`` (same URL, same text, near-identical
text), ``feeds`` and ``pages`` (parsing), ``fetch`` (aiohttp with conditional GET),
``health`` (a feed's polling state and backoff), ``bulk`` (JSON/CSV/JSONL imports) and
``pipeline`` (raw items to documents). Nothing here imports Ray.
"""
