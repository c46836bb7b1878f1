"""The OpenAPI document, made to say exactly what the server accepts and returns.

FastAPI's document is built from the pydantic models; two shapes of it are then rewritten so
that every client generator can express them:

* a map whose keys are an enum (``channel_overrides: {linkedin: …, x: …}``) becomes an object
  with one optional property per key and ``additionalProperties: false``: generated clients
  get a constructor argument per channel instead of a bag of extra attributes;
* a map with open keys checked by a pattern (``tone_profile``) becomes ``additionalProperties``
  with the value schema plus ``propertyNames`` with the pattern: the same rule, in the form
  generators read (``patternProperties`` alone would let any other key through).

Where a model reads differently in a request and in a response (a response marks every field
required), FastAPI publishes ``Foo-Input`` and ``Foo-Output``; they are renamed ``FooInput`` and
``Foo`` with matching titles, since generators name classes by title and would otherwise drop
one of two ``Foo``s.

The document is built once per app and cached.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` with the rewritten, cached document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, openapi_version=app.openapi_version,
                description=app.description, routes=app.routes,
            )  # fmt: skip
            app.openapi_schema = rewrite(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def rewrite(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with its maps in the forms described above (a new dict)."""
    document = copy.deepcopy(document)
    _rename_split_models(document)
    schemas = document.get("components", {}).get("schemas", {})
    _walk(document, schemas)
    return document


def _rename_split_models(document: dict[str, Any]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    renamed = {}
    for name in list(schemas):
        for suffix, new_suffix in (("-Output", ""), ("-Input", "Input")):
            if name.endswith(suffix):
                renamed[name] = name.removesuffix(suffix) + new_suffix
    for old, new in renamed.items():
        if new in schemas:
            raise ValueError(f"OpenAPI model {old} would clash with {new}")
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
    refs = {f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renamed.items()}

    def relink(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str) and node["$ref"] in refs:
                node["$ref"] = refs[node["$ref"]]
            for value in node.values():
                relink(value)
        elif isinstance(node, list):
            for value in node:
                relink(value)

    relink(document)


def _walk(node: Any, schemas: dict[str, Any]) -> None:
    if isinstance(node, dict):
        _rewrite_map(node, schemas)
        for value in node.values():
            _walk(value, schemas)
    elif isinstance(node, list):
        for value in node:
            _walk(value, schemas)


def _rewrite_map(node: dict[str, Any], schemas: dict[str, Any]) -> None:
    keys = _enum_keys(node.get("propertyNames"), schemas)
    value = node.get("additionalProperties")
    if keys is not None and isinstance(value, dict):
        node["properties"] = {key: copy.deepcopy(value) for key in keys}
        node["additionalProperties"] = False
        del node["propertyNames"]
        return
    patterns = node.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in node:
        [(pattern, value)] = patterns.items()
        node["additionalProperties"] = value
        node["propertyNames"] = {"type": "string", "pattern": pattern}
        del node["patternProperties"]


def _enum_keys(names: Any, schemas: dict[str, Any]) -> list[str] | None:
    if not isinstance(names, dict):
        return None
    ref = names.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        names = schemas.get(ref.rsplit("/", 1)[-1], {})
    enum = names.get("enum")
    return [str(key) for key in enum] if isinstance(enum, list) else None


__all__ = ["install", "rewrite"]
