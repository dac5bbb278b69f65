"""The clearinghouse's endpoints (docs/clearinghouse.md): licences, agreements and disputes.

Participants post their steps as events signed by their own key (the token's participant
must be the actor); the council posts its decisions as requests, which the service records
signed with the registry authority's key, naming the token's member as the one who decided.
Reads answer what the caller may see (``clearinghouse.views``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from raretrace.api.errors import ApiError
from raretrace.api.http import call, json_body, json_object, principal, state
from raretrace.clearinghouse import service as ch
from raretrace.domain.agreements import STATES
from raretrace.domain.disputes import OPEN, RULED
from raretrace.service.access import Principal, require
from raretrace.service.submit import Accepted

router = APIRouter(prefix="/v1", tags=["clearinghouse"])
Caller = Annotated[Principal, Depends(principal)]
EVENT_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}


def _answer(done: Accepted) -> JSONResponse:
    headers = {"Raretrace-Replay": "true"} if done.replay else None
    return JSONResponse(done.to_json(), headers=headers)


def _writer(request: Request, who: Principal) -> ch.ServiceWriter:
    return ch.ServiceWriter(state(request).submitter, who)


def _member(who: Principal) -> str:
    if who.participant is None:  # pragma: no cover - a council token always names someone
        raise ApiError(403, "token-required", "a council decision needs a council token")
    return who.participant


# -- licences ----------------------------------------------------------------------------------


@router.get("/licences", summary="Every licence with its standing (licence list)")
async def licences(request: Request, who: Caller) -> list[dict[str, Any]]:
    require(who, "read-clearinghouse")
    return await call(ch.licences, state(request).store)


@router.get("/licences/{licence}", summary="A licence and its licensing history (licence show)")
async def licence(request: Request, who: Caller, licence: str) -> dict[str, Any]:
    require(who, "read-clearinghouse")
    return await call(ch.licence, state(request).store, licence)


@router.post("/licensing", summary="An authority's signed licensing event",
             openapi_extra={"requestBody": EVENT_BODY})  # fmt: skip
async def licensing(request: Request, who: Caller) -> JSONResponse:
    """Issue, renew, suspend, reinstate or revoke a licence: a ``licensing`` event signed by
    the authority (the token's participant), within its jurisdiction."""
    require(who, "licensing")
    event = await json_body(request)
    return _answer(await call(ch.submit_step, _writer(request, who), event, expected=ch.LICENSING))


# -- agreements --------------------------------------------------------------------------------


@router.get("/agreements", summary="Agreements the caller may see (agreement list)")
async def agreements(
    request: Request, who: Caller,
    status: Annotated[str | None, Query(description=f"One of: {', '.join(STATES)}")] = None,
) -> list[dict[str, Any]]:  # fmt: skip
    require(who, "read-clearinghouse")
    _one_of("status", status, STATES)
    return await call(ch.agreements, state(request).store, who, status=status)


def _one_of(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise ApiError(
            422, "request-invalid", f"{name} {value!r} is not one of: {', '.join(allowed)}"
        )


@router.get("/agreements/{agreement}", summary="An agreement as the caller may see it")
async def agreement(request: Request, who: Caller, agreement: str) -> dict[str, Any]:
    require(who, "read-clearinghouse")
    return await call(ch.agreement, state(request).store, who, agreement)


@router.post("/agreements", summary="Submit an agreement (a party's signed event)",
             openapi_extra={"requestBody": EVENT_BODY})  # fmt: skip
async def submit_agreement(request: Request, who: Caller) -> JSONResponse:
    """An ``agreement`` event signed by a party (the token's participant)."""
    require(who, "file-cases")
    event = await json_body(request)
    return _answer(await call(ch.submit_step, _writer(request, who), event, expected=ch.AGREEMENT))


@router.post("/agreements/{agreement}/reviews", summary="Move an agreement's review (council)",
             openapi_extra={"requestBody": EVENT_BODY})  # fmt: skip
async def review(request: Request, who: Caller, agreement: str) -> JSONResponse:
    """``{"status", "reasons", "conditions", "public", "time"}``: the next step of the review,
    decided by the token's council member (who may not be a party)."""
    require(who, "council-decisions")
    body = json_object(
        await json_body(request),
        {"status": str, "reasons": str, "conditions": list, "public": list, "time": str},
        required={"status"},
    )  # fmt: skip
    lists = {k: _texts(body, k) for k in ("conditions", "public")}
    done = await call(ch.review_agreement, _writer(request, who), agreement,
                      status=body["status"], by=_member(who), reasons=body.get("reasons"),
                      time=body.get("time"), **lists)  # fmt: skip
    return _answer(done)


def _texts(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name) or []
    if not all(isinstance(v, str) for v in value):
        raise ApiError(422, "request-invalid", f"field {name!r} must be a list of texts")
    return list(value)


# -- disputes ----------------------------------------------------------------------------------


@router.get("/disputes", summary="Disputes the caller may see (dispute list)")
async def disputes(
    request: Request, who: Caller,
    status: Annotated[str | None, Query(description="open or ruled")] = None,
) -> list[dict[str, Any]]:  # fmt: skip
    require(who, "read-clearinghouse")
    _one_of("status", status, (OPEN, RULED))
    return await call(ch.disputes, state(request).store, who, status=status)


@router.get("/disputes/{dispute}", summary="A dispute as the caller may see it")
async def dispute(request: Request, who: Caller, dispute: str) -> dict[str, Any]:
    require(who, "read-clearinghouse")
    return await call(ch.dispute, state(request).store, who, dispute)


@router.post("/disputes", summary="Open a dispute (a participant's signed event)",
             openapi_extra={"requestBody": EVENT_BODY})  # fmt: skip
async def open_dispute(request: Request, who: Caller) -> JSONResponse:
    """A ``dispute`` event signed by the participant opening it (the token's)."""
    require(who, "file-cases")
    event = await json_body(request)
    return _answer(await call(ch.submit_step, _writer(request, who), event, expected=ch.DISPUTE))


@router.post("/disputes/{dispute}/statements", summary="A party's signed statement",
             openapi_extra={"requestBody": EVENT_BODY})  # fmt: skip
async def statement(request: Request, who: Caller, dispute: str) -> JSONResponse:
    """A ``statement`` event about this dispute, signed by a party (the token's)."""
    require(who, "file-cases")
    event = await json_body(request)
    done = await call(ch.submit_step, _writer(request, who), event, expected=ch.STATEMENT,
                      case=dispute)  # fmt: skip
    return _answer(done)


@router.post("/disputes/{dispute}/ruling", summary="Rule on a dispute (council)",
             openapi_extra={"requestBody": EVENT_BODY})  # fmt: skip
async def ruling(request: Request, who: Caller, dispute: str) -> JSONResponse:
    """``{"outcome", "reasons", "corrective": {"party", "action"}, "time"}``: the ruling of
    the token's council member (who may not be a party), which closes the dispute."""
    require(who, "council-decisions")
    body = json_object(
        await json_body(request),
        {"outcome": str, "reasons": str, "corrective": dict, "time": str},
        required={"outcome", "reasons"},
    )  # fmt: skip
    corrective = body.get("corrective")
    if corrective is not None and not (
        set(corrective) == {"party", "action"}
        and all(isinstance(v, str) for v in corrective.values())
    ):
        raise ApiError(422, "request-invalid", 'corrective must be {"party": ID, "action": TEXT}')
    done = await call(ch.rule_dispute, _writer(request, who), dispute, outcome=body["outcome"],
                      by=_member(who), reasons=body["reasons"], corrective=corrective,
                      time=body.get("time"))  # fmt: skip
    return _answer(done)
