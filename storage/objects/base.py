"""Shared building blocks of the canonical objects: the base model and constrained types."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Self
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)


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


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""Non-empty text with no upper bound (post bodies, article text)."""

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
"""A name, tag or list entry."""

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
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


Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(_email)]

LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
Language = Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)]

HttpUrl = Annotated[
    str, StringConstraints(pattern=r"^https?://[^\s/$.?#][^\s]*$", max_length=2048)
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


UniqueIds = Annotated[list[UUID], AfterValidator(unique_items)]
NonEmptyLabels = Annotated[list[Label], Field(min_length=1)]

__all__ = [
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
    "Weight",
    "count_sentences",
    "new_id",
    "utcnow",
]
