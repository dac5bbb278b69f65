"""The pages everyone may open: the overview, the registry (and the licence form for
authorities), a facility, the log, and signing in and out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from raretrace.api.http import call, state
from raretrace.domain.errors import ConfigError, RaretraceError
from raretrace.service import dashboard, logs, reads, scoped
from raretrace.service.access import Forbidden
from raretrace.web import figures
from raretrace.web.access import allowed, require_page
from raretrace.web.overview import Overview, OverviewCache, licence_statuses, warnings_rows
from raretrace.web.render import error_page, guarded, page
from raretrace.web.session import COOKIE, MAX_AGE_S, Viewer, check_token, same_origin, viewer

router = APIRouter(prefix="/ui", include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]


@router.get("/", response_class=HTMLResponse)
@guarded
async def overview(request: Request, who: Who) -> Response:
    require_page(who.principal, "read-public")
    store = state(request).store
    figures_ = await call(_CACHE.latest, store)
    reg = await call(store.registry)
    licences = licence_statuses(reg, _now_stored())
    scoped_disc = None
    if allowed(who.principal.role, "read-discrepancies"):
        scoped_disc = await call(dashboard.discrepancy_count, store, who.principal)
    context: dict[str, Any] = {"licences": licences, "scoped_discrepancies": scoped_disc,
                               "figures": figures_, "failure": _CACHE.failure}  # fmt: skip
    if figures_ is not None:
        o = figures_.overview
        context.update(o=o, warnings=warnings_rows(o.warnings), sankey=figures_.derived[0],
                       map=figures_.derived[1], bars=figures_.derived[2])  # fmt: skip
    return page(request, who, "overview.html", **context)


@router.get("/overview/ready")
@guarded
async def overview_ready(request: Request, who: Who) -> Response:
    """204 while the first figures are computed; then tells htmx to reload the page."""
    require_page(who.principal, "read-public")
    figures_ = await call(_CACHE.latest, state(request).store)
    if figures_ is None:
        return Response(status_code=204)
    return Response(status_code=200, headers={"HX-Refresh": "true"})


def _charts(o: Overview) -> tuple[Markup, Markup, Markup]:
    """The overview's three charts, drawn with its figures off the request path (Plotly's
    JSON of a Sankey of a large ledger takes longer than the page itself)."""
    return figures.flows_sankey(o), figures.facilities_map(o), figures.concentration(o)


_CACHE: OverviewCache[tuple[Markup, Markup, Markup]] = OverviewCache(_charts)


def _now_stored() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


@router.get("/facilities/{facility}", response_class=HTMLResponse)
@guarded
async def facility(request: Request, who: Who, facility: str) -> Response:
    require_page(who.principal, "read-public")
    store = state(request).store
    reg = await call(store.registry)
    found = reg.facilities.get(facility)
    if found is None:
        reads.check_facility(reg, facility)
    assert found is not None
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    status = next(s for s in licence_statuses(reg, now) if s.facility.id == facility)
    figures_ = await call(_CACHE.latest, store)
    o = figures_.overview if figures_ is not None else None
    throughput = (
        None
        if o is None
        else sum(kg for lane in o.flows.lanes if lane.source == facility for kg in lane.kg.values())
    )
    lots, discrepancies = None, None
    if allowed(who.principal.role, "read-lots"):
        seen = scoped.scope(store, who.principal, "read-lots")
        if seen.sees_facilities(facility):
            lots = await call(dashboard.lots_page, store, who.principal,
                              reads.LotFilter(facility=facility), limit=25)  # fmt: skip
            discrepancies = await call(dashboard.facility_discrepancies, store, who.principal,
                                       facility)  # fmt: skip
    return page(
        request, who, "facility.html", f=found, licence=status, now=now,
        licences=[lic for lic in reg.licences.values() if lic.facility == facility],
        audits=[a for a in reg.audits.values() if a.facility == facility],
        operator=reg.participants.get(found.operator), shipped_kg=throughput, lots=lots,
        discrepancies=discrepancies, lots_base=f"/ui/lots?{urlencode({'facility': facility})}&",
        span=(o.first_time, o.last_time) if o else (None, None),
    )  # fmt: skip


@router.get("/log", response_class=HTMLResponse)
@guarded
async def log_page(request: Request, who: Who) -> Response:
    require_page(who.principal, "read-public")
    store = state(request).store
    note = await call(logs.checkpoint, store)
    lines = note.splitlines()
    size = int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0
    signatures = [line for line in lines if line.startswith("\u2014 ")]
    sizes = await call(dashboard.tree_sizes, store)
    return page(request, who, "log.html", note=note, origin=lines[0] if lines else "",
                size=size, root=lines[2] if len(lines) > 2 else "", sizes=sizes,
                growth=figures.tree_size_chart(sizes) if len(sizes) > 1 else None,
                signatures=signatures, vkey=await call(logs.vkey, store))  # fmt: skip


@router.get("/log/consistency", response_class=HTMLResponse)
@guarded
async def consistency(request: Request, who: Who, old: str = "", new: str = "") -> Response:
    require_page(who.principal, "read-public")
    try:
        old_size = int(old)
        new_size = int(new) if new else None
    except ValueError:
        raise ConfigError("give the sizes as whole numbers of entries, e.g. 10 and 100") from None
    if old_size < 1 or (new_size is not None and new_size < old_size):
        raise ConfigError("the old size must be at least 1 and not above the new size")
    proof = await call(logs.consistency, state(request).store, old_size=old_size,
                       new_size=new_size)  # fmt: skip
    return page(request, who, "_consistency.html", proof=proof)


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, who: Who) -> Response:
    return page(request, who, "signin.html", error=None)


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request, who: Who, token: Annotated[str, Form()] = "") -> Response:
    """Check the token; keep it in the session cookie; go to the overview."""
    try:
        same_origin(request)
        if not token.strip():
            raise Forbidden("token-required", "paste the token `raretrace token issue` printed")
        found = await check_token(request, token)
    except RaretraceError as exc:
        return page(request, who, "signin.html", status=401, error=exc.message)
    response = RedirectResponse("/ui/", status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(COOKIE, token.strip(), max_age=MAX_AGE_S, httponly=True,
                        samesite="strict", secure=secure, path="/ui")  # fmt: skip
    del found
    return response


@router.post("/signout")
async def signout(request: Request, who: Who) -> Response:
    try:
        same_origin(request)
    except RaretraceError as exc:
        return error_page(request, who, exc)
    response = RedirectResponse("/ui/", status_code=303)
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
    return response
