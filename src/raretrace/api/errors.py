"""The one error shape of the HTTP API: every 4xx and 5xx answer is
``{"error": "...", "rule": "...", "detail": {...}}`` (docs/service.md, "Errors"), and no
stack trace ever reaches a client: an unexpected exception is logged here and answered 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from raretrace.domain.errors import (
    ConfigError,
    NotFound,
    RaretraceError,
    ValidationError,
    VerificationError,
)
from raretrace.service.access import Forbidden, Unauthorized
from raretrace.service.ledgers import describe_unusable

log = logging.getLogger("raretrace.api")


class ApiError(Exception):
    """An answer in the error shape, raised by the API's own request checks."""

    def __init__(
        self, status: int, rule: str, message: str, detail: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.rule, self.message = status, rule, message
        self.detail = detail or {}


def error_response(
    status: int, rule: str, message: str, detail: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:  # fmt: skip
    """The one shape."""
    body = {"error": message, "rule": rule, "detail": detail or {}}
    return JSONResponse(body, status_code=status, headers=headers)


def _from_raretrace(exc: RaretraceError) -> JSONResponse:
    if isinstance(exc, Unauthorized):
        return error_response(401, exc.rule, exc.message, headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, Forbidden):
        return error_response(403, exc.rule, exc.message)
    if isinstance(exc, NotFound):
        return error_response(404, "not-found", exc.message)
    if isinstance(exc, ValidationError):
        status = 409 if exc.rule == "duplicate-event-id" else 422
        return error_response(status, exc.rule, exc.message, {"subject": exc.subject})
    if isinstance(exc, VerificationError):
        return error_response(422, "verification-failed", exc.message)
    if isinstance(exc, ConfigError):
        return error_response(400, "bad-request", exc.message)
    return error_response(400, "bad-request", exc.message)


_HTTP_RULES = {
    404: "no-such-endpoint",
    405: "method-not-allowed",
    413: "body-too-large",
    415: "unsupported-media-type",
}


def install(app: FastAPI, db: str) -> None:
    """Register the handlers that turn every failure into the one shape."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.rule, exc.message, exc.detail)

    @app.exception_handler(RaretraceError)
    async def _raretrace(_: Request, exc: RaretraceError) -> JSONResponse:
        return _from_raretrace(exc)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"where": "request", "problem": "not valid"}
        return error_response(
            422, "request-invalid", f"{first['where']}: {first['problem']}",
            {"problems": problems[:20]},
        )  # fmt: skip

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        rule = _HTTP_RULES.get(exc.status_code, "http-error")
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404:
            message = "no such endpoint; the API is described at /openapi.json and /docs"
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, rule, message, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected(exc, db, request.method, request.url.path)


def answer_for(exc: Exception, db: str, method: str, path: str) -> JSONResponse:
    """The answer the handlers ``install`` registers give ``exc`` (for a path that answers
    outside the framework's routing: ``api.fastpath``)."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.rule, exc.message, exc.detail)
    if isinstance(exc, RaretraceError):
        return _from_raretrace(exc)
    return unexpected(exc, db, method, path)


def unexpected(exc: Exception, db: str, method: str, path: str) -> JSONResponse:
    """503 for a database that cannot be used now, else 500; logged, never a traceback to
    the client."""
    if isinstance(exc, ClientDisconnect):  # the client left mid-body: nobody to answer
        return error_response(400, "client-disconnected", "the client closed the request")
    unusable = describe_unusable(db, exc)
    if unusable is not None:
        busy = "locked" in unusable or "busy" in unusable
        log.warning("database unusable on %s %s: %s", method, path, unusable)
        return error_response(
            503, "ledger-busy" if busy else "database-unavailable",
            "the ledger is busy with another writer past the wait bound; retry shortly"
            if busy else "the ledger's database cannot be used right now; retry later",
            headers={"Retry-After": "1"},
        )  # fmt: skip
    log.exception("unexpected error on %s %s", method, path)
    return error_response(
        500, "internal-error", "the service failed on this request; it was logged"
    )
