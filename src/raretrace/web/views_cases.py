"""The clearinghouse's pages (docs/clearinghouse.md, docs/dashboard.md "Clearinghouse"):
licences with their standing, agreements (the public disclosure list with review history,
the council's review queue), disputes (parties see their own, everyone the rulings).

Every step calls ``raretrace.clearinghouse.service``, as the API does. A participant's step
(a licensing action, an agreement, a dispute, a statement) must carry the participant's own
signature, and the service never holds a participant's private key: the page prepares the
unsigned event from the form, the participant signs it where its key lives (``raretrace
sign --key``) and pastes or uploads the signed event, which is submitted as the API's
``POST`` would. The council's reviews and rulings are decisions the service records signed
with the registry authority's key, naming the signed-in member, so they are one form.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from raretrace.api.http import call, state
from raretrace.clearinghouse import events
from raretrace.clearinghouse import service as ch
from raretrace.domain.agreements import DECISIONS, MARKABLE, STATES, TRANSITIONS, parse_terms
from raretrace.domain.disputes import OUTCOMES
from raretrace.domain.errors import ConfigError
from raretrace.domain.licence_actions import ACTIONS
from raretrace.web.access import allowed, require_page
from raretrace.web.render import guarded, page
from raretrace.web.session import Viewer, same_origin, viewer

router = APIRouter(prefix="/ui", include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
#: Event type → the action a participant needs to prepare and submit it.
STEP_ACTIONS = {"licensing": "licensing", "agreement": "file-cases", "dispute": "file-cases",
                "statement": "file-cases"}  # fmt: skip
#: Licensing actions the dashboard prepares (a licence is issued on the Registry page).
LICENCE_ACTIONS = tuple(a for a in ACTIONS if a != "issue")
MAX_EVENT = 1024 * 1024


def _writer(request: Request, who: Viewer) -> ch.ServiceWriter:
    return ch.ServiceWriter(state(request).submitter, who.principal)


def _member(who: Viewer) -> str:
    return who.principal.participant or "council"


# -- licences ----------------------------------------------------------------------------------


@router.get("/licences", response_class=HTMLResponse)
@guarded
async def licences(request: Request, who: Who) -> Response:
    require_page(who.principal, "read-clearinghouse")
    found = await call(ch.licences, state(request).store)
    return page(request, who, "licences.html", licences=found, actions=LICENCE_ACTIONS,
                may_act=allowed(who.principal.role, "licensing"))  # fmt: skip


@router.get("/licences/{licence}", response_class=HTMLResponse)
@guarded
async def licence(request: Request, who: Who, licence: str) -> Response:
    require_page(who.principal, "read-clearinghouse")
    found = await call(ch.licence, state(request).store, licence)
    return page(request, who, "licence.html", lic=found, actions=LICENCE_ACTIONS,
                may_act=allowed(who.principal.role, "licensing"))  # fmt: skip


# -- agreements --------------------------------------------------------------------------------


@router.get("/agreements", response_class=HTMLResponse)
@guarded
async def agreements(request: Request, who: Who) -> Response:
    """The agreements the viewer may see; the council's queue (submitted, under review)."""
    require_page(who.principal, "read-clearinghouse")
    found = await call(ch.agreements, state(request).store, who.principal)
    council = allowed(who.principal.role, "council-decisions")
    queue = [a for a in found if a["status"] in TRANSITIONS] if council else []
    return page(request, who, "agreements.html", agreements=found, queue=queue,
                states=STATES, may_file=allowed(who.principal.role, "file-cases"),
                example=json.dumps(_EXAMPLE, indent=2))  # fmt: skip


_EXAMPLE: dict[str, Any] = {
    "id": "AGR-NEW-1", "title": "…", "kind": "supply",
    "parties": [{"name": "…", "country": "MY", "participant": "your-id", "role": "seller"},
                {"name": "…", "country": "JP", "role": "buyer"}],
    "jurisdictions": ["MY"], "elements": ["Nd", "Pr"],
    "volumes": [{"material": "NdPr oxide", "tonnes": 100, "per": "year"}],
    "dates": {"signed": "2026-01-01", "start": "2026-02-01", "end": "2028-01-31"},
    "documents": [{"name": "contract.pdf", "sha256": "…64 hex…"}],
}  # fmt: skip


@router.get("/agreements/{agreement}", response_class=HTMLResponse)
@guarded
async def agreement(request: Request, who: Who, agreement: str) -> Response:
    require_page(who.principal, "read-clearinghouse")
    found = await call(ch.agreement, state(request).store, who.principal, agreement)
    council = allowed(who.principal.role, "council-decisions")
    return page(request, who, "agreement.html", a=found, markable=MARKABLE,
                next_states=TRANSITIONS.get(found["status"], ()) if council else (),
                decisions=DECISIONS)  # fmt: skip


@router.post("/agreements/{agreement}/review", response_class=HTMLResponse)
@guarded
async def review(
    request: Request, who: Who, agreement: str, status: Annotated[str, Form()] = "",
    reasons: Annotated[str, Form()] = "", conditions: Annotated[str, Form()] = "",
    public: Annotated[list[str] | None, Form()] = None,
) -> Response:  # fmt: skip
    """The council member's next review step (signed by the registry authority)."""
    same_origin(request)
    require_page(who.principal, "council-decisions")
    lines = [c.strip() for c in conditions.splitlines() if c.strip()]
    done = await call(ch.review_agreement, _writer(request, who), agreement, status=status,
                      by=_member(who), reasons=reasons.strip() or None, conditions=lines,
                      public=public or [])  # fmt: skip
    return page(request, who, "_case_done.html", what=f"agreement {agreement} is now {status}",
                done=done, back=f"/ui/agreements/{agreement}")  # fmt: skip


# -- disputes ----------------------------------------------------------------------------------


@router.get("/disputes", response_class=HTMLResponse)
@guarded
async def disputes(request: Request, who: Who) -> Response:
    """Parties see their own disputes in full, everyone the outcome of ruled ones."""
    require_page(who.principal, "read-clearinghouse")
    found = await call(ch.disputes, state(request).store, who.principal)
    return page(request, who, "disputes.html", disputes=found,
                may_file=allowed(who.principal.role, "file-cases"))  # fmt: skip


@router.get("/disputes/{dispute}", response_class=HTMLResponse)
@guarded
async def dispute(request: Request, who: Who, dispute: str) -> Response:
    require_page(who.principal, "read-clearinghouse")
    found = await call(ch.dispute, state(request).store, who.principal, dispute)
    return page(request, who, "dispute.html", d=found, outcomes=OUTCOMES,
                may_rule=allowed(who.principal.role, "council-decisions"),
                may_file=allowed(who.principal.role, "file-cases"))  # fmt: skip


@router.post("/disputes/{dispute}/ruling", response_class=HTMLResponse)
@guarded
async def ruling(
    request: Request, who: Who, dispute: str, outcome: Annotated[str, Form()] = "",
    reasons: Annotated[str, Form()] = "", party: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """The council member's ruling, which closes the dispute (signed by the registry
    authority); a corrective event may be required of a named party."""
    same_origin(request)
    require_page(who.principal, "council-decisions")
    if bool(party.strip()) != bool(action.strip()):
        raise ConfigError("a corrective needs both the party and the action it must record")
    corrective = {"party": party.strip(), "action": action.strip()} if party.strip() else None
    done = await call(ch.rule_dispute, _writer(request, who), dispute, outcome=outcome,
                      by=_member(who), reasons=reasons.strip(), corrective=corrective)  # fmt: skip
    return page(request, who, "_case_done.html", what=f"dispute {dispute} ruled {outcome}",
                done=done, back=f"/ui/disputes/{dispute}")  # fmt: skip


# -- a participant's step: prepare, sign where the key is, submit ------------------------------


@router.post("/cases/prepare", response_class=HTMLResponse)
@guarded
async def prepare(request: Request, who: Who) -> Response:
    """The unsigned event of the form (the signed-in participant as its actor), to sign."""
    same_origin(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    kind = form.get("kind", "")
    if kind not in STEP_ACTIONS:
        raise ConfigError(f"kind {kind!r} is not one of: {', '.join(STEP_ACTIONS)}")
    require_page(who.principal, STEP_ACTIONS[kind])
    actor = who.principal.participant or ""
    event = await call(_build, request, kind, actor, form)
    text = json.dumps(event, ensure_ascii=False)
    return page(request, who, "_prepared.html", kind=kind, event=event, line=text,
                pretty=json.dumps(event, indent=2, ensure_ascii=False))  # fmt: skip


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _evidence(text: str) -> list[dict[str, str]]:
    """``name sha256`` a line (the documents stay with their holders; the log keeps digests)."""
    out = []
    for line in _lines(text):
        name, _, digest = line.rpartition(" ")
        if not name or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ConfigError(f"evidence line {line!r}: give 'NAME SHA256' (64 lowercase hex;"
                              " `sha256sum FILE` prints it)")  # fmt: skip
        out.append({"name": name.strip(), "sha256": digest})
    return out


def _build(request: Request, kind: str, actor: str, form: dict[str, str]) -> dict[str, Any]:
    now = events.moment(None)
    if kind == "licensing":
        action = form.get("action", "")
        if action not in LICENCE_ACTIONS:
            raise ConfigError(f"action {action!r} is not one of: {', '.join(LICENCE_ACTIONS)}")
        until = form.get("valid_until") or None
        return events.licensing(action, actor=actor, licence=form.get("licence", ""), time=now,
                                reason=form.get("reason") or None,
                                valid_until=f"{until}T00:00:00Z" if until else None)  # fmt: skip
    if kind == "agreement":
        try:
            terms = json.loads(form.get("terms", ""))
        except ValueError as exc:
            raise ConfigError(f"the agreement is not JSON: {exc}") from None
        parse_terms(terms, "the agreement", state(request).store.registry())  # its words
        return events.agreement(terms, actor=actor, time=now)
    if kind == "dispute":
        return events.dispute(form.get("dispute", "").strip(), actor=actor, time=now,
                              about_event=form.get("about", "").strip(),
                              lot=form.get("lot", "").strip() or None,
                              respondents=[r.strip() for r in form.get("respondents", "")
                                           .split(",") if r.strip()],
                              summary=form.get("summary", "").strip(),
                              evidence=_evidence(form.get("evidence", "")))  # fmt: skip
    return events.statement(form.get("dispute", "").strip(), actor=actor, time=now,
                            text=form.get("text", "").strip(),
                            evidence=_evidence(form.get("evidence", "")))  # fmt: skip


@router.post("/cases/submit", response_class=HTMLResponse)
@guarded
async def submit(
    request: Request, who: Who, kind: Annotated[str, Form()] = "",
    event: Annotated[str, Form()] = "", event_file: Annotated[UploadFile | None, Form()] = None,
) -> Response:  # fmt: skip
    """A signed clearinghouse event, as ``POST /v1/licensing|agreements|disputes`` takes it."""
    same_origin(request)
    if kind not in STEP_ACTIONS:
        raise ConfigError(f"kind {kind!r} is not one of: {', '.join(STEP_ACTIONS)}")
    require_page(who.principal, STEP_ACTIONS[kind])
    text = event.strip()
    if event_file is not None and event_file.filename:
        text = (await event_file.read(MAX_EVENT + 1)).decode("utf-8", "replace").strip()
    if not text:
        raise ConfigError("paste the signed event (the line `raretrace sign` printed) or"
                          " choose its file")  # fmt: skip
    parsed = _json(text)
    case = parsed.get("dispute") if kind == "statement" else None
    done = await call(ch.submit_step, _writer(request, who), parsed, expected=(kind,),
                      case=case if isinstance(case, str) else None)  # fmt: skip
    return page(request, who, "_case_done.html", what=f"{kind} event {done.event_id} recorded",
                done=done, back=_back(kind, parsed))  # fmt: skip


def _json(text: str) -> dict[str, Any]:
    """The signed event: the text, or its first line (``raretrace sign`` prints JSON Lines)."""
    for candidate in (text, text.splitlines()[0]):
        try:
            found = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(found, dict):
            return found
    raise ConfigError("the signed event is not one JSON object; paste the line `raretrace sign`"
                      " printed")  # fmt: skip


def _back(kind: str, event: dict[str, Any]) -> str:
    if kind == "licensing":
        subject = event.get("licence")
        return f"/ui/licences/{subject}" if isinstance(subject, str) else "/ui/licences"
    if kind == "agreement":
        return f"/ui/agreements/{event['agreement']['id']}"
    if kind == "dispute":
        return f"/ui/disputes/{event['dispute']['id']}"
    return f"/ui/disputes/{event['dispute']}"
