"""Shared building blocks of the canonical objects: the base model and constrained types."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Self
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import core_schema


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> UUID:
    return uuid4()


class KairoObject(BaseModel):
    """Base of every canonical object: unknown fields are refused, assignments re-validated."""

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        str_strip_whitespace=True,
        populate_by_name=True,
        use_enum_values=False,
        # Serialized, every field is present: the response schema says so (required), and
        # generated clients need no casts.
        json_schema_serialization_defaults_required=True,
    )


class Timestamped(KairoObject):
    """An object with ``created_at``/``updated_at``; ``updated_at`` never precedes creation."""

    created_at: AwareDatetime = Field(default_factory=utcnow)
    updated_at: AwareDatetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _updated_not_before_created(self) -> Self:
        if self.updated_at < self.created_at:
            raise ValueError("updated_at must not be earlier than created_at")
        return self


# Control characters: none in a name; prose keeps tab, newline and carriage return. NUL and lone
# surrogates can never be stored (PostgreSQL and UTF-8 refuse them).
_PROSE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same rules for the JSON schema, plus "not blank" (values are stripped before their
# minimum length is checked): what generated clients and fuzzers read.
_NAME_CHAR = r"[^\x00-\x1f\x7f-\x9f]"
_PROSE_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
PROSE_CHARS_PATTERN = rf"^{_PROSE_CHAR}*$"
"""Any text without control characters (tab, newline and carriage return allowed), blank included."""
NAME_SCHEMA_PATTERN = rf"^{_NAME_CHAR}*[^\s\x00-\x1f\x7f-\x9f]{_NAME_CHAR}*$"
PROSE_SCHEMA_PATTERN = rf"^{_PROSE_CHAR}*[^\s\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]{_PROSE_CHAR}*$"


def _prose(value: str) -> str:
    if _PROSE_FORBIDDEN.search(value):
        raise ValueError("must not contain control characters (tab, newline and carriage return are allowed)")
    return value


def _name(value: str) -> str:
    if _NAME_FORBIDDEN.search(value):
        raise ValueError("must not contain control characters, tabs or line breaks")
    return value


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_prose),
    Field(json_schema_extra={"pattern": PROSE_SCHEMA_PATTERN}),
]
"""Non-empty text with no upper bound (post bodies, article text)."""

Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), AfterValidator(_name),
    Field(json_schema_extra={"pattern": NAME_SCHEMA_PATTERN}),
]
"""A name, tag or list entry: one line."""

ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), AfterValidator(_prose),
    Field(json_schema_extra={"pattern": PROSE_SCHEMA_PATTERN}),
]
"""A 'short description' in the seed's words."""

Score = Annotated[float, Field(ge=0, le=100)]
UnitInterval = Annotated[float, Field(ge=0, le=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Weight = Annotated[float, Field(ge=0, le=10)]

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=1, max_length=64)]

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _email(value: str) -> str:
    if not re.fullmatch(EMAIL_PATTERN, value):
        raise ValueError("must be an email address like name@example.com")
    return value.lower()


Email = Annotated[
    str, StringConstraints(max_length=320), AfterValidator(_email), Field(json_schema_extra={"format": "email"})
]

LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
Language = Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)]

HttpUrl = Annotated[
    str, StringConstraints(pattern=r"^https?://[^\s/$.?#\x00-\x1f\x7f-\x9f][^\s\x00-\x1f\x7f-\x9f]*$", max_length=2048)
]

# Sentences end with . ! or ? followed by whitespace and more text.
SENTENCE_BOUNDARY = re.compile(r"[.!?]+\s+\S")


def count_sentences(text: str) -> int:
    """Sentences in ``text`` by the same rule as the database's CHECK (boundaries + 1)."""
    return len(SENTENCE_BOUNDARY.findall(text.strip())) + 1


def unique_items(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("entries must be unique")
    return values


class _UniqueItems:
    """``Annotated`` marker of a list whose entries must be distinct: validated, and stated in
    the JSON schema (``uniqueItems``) so clients know before they send."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(unique_items, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        json_schema = handler(schema)
        json_schema["uniqueItems"] = True
        return json_schema


UniqueItems = _UniqueItems()
UniqueIds = Annotated[list[UUID], UniqueItems]
NonEmptyLabels = Annotated[list[Label], Field(min_length=1)]

__all__ = [
    "NAME_SCHEMA_PATTERN",
    "PROSE_CHARS_PATTERN",
    "PROSE_SCHEMA_PATTERN",
    "Email",
    "HttpUrl",
    "KairoObject",
    "Label",
    "Language",
    "NonEmptyLabels",
    "NonNegativeInt",
    "Score",
    "ShortText",
    "Slug",
    "Text",
    "Timestamped",
    "UnitInterval",
    "UniqueIds",
    "UniqueItems",
    "Weight",
    "count_sentences",
    "new_id",
    "utcnow",
]
