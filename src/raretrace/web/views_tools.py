"""The council's scenarios (shocks on the packaged network, baseline beside shocked, and the
corridor plan's report) and the public credential verifier."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from raretrace.analytics.corridor import plan_corridor
from raretrace.analytics.network_file import parse_scenario, read_scenario
from raretrace.analytics.scenario import ScenarioReport, run_scenario
from raretrace.analytics.scenario_files import CHINA_BAN, LYNAS_OUTAGE, packaged_path, packaged_text
from raretrace.api.http import call, state
from raretrace.credentials.diddoc import build_trust, did_document
from raretrace.credentials.evidence import evidence_check
from raretrace.credentials.files import read_issuer_key
from raretrace.credentials.verify import CredentialReport, NamedCheck, verify_credential
from raretrace.domain.errors import ConfigError
from raretrace.ledger.bundle import trust_file
from raretrace.trust import parse_trust
from raretrace.web import figures
from raretrace.web.access import require_page
from raretrace.web.render import guarded, page
from raretrace.web.session import Viewer, same_origin, viewer

router = APIRouter(prefix="/ui", include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
#: The shocks offered as ready-made choices (the demo tour's two).
SHOCKS: dict[str, dict[str, Any]] = {"lynas-outage": LYNAS_OUTAGE, "china-dy-tb-ban": CHINA_BAN}
#: The largest upload the verifier reads (a credential, a bundle, a status list).
MAX_UPLOAD = 16 * 1024 * 1024


def _network() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(packaged_text("default"))
    return doc


@router.get("/scenarios", response_class=HTMLResponse)
@guarded
async def scenarios(request: Request, who: Who) -> Response:
    require_page(who.principal, "run-scenarios")
    net = _network()
    return page(request, who, "scenarios.html", shocks=SHOCKS, year=net["year"],
                facilities=sorted(f["id"] for f in net["facilities"]), errors={})  # fmt: skip


@router.post("/scenarios/run", response_class=HTMLResponse)
@guarded
async def run(
    request: Request, who: Who, shock: Annotated[list[str] | None, Form()] = None,
    outage: Annotated[str, Form()] = "", outage_from: Annotated[str, Form()] = "",
    outage_until: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Run the packaged network with the chosen shocks: unmet demand and bottlenecks,
    beside the baseline (an LP; well under a second)."""
    same_origin(request)
    require_page(who.principal, "run-scenarios")
    net = _network()
    chosen = [SHOCKS[s] for s in shock or () if s in SHOCKS]
    if outage:
        chosen.append(_outage(net, outage, outage_from, outage_until))
    if not chosen:
        raise ConfigError("choose at least one shock: a ready-made one or a facility outage")
    net["shocks"] = chosen
    net["title"] = "; ".join(str(s.get("notes") or s["type"]) for s in chosen)
    report = await call(lambda: run_scenario(parse_scenario(net, "the dashboard's scenario")))
    return page(request, who, "_scenario.html", r=report, charts=figures.scenario_charts(report),
                rows=_compare(report))  # fmt: skip


def _outage(net: dict[str, Any], facility: str, start: str, end: str) -> dict[str, Any]:
    if facility not in {f["id"] for f in net["facilities"]}:
        raise ConfigError(f"facility {facility!r} is not in the network; choose one from the list")
    year = net["year"]
    first, last = start or f"{year}-01-01", end or f"{year}-12-31"
    for name, value in (("from", first), ("until", last)):
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"outage {name} {value!r} is not a date (YYYY-MM-DD)") from None
    if last <= first:
        raise ConfigError(f"the outage must end after it starts ({first} to {last})")
    return {"type": "facility-outage", "facility": facility, "from": first, "until": last,
            "notes": f"{facility} down from {first} to {last}"}  # fmt: skip


def _compare(report: ScenarioReport) -> list[dict[str, Any]]:
    base = {(d.region, d.element): d for d in report.baseline.deliveries}
    rows = []
    for d in report.shocked.deliveries:
        b = base.get((d.region, d.element))
        rows.append({"region": d.region, "element": d.element, "demand_t": d.demand_t,
                     "baseline_unmet_t": b.unmet_t if b else 0.0, "unmet_t": d.unmet_t,
                     "share": d.unmet_t / d.demand_t if d.demand_t else 0.0})  # fmt: skip
    return sorted(rows, key=lambda r: -r["unmet_t"])


@router.post("/scenarios/corridor", response_class=HTMLResponse)
@guarded
async def corridor(request: Request, who: Who) -> Response:
    """The packaged ASEAN corridor plan (a MIP, about a second) and its resilience."""
    same_origin(request)
    require_page(who.principal, "run-scenarios")
    path = packaged_path("corridor-asean-2030")
    report = await call(lambda: plan_corridor(read_scenario(path)))
    return page(request, who, "_corridor.html", c=report.to_json())


@router.get("/verify", response_class=HTMLResponse)
@guarded
async def verify_form(request: Request, who: Who) -> Response:
    require_page(who.principal, "verify-credential")
    return page(request, who, "verify.html", report=None, errors={},
                issuer=_own_did(request) is not None)  # fmt: skip


def _own_did(request: Request) -> dict[str, Any] | None:
    key = state(request).issuer.issuer_key
    return None if key is None else did_document([read_issuer_key(key)])


async def _text(upload: UploadFile | None, pasted: str, what: str) -> str:
    if upload is not None and upload.filename:
        raw = await upload.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            raise ConfigError(f"the {what} is over {MAX_UPLOAD // 2**20} MiB")
        try:
            return raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ConfigError(f"the {what} file is not UTF-8 text") from None
    return pasted.strip()


@router.post("/verify", response_class=HTMLResponse)
@guarded
async def verify(
    request: Request, who: Who, credential: Annotated[str, Form()] = "",
    credential_file: Annotated[UploadFile | None, Form()] = None,
    bundle_file: Annotated[UploadFile | None, Form()] = None,
    status_file: Annotated[UploadFile | None, Form()] = None,
    did_file: Annotated[UploadFile | None, Form()] = None,
) -> Response:  # fmt: skip
    """Check a credential against this service's issuer (or a DID document given), with
    its status list and evidence bundle when given; each check in words."""
    require_page(who.principal, "verify-credential")
    text = await _text(credential_file, credential, "credential")
    errors: dict[str, str] = {}
    if not text:
        errors["credential"] = "paste the credential (JWT or JSON) or choose its file"
    did_text = await _text(did_file, "", "DID document")
    trust_docs: list[tuple[str, object]] = []
    if did_text:
        try:
            trust_docs.append(("the DID document given", json.loads(did_text)))
        except ValueError:
            errors["did"] = "the DID document is not JSON"
    elif (own := _own_did(request)) is not None:
        trust_docs.append(("this service's issuer", own))
    else:
        errors["did"] = "this service issues no credentials: give the issuer's DID document"
    if errors:
        return page(request, who, "verify.html", status=422, report=None, errors=errors,
                    issuer=_own_did(request) is not None)  # fmt: skip
    status_text = await _text(status_file, "", "status list")
    bundle = await _text(bundle_file, "", "evidence bundle")
    report = await call(_verify, request, text, trust_docs, status_text, bundle)
    return page(request, who, "verify.html", report=report, errors={},
                issuer=_own_did(request) is not None,
                decoded=json.dumps(report.credential, indent=2, ensure_ascii=False)
                if report.credential else None)  # fmt: skip


def _verify(request: Request, text: str, trust_docs: list[tuple[str, object]],
            status_text: str, bundle: str) -> CredentialReport:  # fmt: skip
    extra: list[NamedCheck] = []
    if bundle:
        ledger = parse_trust(trust_file(state(request).store), source="this ledger's trust")
        extra.append(evidence_check(bundle.encode(), ledger, source="the bundle given"))
    lists = [("the status list given", status_text)] if status_text else []
    return verify_credential(text, trust=build_trust(trust_docs), at=datetime.now(UTC),
                             status_lists=lists, extra=extra)  # fmt: skip
