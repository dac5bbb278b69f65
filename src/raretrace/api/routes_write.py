"""Writing endpoints: signed events (one, or a JSON Lines batch), registry records, certify,
and the public credential verifier."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from raretrace.api.errors import ApiError
from raretrace.api.http import (
    JSON_TYPES,
    LINES_TYPES,
    call,
    json_body,
    json_object,
    principal,
    require_type,
    state,
)
from raretrace.api.http import body as read_body
from raretrace.compliance import service as compliance
from raretrace.credentials.securing import FORMATS
from raretrace.service import credentials
from raretrace.service.access import Principal, require
from raretrace.service.submit import check_actor

router = APIRouter(prefix="/v1")
Caller = Annotated[Principal, Depends(principal)]
EVENT_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}
LINES_BODY = {"content": {"application/x-ndjson": {"schema": {"type": "string"}}},
              "required": True}  # fmt: skip


@router.post("/events", tags=["events"], summary="Submit one signed event",
             openapi_extra={"requestBody": EVENT_BODY})  # fmt: skip
async def submit_event(request: Request, who: Caller) -> JSONResponse:
    """Append one event signed by its actor, who must be the token's participant. A retry
    of the same event answers the same and appends nothing (header ``Raretrace-Replay``)."""
    require(who, "submit-events")
    event = check_actor(await json_body(request), who)
    done = await call(state(request).submitter.submit, event, who)
    headers = {"Raretrace-Replay": "true"} if done.replay else None
    return JSONResponse(done.to_json(), headers=headers)


@router.post(
    "/events/batch",
    tags=["events"],
    summary="Submit signed events (JSON Lines)",
    openapi_extra={"requestBody": LINES_BODY},
    response_class=StreamingResponse,
)
async def submit_batch(request: Request, who: Caller) -> StreamingResponse:
    """Append a JSON Lines batch; the answer streams as JSON Lines, like ``raretrace
    ingest``: one object per rejected line as each transaction commits, then
    ``{"summary": {...}}`` with the counts."""
    require(who, "submit-events")
    require_type(request, LINES_TYPES)
    lines = list(_numbered(await read_body(request)))
    answers = state(request).submitter.submit_lines(lines, who)
    return StreamingResponse(_encoded(answers), media_type="application/x-ndjson")


def _numbered(raw: bytes) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if line.strip():
            yield number, line


async def _encoded(answers: Iterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    async for answer in iterate_in_threadpool(answers):
        yield orjson.dumps(answer) + b"\n"


@router.post("/registry", tags=["registry"], summary="Load registry records (council)",
             openapi_extra={"requestBody": EVENT_BODY})  # fmt: skip
async def load_registry(request: Request, who: Caller) -> dict[str, Any]:
    """Add or change participants, facilities, licences, accreditations and audits (a
    registry document, as ``raretrace registry load`` reads); each change is a registry
    event signed with the registry authority's key."""
    require(who, "load-registry")
    doc = await json_body(request)
    if not isinstance(doc, dict):
        raise ApiError(422, "request-invalid", "the body must be a registry document (object)")
    report = await call(state(request).submitter.load_registry, doc)
    return {"accepted": report.accepted, "already_present": report.duplicates}


@router.post("/lots/{lot}/certify", tags=["credentials"], summary="Certify a lot (council)",
             openapi_extra={"requestBody": EVENT_BODY})  # fmt: skip
async def certify(request: Request, who: Caller, lot: str) -> dict[str, Any]:
    """Issue the lot's passport and conformity credentials, as ``raretrace certify``."""
    require(who, "certify")
    body = json_object(
        await json_body(request) if await read_body(request) else {},
        {"as_of": str, "format": str, "declared_value_usd": (int, float)}, required=set(),
    )  # fmt: skip
    fmt = body.get("format") or "jose"
    if fmt not in FORMATS:
        raise ApiError(422, "request-invalid", f"format must be one of {', '.join(FORMATS)}")
    day = compliance.parse_as_of(body.get("as_of"))
    value = compliance.check_value(body.get("declared_value_usd"))
    s = state(request)
    return await call(credentials.certify, s.store, who, s.issuer, lot, as_of=day, fmt=fmt,
                      declared_value_usd=value)  # fmt: skip


@router.post("/credentials/verify", tags=["credentials"], summary="Verify a credential",
             openapi_extra={"requestBody": EVENT_BODY})  # fmt: skip
async def verify_credential(request: Request, who: Caller) -> dict[str, Any]:
    """Check a credential (VC-JOSE text or Data Integrity JSON text) against the DID
    documents you trust and any status lists; ``valid`` says whether every check passed."""
    require(who, "verify-credential")
    body = json_object(
        await json_body(request),
        {"credential": str, "trust": list, "status_lists": list, "at": str},
        required={"credential", "trust"},
    )  # fmt: skip
    lists = body.get("status_lists") or []
    if not all(isinstance(x, str) for x in lists):
        raise ApiError(422, "request-invalid", "status_lists must be a list of texts")
    at = _moment(body.get("at"))
    return await call(credentials.verify, who, credential=body["credential"],
                      trust=body["trust"], status_lists=lists, at=at)  # fmt: skip


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "request-invalid", f"at {text!r} is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise ApiError(422, "request-invalid", f"at {text!r} has no time zone")
    return when.astimezone(UTC)


__all__ = ["JSON_TYPES", "router"]
