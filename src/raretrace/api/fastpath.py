"""The hottest read, ``GET /v1/lots/{lot}`` (a trace), answered below the framework.

The route stays declared in FastAPI (the OpenAPI document, ``/docs``, and the answer when
this path steps aside: a GET that carries a body), but a plain GET of ``/v1/lots/ID`` is
answered here, before any other middleware: the bearer
token read as ``http.principal`` reads it, then one trip to the thread pool where
``scoped.trace_for_token`` checks the token and reads the trace on one database connection,
and the answer written as JSON bytes (orjson) in one message. Failures take the one error
shape through ``errors.answer_for``, the very mapping the framework's handlers use.

Measured (docs/architecture.md#performance): routing, dependency injection and response
validation took about half of a trace's server CPU; this path skips them.
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from raretrace.api.errors import ApiError, answer_for
from raretrace.service import scoped

PREFIX = "/v1/lots/"
INVALID = ApiError(401, "invalid-token", "the Authorization header must be 'Bearer TOKEN'")


def bearer_of(scope: Scope) -> str | None:
    """The bearer token of the request's first Authorization header (None: no header);
    ApiError 401 for another scheme or an empty token, as ``http.principal``."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            text: str = value.decode("latin-1")
            scheme, _, token = text.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise INVALID
            return token.strip()
    return None


def _has_body(scope: Scope) -> bool:
    """Whether the request says it carries a body (left to the framework and ``BodyLimit``,
    which answer it as they always did)."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


class TraceFastPath:
    """ASGI middleware: GET /v1/lots/{lot} answered here; everything else passes on."""

    def __init__(self, app: ASGIApp, *, db: str) -> None:
        self.app, self.db = app, db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or _has_body(scope):
            await self.app(scope, receive, send)
            return
        path = get_route_path(scope)
        lot = path[len(PREFIX) :] if path.startswith(PREFIX) else ""
        if not lot or "/" in lot:
            await self.app(scope, receive, send)
            return
        try:
            store = scope["app"].state.raretrace.store
            found: bytes = await run_in_threadpool(
                scoped.trace_for_token, store, bearer_of(scope), lot
            )
        except Exception as exc:  # every failure answers in the one shape
            await answer_for(exc, self.db, "GET", path)(scope, receive, send)
            return
        body = found
        headers = [(b"content-length", str(len(body)).encode()),
                   (b"content-type", b"application/json")]  # fmt: skip
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
