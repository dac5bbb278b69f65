"""The pages everyone may open: the overview, the registry (and the licence form for
authorities), a facility, the log, and signing in and out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from raretrace.api.http import call, state
from raretrace.domain.errors import ConfigError, RaretraceError
from raretrace.service import logs, reads, scoped
from raretrace.service.access import COUNCIL, Forbidden, scope_of
from raretrace.service.ledgers import Store
from raretrace.web import figures
from raretrace.web.access import allowed, require_page
from raretrace.web.overview import Overview, OverviewCache, licence_statuses, warnings_rows
from raretrace.web.render import error_page, guarded, page
from raretrace.web.session import COOKIE, MAX_AGE_S, Viewer, check_token, same_origin, viewer

router = APIRouter(prefix="/ui", include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
_CACHE = OverviewCache()


@router.get("/", response_class=HTMLResponse)
@guarded
async def overview(request: Request, who: Who) -> Response:
    require_page(who.principal, "read-public")
    store = state(request).store
    o = await call(_CACHE.get, store)
    scoped_disc = None
    if allowed(who.principal.role, "read-discrepancies"):
        found = await call(scoped.discrepancies, store, who.principal, limit=None)
        scoped_disc = len(found)
    charts = await call(_charts, o)
    return page(
        request, who, "overview.html", o=o, warnings=warnings_rows(o.warnings),
        sankey=charts[0], map=charts[1], bars=charts[2], scoped_discrepancies=scoped_disc,
    )  # fmt: skip


_CHARTS: dict[int, tuple[Markup, Markup, Markup]] = {}


def _charts(o: Overview) -> tuple[Markup, Markup, Markup]:
    """The overview's three charts, drawn once per overview (Plotly's JSON of a Sankey of a
    large ledger takes longer than the page itself)."""
    found = _CHARTS.get(o.size)
    if found is None:
        _CHARTS.clear()
        found = _CHARTS[o.size] = (figures.flows_sankey(o), figures.facilities_map(o),
                                   figures.concentration(o))  # fmt: skip
    return found


@router.get("/registry", response_class=HTMLResponse)
@guarded
async def registry(request: Request, who: Who) -> Response:
    require_page(who.principal, "read-public")
    return await _registry_page(request, who)


async def _registry_page(request: Request, who: Viewer, *, status: int = 200,
                         form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                         done: str | None = None) -> Response:  # fmt: skip
    store = state(request).store
    reg = await call(store.registry)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    may_issue = allowed(who.principal.role, "issue-licence")
    return page(
        request, who, "registry.html", status=status, registry=reg,
        statuses={s.facility.id: s for s in licence_statuses(reg, now)},
        may_issue=may_issue, issuable=_issuable(store, who) if may_issue else [],
        authorities=sorted(p.id for p in reg.participants.values() if "authority" in p.roles),
        form=form or {}, errors=errors or {}, done=done, now=now,
    )  # fmt: skip


def _issuable(store: Store, who: Viewer) -> list[str]:
    """The facilities ``who`` may license: the council any; an authority those in its
    jurisdiction (its country, or named on its licences)."""
    seen = scope_of(who.principal, store.registry())
    return sorted(f for f in store.registry().facilities if seen.sees_facilities(f))


@router.post("/registry/licences", response_class=HTMLResponse)
@guarded
async def issue_licence(
    request: Request, who: Who, facility: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "operating", valid_from: Annotated[str, Form()] = "",
    valid_until: Annotated[str, Form()] = "", licence_id: Annotated[str, Form()] = "",
    authority: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Record a licence the signed-in authority grants (the council: for the authority it
    names), as a registry event signed by the registry authority."""
    same_origin(request)
    require_page(who.principal, "issue-licence")
    form = {
        "facility": facility, "kind": kind, "valid_from": valid_from,
        "valid_until": valid_until, "licence_id": licence_id, "authority": authority,
    }  # fmt: skip
    store = state(request).store
    errors = _licence_errors(store, who, form)
    if errors:
        return await _registry_page(request, who, status=422, form=form, errors=errors)
    reg = store.registry()
    record = {
        "id": licence_id.strip() or f"LIC-{facility}-{valid_from.replace('-', '')}",
        "holder": reg.facilities[facility].operator, "facility": facility, "kind": kind,
        "authority": authority if who.principal.role == COUNCIL else who.principal.participant,
        "valid_from": f"{valid_from}T00:00:00Z",
    }  # fmt: skip
    if valid_until:
        record["valid_until"] = f"{valid_until}T00:00:00Z"
    try:
        await call(state(request).submitter.load_registry, {"licences": [record]})
    except RaretraceError as exc:
        return await _registry_page(request, who, status=422, form=form,
                                    errors={"form": exc.message})  # fmt: skip
    return await _registry_page(request, who, done=f"licence {record['id']} recorded")


def _licence_errors(store: Store, who: Viewer, form: dict[str, str]) -> dict[str, str]:
    """Each field's problem in words (shown next to it)."""
    errors: dict[str, str] = {}
    if form["facility"] not in _issuable(store, who):
        errors["facility"] = "choose a facility in your jurisdiction from the list"
    if form["kind"] not in ("operating", "residue-storage"):
        errors["kind"] = "choose operating or residue-storage"
    days: dict[str, date | None] = {}
    for name in ("valid_from", "valid_until"):
        try:
            days[name] = date.fromisoformat(form[name]) if form[name] else None
        except ValueError:
            errors[name] = f"{form[name]!r} is not a date (YYYY-MM-DD)"
    if not form["valid_from"] and "valid_from" not in errors:
        errors["valid_from"] = "give the first day the licence holds"
    first, last = days.get("valid_from"), days.get("valid_until")
    if first and last and last <= first:
        errors["valid_until"] = f"must be after {first} (a licence holds up to, not on, it)"
    if who.principal.role == COUNCIL:
        reg = store.registry()
        if form["authority"] not in reg.participants or "authority" not in (
            reg.participants[form["authority"]].roles
        ):
            errors["authority"] = "choose the authority that grants it"
    return errors


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
    o = await call(_CACHE.get, store)
    throughput = sum(kg for lane in o.flows.lanes if lane.source == facility
                     for e, kg in lane.kg.items())  # fmt: skip
    lots, discrepancies = None, None
    if allowed(who.principal.role, "read-lots"):
        seen = scoped.scope(store, who.principal, "read-lots")
        if seen.sees_facilities(facility):
            page_ = await call(scoped.lots, store, who.principal,
                               reads.LotFilter(facility=facility), limit=200)  # fmt: skip
            lots = page_
            found_d = await call(scoped.discrepancies, store, who.principal)
            discrepancies = [d for d in found_d if facility in (d.origin, d.destination)]
    return page(
        request, who, "facility.html", f=found, licence=status, now=now,
        licences=[lic for lic in reg.licences.values() if lic.facility == facility],
        audits=[a for a in reg.audits.values() if a.facility == facility],
        operator=reg.participants.get(found.operator), shipped_kg=throughput, lots=lots,
        discrepancies=discrepancies, span=(o.first_time, o.last_time),
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
    return page(request, who, "log.html", note=note, origin=lines[0] if lines else "",
                size=size, root=lines[2] if len(lines) > 2 else "",
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
