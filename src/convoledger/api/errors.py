"""RFC 9457 problem details (``application/problem+json``) for every error the API returns.

Mapping (one HTTP status per error class, see ``convoledger.errors``):

- missing / unknown bearer token → 401, with ``WWW-Authenticate: Bearer`` (RFC 6750 §3);
- ``NotFound`` → 404, including another account's data (isolation: never 403, never a leak);
- ``ConversationNotActive`` → 409 (``session-not-active``): the session's status refuses appends;
- ``Conflict`` → 409: a duplicate id, session_id or session_key (RFC 9110 §15.5.10);
- ``InvalidTransition`` → 409 (``invalid-transition``): the request is well-formed but conflicts
  with the session's *current* status (RFC 9110 §15.5.10: "conflict with the current state of the
  target resource"); an unknown status name is invalid input → 422;
- ``RequestValidationError`` (malformed JSON, bad path/query/body values, ``size`` > 100) → 422
  with an ``errors`` list (pydantic's ``loc``/``msg``/``type`` per problem);
- ``ValueError`` or pydantic ``ValidationError`` raised inside a route (domain rules, checked
  before anything is written) → 422;
- ``UnstorableText`` (a NUL character in any text, ``models.storable``) → 422
  (``nul-character``) naming the field;
- a body that is not UTF-8 (or otherwise cannot be read as JSON) → 422 (``invalid-body``);
- a body larger than ``max_body_bytes`` → 413 (``content-too-large``); a body that stalls
  longer than ``body_timeout`` → 408 (``request-timeout``; both ``api.guards``);
- unknown route / method → 404 / 405, problem-shaped too;
- any other exception → 500 (``internal-error``), logged with its traceback; the body says
  nothing about the internals.

Every body has ``type`` (a ``urn:convoledger:problem:<slug>`` URI), ``title``, ``status``,
``detail`` (what is wrong, in words) and ``instance`` (the request path).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from convoledger.errors import Conflict, ConversationNotActive, NotFound
from convoledger.models.status import InvalidTransition
from convoledger.models.storable import UnstorableText

PROBLEM_JSON = "application/problem+json"

log = logging.getLogger("convoledger.api")

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(BaseModel):
    """An RFC 9457 problem details body (served as ``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, Any]] | None = None


def _doc(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description + " (application/problem+json)"}


#: OpenAPI documentation of the error responses shared by every ``/api`` route.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _doc("Missing or unknown bearer token"),
    404: _doc("Not found in your account"),
    409: _doc("Conflict: duplicate id/session_id/session_key, session not active, or illegal status move"),
    422: _doc("Invalid input"),
}


class AuthError(Exception):
    """A request to an ``/api`` route without a valid ``Authorization: Bearer`` token (→ 401)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def problem(
    request: Request,
    status: int,
    slug: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json response: ``type`` = ``urn:convoledger:problem:<slug>``, ``title`` from the
    status, ``detail``, ``instance`` = the request path, plus ``extra`` members."""
    body: dict[str, Any] = {
        "type": f"urn:convoledger:problem:{slug}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def _validation_detail(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


async def _auth_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    return problem(
        request,
        401,
        "unauthorized",
        exc.detail,
        headers={"WWW-Authenticate": 'Bearer realm="convoledger"'},
    )


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return problem(request, 404, "not-found", _message(exc))


async def _not_active(request: Request, exc: Exception) -> JSONResponse:
    return problem(request, 409, "session-not-active", _message(exc))


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return problem(request, 409, "conflict", _message(exc))


async def _invalid_transition(request: Request, exc: Exception) -> JSONResponse:
    return problem(request, 409, "invalid-transition", _message(exc))


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {k: v for k, v in err.items() if k in ("loc", "msg", "type")}
        for err in jsonable_encoder(exc.errors())
    ]
    return problem(request, 422, "validation-error", _validation_detail(errors), extra={"errors": errors})


async def _pydantic_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    errors = [
        {k: v for k, v in err.items() if k in ("loc", "msg", "type")}
        for err in jsonable_encoder(exc.errors(include_url=False, include_input=False))
    ]
    return problem(request, 422, "validation-error", _validation_detail(errors), extra={"errors": errors})


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnstorableText)
    loc = exc.field.split(".") if exc.field else ["value"]
    errors = [{"loc": loc, "msg": "text must not contain the NUL character (U+0000)", "type": "nul"}]
    return problem(request, 422, "nul-character", _message(exc), extra={"errors": errors})


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        request, 500, "internal-error", "the server failed to answer this request; the error is logged"
    )


async def _value_error(request: Request, exc: Exception) -> JSONResponse:
    return problem(request, 422, "invalid-input", _message(exc))


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI's "There was an error parsing the body": a body that is not UTF-8 (or cannot be
        # read) is invalid input like malformed JSON, 422 (RFC 9110 §15.5.21).
        cause = exc.__cause__
        reason = "not UTF-8" if isinstance(cause, UnicodeDecodeError) else type(cause).__name__
        return problem(
            request, 422, "invalid-body", f"the request body cannot be read as JSON ({reason}: {cause})"
        )
    slug = {
        404: "not-found",
        405: "method-not-allowed",
        408: "request-timeout",
        413: "content-too-large",
    }.get(exc.status_code, "http-error")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route matches {request.method} {request.url.path}"
    return problem(request, exc.status_code, slug, detail, headers=getattr(exc, "headers", None))


async def _model_call_error(request: Request, exc: Exception) -> JSONResponse:
    extra = {
        "provider": getattr(exc, "provider", None),
        "status_code": getattr(exc, "status_code", None),
        "provider_message": getattr(exc, "provider_message", None),
    }
    return problem(request, 502, "model-call-failed", _message(exc), extra=extra)


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers above on ``app``.

    Starlette picks the handler of the most specific class in the exception's MRO, so
    ``InvalidTransition`` (a ``ValueError``) and ``ConversationNotActive`` (a ``Conflict``) get
    their own statuses.
    """
    from convoledger.agent import ModelCallError  # the agent's upstream failures: 502

    app.add_exception_handler(ModelCallError, _model_call_error)
    app.add_exception_handler(AuthError, _auth_error)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(ConversationNotActive, _not_active)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(InvalidTransition, _invalid_transition)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(ValidationError, _pydantic_validation)
    app.add_exception_handler(UnstorableText, _unstorable)
    app.add_exception_handler(ValueError, _value_error)
    app.add_exception_handler(Exception, _internal_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
