"""Reading endpoints: the public registry and statistics, and the lots, events and
discrepancies a caller may see (``service.scoped``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from raretrace.api.errors import ApiError
from raretrace.api.http import call, principal, state
from raretrace.compliance import service as compliance
from raretrace.domain.model import FORMS
from raretrace.service import reads, scoped
from raretrace.service.access import Principal, require

router = APIRouter(prefix="/v1")
Caller = Annotated[Principal, Depends(principal)]
STATUSES = ("active", "in_transit", "consumed", "written_off")


@router.get("/registry", tags=["public"], summary="The registry (participants, facilities,"
            " licences, accreditations, audits)")  # fmt: skip
async def registry(request: Request, who: Caller) -> dict[str, Any]:
    require(who, "read-public")
    store = state(request).store
    return scoped.registry_json(await call(store.registry))


@router.get("/facilities", tags=["public"], summary="Registered facilities (facilities --json)")
async def facilities(request: Request, who: Caller) -> list[dict[str, Any]]:
    require(who, "read-public")
    found = await call(reads.facilities, state(request).store)
    return [reads.facility_json(f) for f in found]


@router.get("/stats", tags=["public"], summary="Aggregate statistics")
async def stats(request: Request, who: Caller) -> dict[str, Any]:
    require(who, "read-public")
    return await call(reads.counts, state(request).store)


@router.get("/lots", tags=["lots"], summary="Lots the caller may see (lots --json)")
async def lots(
    request: Request,
    who: Caller,
    facility: str | None = None,
    form: Annotated[str | None, Query(description=f"One of: {', '.join(FORMS)}")] = None,
    status: Annotated[str | None, Query(description=f"One of: {', '.join(STATUSES)}")] = None,
    limit: Annotated[int, Query(ge=0, le=100_000)] = 100,
) -> dict[str, Any]:
    for name, value, allowed in (("form", form, FORMS), ("status", status, STATUSES)):
        if value is not None and value not in allowed:
            raise ApiError(
                422, "request-invalid", f"{name} {value!r} is not one of: {', '.join(allowed)}"
            )
    where = reads.LotFilter(facility=facility, form=form, status=status)
    page = await call(scoped.lots, state(request).store, who, where, limit=limit or None)
    return {"lots": [reads.lot_json(lot) for lot in page.lots], "total": page.total,
            "cut": page.cut}  # fmt: skip


@router.get("/lots/{lot}", tags=["lots"], summary="Trace a lot (trace --json)",
            response_model=dict[str, Any])  # fmt: skip
async def trace(request: Request, who: Caller, lot: str) -> Response:
    # Most calls are answered before routing (api.fastpath); this one when it steps aside.
    data = await call(scoped.trace_json, state(request).store, who, lot)
    return Response(data, media_type="application/json")


@router.get("/lots/{lot}/check", tags=["lots"], summary="Compliance packs on a lot (check --json)")
async def check(
    request: Request, who: Caller, lot: str,
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD [default: today, UTC]")] = None,
    pack: Annotated[list[str] | None, Query()] = None,
    declared_value_usd: Annotated[float | None, Query(ge=0, allow_inf_nan=False)] = None,
) -> dict[str, Any]:  # fmt: skip
    day = compliance.parse_as_of(as_of)
    packs = compliance.check_packs(pack or [])
    return await call(scoped.check, state(request).store, who, lot, as_of=day, packs=packs,
                      declared_value_usd=declared_value_usd)  # fmt: skip


@router.get("/lots/{lot}/bundle", tags=["lots"], summary="The lot's evidence bundle (export)",
            response_class=Response)  # fmt: skip
async def bundle(request: Request, who: Caller, lot: str) -> Response:
    data = await call(scoped.bundle, state(request).store, who, lot)
    return Response(data, media_type="application/json")


@router.get("/events/{event_id}", tags=["events"], summary="A signed event the caller is party to")
async def event(request: Request, who: Caller, event_id: str) -> dict[str, Any]:
    return await call(scoped.event, state(request).store, who, event_id)


@router.get("/discrepancies", tags=["lots"], summary="Discrepancies the caller may see")
async def discrepancies(
    request: Request, who: Caller, limit: Annotated[int, Query(ge=0, le=100_000)] = 0
) -> list[dict[str, Any]]:
    rows = await call(scoped.discrepancies, state(request).store, who, limit=limit or None)
    return [d.to_json() for d in rows]
