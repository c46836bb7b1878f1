"""Kairo's error hierarchy.

Every error a user can see carries a stable ``code``, a human ``message`` and structured
``details``. The HTTP layer translates these to status codes in exactly one place; infrastructure
errors (asyncpg, Chroma) are translated at the storage boundary and never leak.
"""

from __future__ import annotations

from typing import Any


class KairoError(Exception):
    """Base of every error Kairo raises on purpose."""

    code = "kairo_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class NotFound(KairoError):
    code = "not_found"


class Conflict(KairoError):
    """A state conflict: a duplicate, a stale version, a forbidden transition."""

    code = "conflict"


def expect_version(what: str, expected: int | None, current: int) -> None:
    """A Conflict naming both versions when a caller's ``expected`` version of ``what`` is not the
    ``current`` one (optimistic concurrency); None expects nothing."""
    if expected is not None and expected != current:
        raise Conflict(f"{what} version {expected} is stale: current version is {current}",
                       details={"field": "expected_version", "expected_version": expected, "current_version": current})


class Invalid(KairoError):
    """Input that breaks an invariant; ``details['field']`` names the offending field."""

    code = "invalid"


class Forbidden(KairoError):
    code = "forbidden"


class Unauthenticated(KairoError):
    code = "unauthenticated"


class UpstreamFailure(KairoError):
    """A dependency (database, vector store, platform API) failed."""

    code = "upstream_failure"
