"""The one place errors become HTTP responses: ``{"error": {"code", "message", "details"}}``.

Kairo's own errors map by class (NotFound → 404, Conflict → 409, Invalid → 422, …); invalid
input caught by FastAPI or pydantic becomes a 422 naming the field path; anything unexpected
becomes a 500 with code ``internal`` and no stack trace (the trace goes to the log only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from storage.errors import Conflict, Forbidden, Invalid, KairoError, NotFound, Unauthenticated, UpstreamFailure

from .body import PayloadTooLarge, UnsupportedMediaType

log = structlog.get_logger(__name__)

STATUS_BY_ERROR: dict[type[KairoError], int] = {
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Forbidden: 403,
    Unauthenticated: 401,
    UpstreamFailure: 503,
    UnsupportedMediaType: 415,
    PayloadTooLarge: 413,
}
HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
              422: "invalid", 429: "too_many_requests", 503: "unavailable"}  # fmt: skip


def envelope(
    status: int, code: str, message: str, details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:  # fmt: skip
    body = {"error": {"code": code, "message": message, "details": dict(details or {})}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


RETRY_AFTER_SECONDS = 2
"""What a client is told to wait when an actor or replica is restarting (measured: a host or
pool member is back within seconds; a lost node's brands within ~7-10 s, docs/operators.md)."""


def kairo_error_response(exc: KairoError) -> JSONResponse:
    report = getattr(exc, "database", None)
    if isinstance(report, Mapping):
        exc = stored_data_error(exc, report)
    status = next((STATUS_BY_ERROR[c] for c in type(exc).__mro__ if c in STATUS_BY_ERROR), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return envelope(status, exc.code, exc.message, _jsonable(exc.details), headers)


def validation_error_response(errors: Iterable[Mapping[str, Any]], prefix: tuple[str, ...] = ()) -> JSONResponse:
    """422 listing each offending field by its path (``body.personas.0.pain_points``)."""
    items = []
    for error in errors:
        loc = [*prefix, *(str(part) for part in error.get("loc", ()))]
        items.append({"field": ".".join(loc), "message": error.get("msg", "invalid"), "type": error.get("type", "")})
    first = items[0] if items else {"field": "", "message": "invalid input"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return envelope(422, Invalid.code, message, {"field": first["field"], "errors": items})


_KEY_COLUMNS = re.compile(r"^Key \((?P<columns>.*?)\)=\(")
_SCOPE_COLUMNS = frozenset({"id", "org_id", "brand_id"})
_WRAPPED = re.compile(r"^\w+\((?P<column>\w+)")  # lower(email::text) → email


def stored_data_error(exc: KairoError, report: Mapping[str, Any]) -> KairoError:
    """The client's view of a write PostgreSQL refused (``report`` is ``exc.database``): the
    same kind of error in Kairo's words, naming the field where one can be named, never
    PostgreSQL's message, constraint or table (those go to the log, with the request id). A
    message raised by Kairo's own triggers is Kairo's text and is kept. A foreign key that
    names nothing is a 404, like an unknown id in the path."""
    log.info("request.refused_by_database", **{k: v for k, v in report.items() if v is not None})
    state = report.get("sqlstate") or ""
    columns = _columns(report)
    field = f"body.{columns[0]}" if columns else None
    details = {"field": field} if field else {}
    if state == "23505":
        return Conflict(f"already exists: another object has the same {', '.join(columns) or 'key'}", details=details)
    if state == "23503":
        return NotFound(f"{columns[0] if columns else 'a reference'} names no object you can reach", details=details)
    if state == "23502":
        return Invalid(f"{report.get('column') or 'a field'} is required", details=details)
    if state == "23000":  # raised by Kairo's own triggers, in Kairo's words
        return type(exc)(str(report.get("message") or exc.message), details=details)
    if isinstance(exc, Conflict):
        return Conflict("a concurrent change or an existing object conflicts with this request; read and retry",
                        details=details)  # fmt: skip
    if isinstance(exc, Invalid):
        return Invalid("a value of the request breaks a rule of the stored object", details=details)
    return UpstreamFailure("the database could not complete the request; retry shortly")


def _columns(report: Mapping[str, Any]) -> list[str]:
    """The columns a refusal names: the key of a unique or foreign-key violation without its
    tenant/id parts (``(org_id, slug)`` → ``slug``), or the column of a NOT NULL one."""
    found = _KEY_COLUMNS.match(report.get("detail") or "")
    if found:
        names = [name.strip() for name in found["columns"].split(",")]
        names = [(m["column"] if (m := _WRAPPED.match(name)) else name) for name in names]
        plain = [name for name in names if name not in _SCOPE_COLUMNS]
        return plain or names[-1:]
    column = report.get("column")
    return [column] if column else []


def unexpected_error_response(exc: BaseException) -> JSONResponse:
    """A bug or an unknown failure: logged with its trace, answered without one."""
    log.error("request.unexpected_error", error_type=type(exc).__name__, exc_info=exc)
    return envelope(500, "internal", "internal error; the request id in the logs has the details")


def error_response(exc: BaseException) -> JSONResponse:
    """Translate any exception raised while handling a request."""
    exc = _unwrap(exc)
    if isinstance(exc, KairoError):
        return kairo_error_response(exc)
    if isinstance(exc, RequestValidationError):
        return validation_error_response(exc.errors())
    if isinstance(exc, ValidationError):
        return validation_error_response(exc.errors(include_url=False, include_context=False, include_input=False))
    if isinstance(exc, StarletteHTTPException):
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return envelope(exc.status_code, code, str(exc.detail), headers=exc.headers)
    if _is_runtime_unavailable(exc):
        log.warning("request.runtime_unavailable", error_type=type(exc).__name__, error=str(exc))
        return envelope(503, UpstreamFailure.code, "the agent runtime is unavailable; retry shortly",
                        {"retry_after": RETRY_AFTER_SECONDS}, {"Retry-After": str(RETRY_AFTER_SECONDS)})  # fmt: skip
    return unexpected_error_response(exc)


def _unwrap(exc: BaseException) -> BaseException:
    # An error raised inside a Ray actor arrives wrapped (RayTaskError) with the original as
    # ``cause``: answer with the agent's own error when it is one of ours.
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, KairoError) and not isinstance(exc, KairoError) else exc


def _is_runtime_unavailable(exc: BaseException) -> bool:
    """A dead or unreachable actor, or a timeout: the runtime, not the request, is at fault."""
    if isinstance(exc, TimeoutError):
        return True
    try:
        from ray.exceptions import RayError, RayTaskError
    except ImportError:  # pragma: no cover - ray is a dependency; tolerate its absence anyway
        return False
    return isinstance(exc, RayError) and not isinstance(exc, RayTaskError)


def _jsonable(value: Any) -> Any:
    """Details as plain JSON: anything else (an exception in a pydantic ``ctx``) as its text."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    return str(value)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    response = error_response(exc)
    if response.status_code == 405:
        # Starlette names only the methods of the first route that matched the path.
        from .routing import allowed_methods

        response.headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
    return response


def install(app: FastAPI) -> None:
    """Register the translations above on ``app``. Exceptions no handler claims are caught by
    the request middleware, which answers them through :func:`error_response` too."""
    for kind in (KairoError, RequestValidationError, ValidationError, StarletteHTTPException, TimeoutError):
        app.add_exception_handler(kind, _handle)
    try:
        from ray.exceptions import RayError
    except ImportError:  # pragma: no cover
        return
    app.add_exception_handler(RayError, _handle)
