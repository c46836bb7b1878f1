"""Example import: pasted text, JSON, JSON Lines, CSV, or a page's text fetched from a URL.

Every format ends as a list of :class:`Example` with a row number, and every problem is an
:class:`~storage.errors.Invalid` whose ``details`` name the field and, where there is one, the
row: an empty file, a CSV without its text column, bytes that are not UTF-8, an example that
is empty or only emoji, too many examples.

Rows: the paste's block (1-based), the JSON array index + 1, the JSONL line, the CSV data row
(the header is row 0, so row n is the n-th record), the page's paragraph.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import regex

from storage.errors import Invalid

from .models import MAX_EXAMPLE_CHARS, MAX_EXAMPLES, MIN_EXAMPLES, Example, ImportFormat
from .text import has_letters

Fetch = Callable[[str], Awaitable[str]]
"""Returns a page's main text for a URL (the ingest package's page fetcher, or a fake)."""

SEPARATOR_LINE = regex.compile(r"^\s*-{3,}\s*$", regex.MULTILINE)
BLANK_LINES = regex.compile(r"\n\s*\n")
PARAGRAPH_MIN_CHARS = 60
CONTROL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # as storage.objects.base prose


class ExampleSet:
    """Parsed examples, exact duplicates removed (a post pasted twice would count twice
    towards every phrase it holds), with a note for each removal."""

    def __init__(self, examples: list[Example], warnings: list[str]) -> None:
        self.examples = examples
        self.warnings = warnings


def decode(content: bytes | str, *, field: str = "content") -> str:
    """UTF-8 text (a BOM is dropped); other encodings are refused with the failing line."""
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise Invalid(
            f"{field} is not UTF-8 text (invalid byte 0x{content[exc.start]:02x} at byte {exc.start}, line {line}); "
            "save the file as UTF-8",
            details={"field": field, "line": line, "byte": exc.start},
        ) from None


def parse_examples(content: bytes | str, fmt: ImportFormat, *, text_field: str = "text") -> ExampleSet:
    """Examples from an uploaded or pasted body in ``fmt`` (``paste``, ``json``, ``jsonl``, ``csv``)."""
    text = decode(content)
    if not text.strip():
        raise Invalid("the import is empty: no examples found", details={"field": "content"})
    if CONTROL.search(text):
        raise Invalid("the import holds control characters (is it a binary file?)", details={"field": "content"})
    parsers: dict[str, Callable[[str, str], list[tuple[int, Any]]]] = {
        "paste": _paste_rows, "json": _json_rows, "jsonl": _jsonl_rows, "csv": _csv_rows,
    }  # fmt: skip
    if fmt not in parsers:
        raise Invalid(f"unknown import format {fmt!r} (known: {', '.join(parsers)}, url)", details={"field": "format"})
    rows = parsers[fmt](text, text_field)
    return _examples(rows, fmt)


async def fetch_examples(url: str, fetch: Fetch) -> ExampleSet:
    """Examples from the main text of the page at ``url`` (fetched by ``fetch``): one per
    paragraph, a heading or other short line joined to the paragraph after it (an article's
    paragraphs are its voice's samples; the page as one example could never show a phrase
    recurring)."""
    text = await fetch(url)
    if not text or not text.strip():
        raise Invalid(f"the page at {url} has no text to learn from", details={"field": "url"})
    paragraphs: list[str] = []
    pending = ""
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        pending = f"{pending}\n{line}".strip()
        if len(line) >= PARAGRAPH_MIN_CHARS:
            paragraphs.append(pending)
            pending = ""
    if pending:
        paragraphs.append(pending)
    examples = _examples(list(enumerate(paragraphs, start=1)), "url")
    examples.examples = [e.model_copy(update={"url": url}) for e in examples.examples]
    return examples


def _paste_rows(text: str, _: str) -> list[tuple[int, Any]]:
    """Blocks separated by lines of ``---`` when there are any (posts may hold blank lines),
    else by blank lines."""
    splitter = SEPARATOR_LINE if SEPARATOR_LINE.search(text) else BLANK_LINES
    blocks = [b for b in splitter.split(text.replace("\r\n", "\n"))]
    return [(i, b) for i, b in enumerate((b for b in blocks if b.strip()), start=1)]


def _field_of(item: Any, row: int, text_field: str, where: str) -> Any:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        if text_field not in item:
            raise Invalid(
                f"{where} {row} has no {text_field!r} field (fields: {', '.join(sorted(item)) or 'none'})",
                details={"field": text_field, "row": row},
            )
        return item[text_field]
    raise Invalid(f"{where} {row} must be a string or an object with {text_field!r}", details={"field": "content", "row": row})


def _json_rows(text: str, text_field: str) -> list[tuple[int, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"the JSON is malformed: {exc.msg} at line {exc.lineno}", details={"field": "content", "line": exc.lineno}) from None
    except RecursionError:
        raise Invalid("the JSON is nested too deeply", details={"field": "content"}) from None
    if isinstance(data, dict) and isinstance(data.get("examples"), list):
        data = data["examples"]
    if not isinstance(data, list):
        raise Invalid('JSON must be a list of examples or {"examples": [...]}', details={"field": "content"})
    return [(i, _field_of(item, i, text_field, "item")) for i, item in enumerate(data, start=1)]


def _jsonl_rows(text: str, text_field: str) -> list[tuple[int, Any]]:
    rows = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise Invalid(f"line {line_no} is not JSON: {exc.msg}", details={"field": "content", "row": line_no}) from None
        rows.append((line_no, _field_of(item, line_no, text_field, "line")))
    return rows


def _csv_rows(text: str, text_field: str) -> list[tuple[int, Any]]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # one column, or quoting the sniffer cannot read: plain CSV
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    try:
        columns = [c.strip() for c in reader.fieldnames or []]
        if text_field not in columns:
            raise Invalid(
                f"the CSV has no {text_field!r} column (columns: {', '.join(columns) or 'none'})",
                details={"field": text_field, "columns": columns},
            )
        reader.fieldnames = columns
        return [(i, record.get(text_field) or "") for i, record in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise Invalid(f"the CSV is malformed near line {reader.line_num}: {exc}", details={"field": "content", "line": reader.line_num}) from None


def _examples(rows: list[tuple[int, Any]], source: ImportFormat) -> ExampleSet:
    if not rows:
        raise Invalid("the import is empty: no examples found", details={"field": "content"})
    if len(rows) > MAX_EXAMPLES:
        raise Invalid(
            f"{len(rows)} examples is too many: at most {MAX_EXAMPLES} per calibration",
            details={"field": "examples", "count": len(rows), "max": MAX_EXAMPLES},
        )
    examples: list[Example] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for row, value in rows:
        if not isinstance(value, str):
            raise Invalid(f"example {row} must be text, not {type(value).__name__}", details={"field": "text", "row": row})
        text = value.strip()
        if not text:
            raise Invalid(f"example {row} is empty", details={"field": "text", "row": row})
        if not has_letters(text):
            raise Invalid(f"example {row} has no words (only emoji, numbers or punctuation)", details={"field": "text", "row": row})
        if CONTROL.search(text):
            raise Invalid(f"example {row} holds control characters", details={"field": "text", "row": row})
        if len(text) > MAX_EXAMPLE_CHARS:
            raise Invalid(f"example {row} is longer than {MAX_EXAMPLE_CHARS} characters", details={"field": "text", "row": row})
        key = " ".join(text.casefold().split())
        if key in seen:
            warnings.append(f"example {row} repeats example {seen[key]} and was skipped")
            continue
        seen[key] = row
        examples.append(Example(text=text, source=source, row=row))
    return ExampleSet(examples, warnings)


def require_enough(examples: list[Example]) -> None:
    """Calibration needs a few examples: a marker must recur in at least three of them."""
    if len(examples) < MIN_EXAMPLES:
        raise Invalid(
            f"{len(examples)} distinct example(s) is too few: calibration needs at least {MIN_EXAMPLES}",
            details={"field": "examples", "count": len(examples), "min": MIN_EXAMPLES},
        )
