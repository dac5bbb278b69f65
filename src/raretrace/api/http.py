"""Request plumbing shared by the routes: the caller, bodies within limits, JSON parsing,
and running the (blocking) service functions off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from raretrace.api.errors import ApiError, error_response
from raretrace.api.state import AppState
from raretrace.service import tokens
from raretrace.service.access import ANONYMOUS, Principal

P = ParamSpec("P")
T = TypeVar("T")

JSON_TYPES = ("application/json",)
LINES_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines")
BATCH_PATH = "/v1/events/batch"


def state(request: Request) -> AppState:
    """This process's service state (set up when the app starts)."""
    found: AppState = request.app.state.raretrace
    return found


async def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking service function in the thread pool."""
    return await run_in_threadpool(fn, *args, **kwargs)


async def principal(request: Request) -> Principal:
    """Who is calling: the bearer token's principal, or the public without one."""
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "invalid-token", "the Authorization header must be 'Bearer TOKEN'")
    return await call(tokens.authenticate, state(request).store, token.strip())


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def require_type(request: Request, allowed: tuple[str, ...]) -> None:
    """415 unless the body is one of ``allowed`` media types."""
    if _media_type(request) not in allowed:
        raise ApiError(
            415, "unsupported-media-type",
            f"send the body as {' or '.join(allowed)}; got"
            f" {_media_type(request) or 'no Content-Type'}",
        )  # fmt: skip


async def body(request: Request) -> bytes:
    """The whole request body; a client that leaves mid-body gets the error shape (nobody
    reads it) instead of a logged traceback."""
    try:
        return await request.body()
    except ClientDisconnect:
        raise ApiError(400, "client-disconnected", "the client closed the request") from None


async def json_body(request: Request) -> Any:
    """The request body as JSON (415 for another media type, 400 if it does not parse)."""
    require_type(request, JSON_TYPES)
    raw = await body(request)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed-json", f"the body is not valid JSON: {exc}") from None


def json_object(
    body: Any, fields: dict[str, type | tuple[type, ...]], *, required: set[str]
) -> dict[str, Any]:
    """``body`` as an object with only ``fields`` (of those types), ``required`` present."""
    if not isinstance(body, dict):
        raise ApiError(422, "request-invalid", "the body must be a JSON object")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise ApiError(
            422, "unknown-field", f"unknown field(s) {', '.join(map(repr, unknown))}; the fields"
            f" are {', '.join(fields)}", {"unknown": unknown[:20]},
        )  # fmt: skip
    for name in sorted(required - set(body)):
        raise ApiError(422, "request-invalid", f"field {name!r} is required")
    for name, value in body.items():
        wanted = fields[name]
        wrong_bool = isinstance(value, bool) and bool not in _types(wanted)
        if value is not None and (not isinstance(value, wanted) or wrong_bool):
            raise ApiError(422, "request-invalid", f"field {name!r} has the wrong type")
    return body


def _types(wanted: type | tuple[type, ...]) -> tuple[type, ...]:
    return wanted if isinstance(wanted, tuple) else (wanted,)


class BodyLimit:
    """ASGI middleware: a body above the limit is refused 413 in the one error shape, by its
    Content-Length before anything is read, or as soon as a chunked body passes it."""

    def __init__(self, app: ASGIApp, *, single: int, batch: int) -> None:
        self.app, self.single, self.batch = app, single, batch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.batch if scope["path"] == BATCH_PATH else self.single
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            response = error_response(
                413, "body-too-large",
                f"the body is {length.decode('latin-1')} bytes; this endpoint takes at most"
                f" {limit:,}",
            )  # fmt: skip
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ApiError(
                    413,
                    "body-too-large",
                    f"the body passed {limit:,} bytes, the most this endpoint takes",
                )
            return message

        await self.app(scope, counted, send)
