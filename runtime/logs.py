"""structlog set-up: JSON lines (or a console view) with context bound once.

Bind ``brand_id``, ``run_id``, ``request_id`` with ``bind_context`` at the start of a unit of
work; every log line inside it carries them without repeating them at each call.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.contextvars import bind_contextvars, bound_contextvars, clear_contextvars

__all__ = ["bind_context", "bound_context", "clear_context", "configure_logging"]

bind_context = bind_contextvars
bound_context = bound_contextvars
clear_context = clear_contextvars


class _StderrLogger(structlog.PrintLogger):
    """Prints to whatever ``sys.stderr`` is when a line is written, not when the logger was
    made: a cached logger never writes to a stream that was replaced and closed since (a
    redirected or captured stderr)."""

    def __init__(self, *_: object) -> None:
        super().__init__(sys.stderr)

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The standard-library side of the same rule."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Route structlog and the standard library's logging to stderr in one format."""
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.StackInfoRenderer(), structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_StderrLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=shared))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
