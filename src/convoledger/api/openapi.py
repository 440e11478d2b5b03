"""The OpenAPI document as the API behaves (issue 16 item 4): every error is RFC 9457
``application/problem+json`` with the ``Problem`` schema, and each operation lists only the error
statuses it can return.

FastAPI documents the responses the routes declare, plus a 422 with its own
``HTTPValidationError`` body as ``application/json``. ``problem_openapi(app)`` rewrites the
generated document once (it is cached on the app):

- 401 only on operations that need a bearer token (they carry ``security``);
- 404 only where the path names a resource (a path parameter) or the route declares it;
- 409 only on operations that write (not GET);
- 408 and 413 on operations that take a request body (``api.guards``: stalled / oversize body);
- 422 on every operation (invalid parameters, bodies, or a NUL character anywhere in the URL);
- 500 on every operation (an unexpected failure, answered as a problem too);
- every 4xx/5xx body is ``application/problem+json`` ``#/components/schemas/Problem``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from convoledger.api.errors import PROBLEM_JSON, Problem

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

_DESCRIPTIONS = {
    "401": "Missing or unknown bearer token",
    "404": "Not found in your account",
    "408": "The request body stalled (no data for body_timeout seconds)",
    "409": "Conflict: duplicate id/session_id/session_key, session not active, or illegal status move",
    "413": "The request body is larger than max_body_bytes",
    "422": "Invalid input (parameters, body, a NUL character, a value out of range)",
    "500": "Unexpected server error (logged)",
}


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    """The error statuses (as strings) an operation can return, by the rules of the module
    docstring; statuses the route itself declared beyond the shared ones are kept."""
    declared = {code for code in operation.get("responses", {}) if code[:1] in ("4", "5")}
    wanted = {"422", "500"}
    if operation.get("security"):
        wanted.add("401")
    if "{" in path:
        wanted.add("404")
    if method != "get":
        wanted.add("409")
    if "requestBody" in operation:
        wanted |= {"408", "413"}
    shared = {"401", "404", "409", "422"}
    return wanted | (declared - shared)


def rewrite_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite ``document`` (an OpenAPI 3.1 dict from FastAPI) in place as the module docstring
    says, and return it."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            wanted = error_statuses(path, method, operation)
            for code in [c for c in responses if c[:1] in ("4", "5") and c not in wanted]:
                del responses[code]
            for code in sorted(wanted):
                entry = responses.setdefault(code, {})
                description = entry.get("description", "")
                if not description or description == "Validation Error":
                    description = _DESCRIPTIONS.get(code, "Error")
                entry["description"] = description
                entry["content"] = _problem_content()
    return document


def install_problem_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the rewritten document (built once, then cached)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = rewrite_errors(document)
        return app.openapi_schema

    setattr(app, "openapi", build)  # noqa: B010 - FastAPI's documented way to customise the schema
