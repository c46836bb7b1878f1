"""What the API accepts as a request: the body rules every route shares.

One answer for every way a body can be wrong, applied before a route sees it:

* a body larger than ``Settings.api_max_body_bytes`` → **413** ``too_large``, refused from its
  ``Content-Length`` before it is read, or as soon as the bytes read pass the limit;
* a body with a ``Content-Encoding`` (gzip, …) or a media type other than JSON → **415**
  ``unsupported_media_type``;
* a body that is not UTF-8 JSON (bad bytes, truncated, ``NaN``, integers of thousands of digits,
  nesting deeper than :data:`MAX_DEPTH`) → **422** ``invalid`` with ``details.field == "body"``;
* a text anywhere in the body or the query with a NUL, another control character (tab, newline
  and carriage return excepted: prose has them) or a lone UTF-16 surrogate → **422** naming the
  field path (``body.personas.0.name``, ``query.q``);
* a JSON value of the wrong JSON type (``true``, ``"1"`` or ``1.5`` for an integer, ``1`` for a
  string, ``"yes"`` for a boolean) → **422**: bodies are validated in pydantic's strict JSON mode,
  so nothing is coerced. Integers follow JSON Schema (the OpenAPI document's language): ``3.0``
  is the number 3, an integer, as JSON itself does not tell the two apart;
* a body sent to an operation that takes none → **422** ``body``.

Names refuse tab and newline too; that rule lives in the types themselves
(``storage.objects.base.Label``), so engines and the database see the same invariant.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from pydantic import TypeAdapter, ValidationError

from storage.errors import Invalid, KairoError

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects a body may have; Kairo's deepest schema uses 4."""

# Control characters a text may never hold: C0 but tab, newline, carriage return; DEL; C1.
_FORBIDDEN = frozenset(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]) - {"\t", "\n", "\r"}


class UnsupportedMediaType(KairoError):
    """A body in an encoding or media type the API does not read (HTTP 415)."""

    code = "unsupported_media_type"


class PayloadTooLarge(KairoError):
    """A body over the configured limit (HTTP 413)."""

    code = "too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the request body is larger than {max_bytes} bytes", details={"max_bytes": max_bytes})


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None: a NUL, a control character or a lone
    surrogate (which no UTF-8 encoder, PostgreSQL's included, accepts)."""
    for char in value:
        if char in _FORBIDDEN:
            name = "NUL" if char == "\x00" else f"U+{ord(char):04X}"
            return f"contains the control character {name}"
        if "\ud800" <= char <= "\udfff":
            return f"contains a lone surrogate U+{ord(char):04X}"
    return None


def check_texts(value: Any, path: tuple[str, ...]) -> None:
    """Refuse the first bad text in a decoded JSON value (keys included), naming its path."""
    for where, text in _texts(value, path):
        problem = text_problem(text)
        if problem:
            field = ".".join(where)
            raise Invalid(f"{field}: {problem}", details={"field": field})


def _texts(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), key
            yield from _texts(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, str(index)))


def check_media_type(content_type: str | None, content_encoding: str | None) -> None:
    if content_encoding and content_encoding.strip().lower() != "identity":
        raise UnsupportedMediaType(
            f"Content-Encoding {content_encoding!r} is not accepted; send the JSON body uncompressed",
            details={"field": "header.content-encoding"},
        )
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise UnsupportedMediaType(
            f"the body must be application/json, not {media or 'unlabelled'}",
            details={"field": "header.content-type"},
        )


def decode_json(raw: bytes) -> Any:
    """The JSON value of ``raw``, or Invalid naming why it is not UTF-8 JSON."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad_body(f"the body is not UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise _bad_body(f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise _bad_body(f"the body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer of more digits than Python converts, NaN, 1e999
        raise _bad_body(f"the body is not valid JSON: {exc}") from None
    if _depth(value) > MAX_DEPTH:
        raise _bad_body(f"the body is nested deeper than {MAX_DEPTH} levels")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(literal: str) -> float | int:
    """A JSON number with a fraction or exponent: ``3.0`` is the integer 3 (JSON Schema's
    reading), ``1e999`` is refused (no such finite number)."""
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"{literal} is out of range for a number")
    if value.is_integer() and abs(value) <= 2**53:
        return int(value)
    return value


def _depth(value: Any) -> int:
    # Iterative: a body the parser accepted may still be deep enough to exhaust a recursion.
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _bad_body(message: str) -> Invalid:
    return Invalid(message, details={"field": "body"})


def strict_errors(adapter: TypeAdapter[Any], value: Any) -> list[dict[str, Any]] | None:
    """The validation errors of the decoded body ``value`` against ``adapter`` in strict JSON
    mode (no coercion of ``true`` to 1 or ``1`` to ``"1"``), with ``body`` prefixed to each
    location; None when it is valid."""
    try:
        adapter.validate_json(json.dumps(value), strict=True)
    except ValidationError as exc:
        return [
            {**error, "loc": ("body", *error["loc"])}
            for error in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
    return None


__all__ = [
    "MAX_DEPTH",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "check_media_type",
    "check_texts",
    "decode_json",
    "strict_errors",
    "text_problem",
]
