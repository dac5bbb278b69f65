"""The registry page (facilities, licences, audits, participants) and its two forms: an
authority issues a licence for a facility in its jurisdiction, an auditor records an audit
of a facility it audits (the council either, naming the authority or auditor).

Both are recorded as ``POST /v1/registry`` records them: a registry event signed with the
registry authority's key (the service's; it never holds a participant's private key),
naming the signed-in participant as the authority or auditor (docs/dashboard.md, "Writing
to the registry").
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from raretrace.api.http import call, state
from raretrace.domain.errors import RaretraceError
from raretrace.domain.registry import Registry
from raretrace.service.access import COUNCIL, scope_of
from raretrace.service.ledgers import Store
from raretrace.web.access import allowed, require_page
from raretrace.web.overview import licence_statuses
from raretrace.web.render import guarded, page
from raretrace.web.session import Viewer, same_origin, viewer

router = APIRouter(prefix="/ui", include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
RESULTS = ("pass", "conditional", "fail")


@router.get("/registry", response_class=HTMLResponse)
@guarded
async def registry(request: Request, who: Who) -> Response:
    require_page(who.principal, "read-public")
    return await _registry_page(request, who)


async def _registry_page(request: Request, who: Viewer, *, status: int = 200,
                         form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                         audit: dict[str, Any] | None = None,
                         audit_errors: dict[str, str] | None = None,
                         done: str | None = None) -> Response:  # fmt: skip
    store = state(request).store
    reg = await call(store.registry)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    may_issue = allowed(who.principal.role, "issue-licence")
    may_audit = allowed(who.principal.role, "record-audit")
    return page(
        request, who, "registry.html", status=status, registry=reg,
        statuses={s.facility.id: s for s in licence_statuses(reg, now)},
        may_issue=may_issue, issuable=_issuable(store, who) if may_issue else [],
        authorities=_holders(reg, "authority"), auditors=_holders(reg, "auditor"),
        may_audit=may_audit, auditable=_auditable(store, who) if may_audit else [],
        standards=_standards(reg, who) if may_audit else [], results=RESULTS,
        form=form or {}, errors=errors or {}, audit=audit or {}, audit_errors=audit_errors or {},
        done=done, now=now,
    )  # fmt: skip


def _holders(reg: Registry, role: str) -> list[str]:
    return sorted(p.id for p in reg.participants.values() if role in p.roles)


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


# -- audits -----------------------------------------------------------------------------------


def _auditable(store: Store, who: Viewer) -> list[str]:
    """The facilities ``who`` may record an audit of: the council any; an auditor those it
    already audits (its scope). A first audit of a facility widens what the auditor may
    read, so the council records it (here, or with ``registry load``)."""
    seen = scope_of(who.principal, store.registry())
    return sorted(f for f in store.registry().facilities if seen.sees_facilities(f))


def _standards(reg: Registry, who: Viewer) -> list[str]:
    """The standards the form offers: the signed-in auditor's accredited ones (any
    accreditation, any time; the date is checked on submission); every one for the council."""
    mine = who.principal.participant if who.principal.role != COUNCIL else None
    return sorted({s for a in reg.accreditations.values() if mine in (None, a.auditor)
                   for s in a.standards})  # fmt: skip


@router.post("/registry/audits", response_class=HTMLResponse)
@guarded
async def record_audit(
    request: Request, who: Who, facility: Annotated[str, Form()] = "",
    standard: Annotated[str, Form()] = "", audit_date: Annotated[str, Form()] = "",
    audit_until: Annotated[str, Form()] = "", result: Annotated[str, Form()] = "",
    findings: Annotated[str, Form()] = "", audit_id: Annotated[str, Form()] = "",
    auditor: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Record an audit the signed-in auditor did (the council: for the auditor it names),
    as a registry event signed by the registry authority."""
    same_origin(request)
    require_page(who.principal, "record-audit")
    form = {"facility": facility, "standard": standard, "audit_date": audit_date,
            "audit_until": audit_until, "result": result, "findings": findings,
            "audit_id": audit_id, "auditor": auditor}  # fmt: skip
    store = state(request).store
    errors = _audit_errors(store, who, form)
    if errors:
        return await _registry_page(request, who, status=422, audit=form, audit_errors=errors)
    record: dict[str, Any] = {
        "id": audit_id.strip() or f"AUD-{facility}-{standard}-{audit_date.replace('-', '')}",
        "facility": facility, "standard": standard, "result": result,
        "auditor": auditor if who.principal.role == COUNCIL else who.principal.participant,
        "date": f"{audit_date}T00:00:00Z", "valid_until": f"{audit_until}T00:00:00Z",
    }  # fmt: skip
    lines = [line.strip() for line in findings.splitlines() if line.strip()]
    if lines:
        record["findings"] = lines
    try:
        await call(state(request).submitter.load_registry, {"audits": [record]})
    except RaretraceError as exc:
        return await _registry_page(request, who, status=422, audit=form,
                                    audit_errors={"form": exc.message})  # fmt: skip
    return await _registry_page(request, who, done=f"audit {record['id']} recorded")


def _audit_errors(store: Store, who: Viewer, form: dict[str, str]) -> dict[str, str]:
    """Each field's problem in words (shown next to it)."""
    reg = store.registry()
    errors: dict[str, str] = {}
    if form["facility"] not in _auditable(store, who):
        errors["facility"] = ("choose a facility you audit from the list (the council records"
                              " a first audit)")  # fmt: skip
    if form["result"] not in RESULTS:
        errors["result"] = "choose pass, conditional or fail"
    auditor = form["auditor"] if who.principal.role == COUNCIL else who.principal.participant
    if who.principal.role == COUNCIL and auditor not in _holders(reg, "auditor"):
        errors["auditor"] = "choose the auditor who did the audit"
    days = _days(form, errors)
    first, last = days.get("audit_date"), days.get("audit_until")
    if first and last and last <= first:
        errors["audit_until"] = f"must be after {first} (an audit holds up to, not on, it)"
    if first and "auditor" not in errors and not form["standard"]:
        errors["standard"] = "choose the standard audited against"
    elif first and "auditor" not in errors:
        when = f"{first.isoformat()}T00:00:00.000000Z"
        if not any(a.auditor == auditor and form["standard"] in a.standards and a.valid_at(when)
                   for a in reg.accreditations.values()):  # fmt: skip
            errors["standard"] = (
                f"{auditor} holds no accreditation for {form['standard']!r} valid on {first};"
                " the council records accreditations"
            )
    return errors


def _days(form: dict[str, str], errors: dict[str, str]) -> dict[str, date]:
    days: dict[str, date] = {}
    for name, what in (("audit_date", "the day of the audit"),
                       ("audit_until", "the day its certificate lapses")):  # fmt: skip
        if not form[name]:
            errors[name] = f"give {what} (YYYY-MM-DD)"
            continue
        try:
            days[name] = date.fromisoformat(form[name])
        except ValueError:
            errors[name] = f"{form[name]!r} is not a date (YYYY-MM-DD)"
    return days
