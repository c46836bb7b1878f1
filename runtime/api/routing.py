"""The route class every Kairo router uses, and the methods a path allows.

:class:`KairoRoute` applies the shared request rules of :mod:`runtime.api.body` before FastAPI
parses anything, so a new route inherits them by being declared on a Kairo router; nothing is
checked route by route. ``operationId`` is the endpoint function's name (``create_brand``),
which is what generated clients call.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.utils import get_parameterless_sub_dependant
from fastapi import routing as fastapi_routing
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path

from storage.errors import Invalid, KairoError

from .body import check_media_type, check_texts, decode_json, strict_errors
from .schemas import ERROR_RESPONSES

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class KairoRoute(APIRoute):
    """An APIRoute that enforces the API's input rules (see ``body.py``).

    The body is read and judged before FastAPI parses it, but a problem is raised only after
    the route's own dependencies (authentication, brand access) have run: a caller without
    access gets its 401/404 whatever the body, and a body FastAPI would choke on never reaches
    its parser (the route then sees an empty body and the problem is raised instead).
    """

    def get_route_handler(self) -> Handler:
        dependant = self._dependant_in_use()
        body_params = dependant.body_params
        if len(body_params) > 1:
            raise TypeError(f"{self.name}: Kairo routes take one body model, not {len(body_params)} body parameters")
        self._body_adapter = TypeAdapter(body_params[0].field_info.annotation) if body_params else None
        if not any(d.call is _raise_input_problem for d in dependant.dependencies):
            # Last, so authentication and brand access (the endpoint's parameters) answer first.
            dependant.dependencies.append(
                get_parameterless_sub_dependant(depends=Depends(_raise_input_problem), path=self.path_format)
            )
        handler = super().get_route_handler()

        async def judged(request: Request) -> Response:
            raw = await request.body()
            try:
                for name, value in request.query_params.multi_items():  # every value, repeated ones too
                    check_texts({name: value}, ("query",))
                self._judge_body(request, raw)
            except (KairoError, RequestValidationError) as problem:
                request.scope[_PROBLEM] = problem
                request._body = b""  # noqa: SLF001 - what FastAPI's parser reads; the problem is raised instead
            return await handler(request)

        return judged

    def _dependant_in_use(self) -> Any:
        """The dependant FastAPI will run: a route included into a router or app is run with a
        dependant rebuilt for that inclusion (FastAPI >= 0.160), otherwise its own."""
        context_var = getattr(fastapi_routing, "_effective_route_context_var", None)
        context = context_var.get() if context_var is not None else None
        if context is not None and context.original_route is self and context.dependant is not None:
            return context.dependant
        return self.dependant

    def _judge_body(self, request: Request, raw: bytes) -> None:
        if self._body_adapter is None:
            if raw:
                raise Invalid(f"{self.name} takes no request body; send none", details={"field": "body"})
            return
        if not raw:
            return  # FastAPI answers a missing required body with a 422 naming it
        check_media_type(request.headers.get("content-type"), request.headers.get("content-encoding"))
        value = decode_json(raw)
        check_texts(value, ("body",))
        errors = strict_errors(self._body_adapter, value)
        if errors:
            raise RequestValidationError(errors)


_PROBLEM = "kairo.input_problem"


async def _raise_input_problem(request: Request) -> None:
    """The last dependency of every Kairo route: the input problem found before parsing."""
    problem = request.scope.get(_PROBLEM)
    if problem is not None:
        raise problem


def kairo_router(prefix: str, tag: str) -> APIRouter:
    """The router of one resource group: Kairo's route class and the documented error answers."""
    return APIRouter(prefix=prefix, tags=[tag], responses=ERROR_RESPONSES, route_class=KairoRoute)


def operation_id(route: APIRoute) -> str:
    """Readable operation ids: the endpoint's name, unique across the API (a test holds it)."""
    return route.name


def allowed_methods(app: FastAPI, scope: dict[str, Any]) -> list[str]:
    """Every method some route of ``app`` serves on the request's path, plus HEAD for a GET
    and OPTIONS (both answered by the app itself), sorted; empty when no route has the path."""
    path = scope.get("path", "")
    methods: set[str] = set()
    for context in iter_route_contexts(app.routes):
        route_methods = getattr(context.original_route, "methods", None)
        if route_methods and _path_regex(context.path).match(path):
            methods |= set(route_methods)
    if methods:
        methods.add("OPTIONS")
        if "GET" in methods:
            methods.add("HEAD")
    return sorted(methods)


@functools.lru_cache(maxsize=1024)
def _path_regex(template: str) -> re.Pattern[str]:
    return compile_path(template)[0]


__all__ = ["KairoRoute", "allowed_methods", "kairo_router", "operation_id"]
