"""The lot pages (the roles that may read lots, each within its scope): the list, a lot's
composition, origin, routes, lineage and discrepancies, compliance per pack as of a day, the
evidence bundle, and the certificates (the council issues them)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from raretrace.api.http import call, state
from raretrace.compliance import service as compliance
from raretrace.domain.errors import ConfigError, NotFound
from raretrace.domain.model import FORMS
from raretrace.service import credentials, dashboard, reads, scoped
from raretrace.web import figures
from raretrace.web.access import allowed, require_page
from raretrace.web.lineage import event_rows, lineage_graph
from raretrace.web.render import guarded, page
from raretrace.web.session import Viewer, same_origin, viewer

router = APIRouter(prefix="/ui", include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
STATUSES = ("active", "in_transit", "consumed", "written_off")
#: Rows a page of the lots list or of a lineage's events shows.
PAGE = 25
#: The lineage graph draws at most this many events (the nearest the lot, breadth-first).
GRAPH_EVENTS = 150
#: The events table pages this far into a lineage (the walk to a page costs what the pages
#: before it cost); beyond it, the evidence bundle has every event.
MAX_SKIP = 20_000


@router.get("/lots", response_class=HTMLResponse)
@guarded
async def lots(request: Request, who: Who, facility: str = "", form: str = "",
               status: str = "", after: str = "", before: str = "") -> Response:  # fmt: skip
    """The lots the viewer may see, a page at a time by key (``after``/``before`` a lot
    id); an htmx request gets the table alone."""
    require_page(who.principal, "read-lots")
    for name, value, known in (("form", form, FORMS), ("status", status, STATUSES)):
        if value and value not in known:
            raise ConfigError(f"{name} {value!r} is not one of: {', '.join(known)}")
    where = reads.LotFilter(facility=facility or None, form=form or None, status=status or None)
    found = await call(dashboard.lots_page, state(request).store, who.principal, where,
                       after=after or None, before=before or None, limit=PAGE)  # fmt: skip
    table: dict[str, Any] = {"page_": found, "base": _lots_url(where), "target": "lots-page"}
    if request.headers.get("hx-request"):
        return page(request, who, "_lots_page.html", **table)
    return page(request, who, "lots.html", forms=FORMS, statuses=STATUSES, where=where,
                **table)  # fmt: skip


def _lots_url(where: reads.LotFilter) -> str:
    """The lots list's address with ``where``'s filters, ready for the pager's key."""
    query = urlencode({k: v for k, v in (("facility", where.facility), ("form", where.form),
                                         ("status", where.status)) if v})  # fmt: skip
    return f"/ui/lots?{query}&" if query else "/ui/lots?"


@router.get("/lots/{lot}", response_class=HTMLResponse)
@guarded
async def lot(request: Request, who: Who, lot: str, rows: int = PAGE) -> Response:
    """The lot's state, origin and routes, the nearest part of its lineage as a graph and
    the first page of its events; the compliance results load after the page (their
    check walks the whole lineage), with progress shown."""
    require_page(who.principal, "read-lots")
    store = state(request).store
    trace = await call(scoped.trace, store, who.principal, lot)
    window = await call(dashboard.lineage_page, store, who.principal, lot, take=GRAPH_EVENTS)
    graph = lineage_graph(window)
    rows = max(5, min(rows, dashboard.MAX_PAGE))
    first = dashboard.LineagePage(window.events[:rows], 0, window.more or
                                  len(window.events) > rows)  # fmt: skip
    return page(
        request, who, "lot.html", t=trace, graph=graph, as_of=_today(), events=first,
        event_rows=event_rows(first), page_size=rows,
        routes=figures.route_shares(trace.get("routes") or {}),
        origin=figures.origin_bars(trace.get("origin", {}).get("by_country") or {}),
        lineage=figures.lineage_graph(graph.nodes, graph.links) if graph.links else None,
        may_certify=allowed(who.principal.role, "certify"), issued=_issued(request, lot),
    )  # fmt: skip


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


@router.get("/lots/{lot}/events", response_class=HTMLResponse)
@guarded
async def lineage_events(request: Request, who: Who, lot: str, skip: int = 0,
                         rows: int = PAGE) -> Response:  # fmt: skip
    """A page of the lot's lineage events (walk order), for the events table's pager."""
    require_page(who.principal, "read-lots")
    if skip < 0 or skip > MAX_SKIP:
        raise ConfigError(f"skip {skip} is out of range 0 to {MAX_SKIP:,}; the evidence bundle"
                          " holds the whole lineage")  # fmt: skip
    rows = max(5, min(rows, dashboard.MAX_PAGE))
    window = await call(dashboard.lineage_page, state(request).store, who.principal, lot,
                        skip=skip, take=rows)  # fmt: skip
    return page(request, who, "_lineage_events.html", t={"lot": lot}, events=window,
                event_rows=event_rows(window), page_size=rows)  # fmt: skip


@router.get("/lots/{lot}/check", response_class=HTMLResponse)
@guarded
async def check(request: Request, who: Who, lot: str, as_of: str = "") -> Response:
    """The compliance results as of ``as_of`` (the page's date picker swaps them in)."""
    require_page(who.principal, "read-lots")
    day = compliance.parse_as_of(as_of or None)
    report = await call(scoped.check, state(request).store, who.principal, lot, as_of=day)
    return page(request, who, "_check.html", check=report, as_of=day.isoformat(), lot=lot)


@router.get("/lots/{lot}/bundle")
@guarded
async def bundle(request: Request, who: Who, lot: str) -> Response:
    require_page(who.principal, "read-lots")
    data = await call(scoped.bundle, state(request).store, who.principal, lot)
    return Response(data, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="{lot}-bundle.json"'})  # fmt: skip


@router.post("/lots/{lot}/certify", response_class=HTMLResponse)
@guarded
async def certify(request: Request, who: Who, lot: str,
                  as_of: Annotated[str, Form()] = "") -> Response:  # fmt: skip
    """Issue the lot's passport and conformity credentials (the council), as ``certify``."""
    same_origin(request)
    require_page(who.principal, "certify")
    s = state(request)
    day = compliance.parse_as_of(as_of or None)
    done = await call(credentials.certify, s.store, who.principal, s.issuer, lot, as_of=day)
    return page(request, who, "_certificates.html", lot=lot, issued=_issued(request, lot),
                just=done["folder"])  # fmt: skip


def _issued(request: Request, lot: str) -> list[dict[str, str]]:
    """The credentials issued through this service for ``lot`` (newest first): each
    certification's folder holds one lot's files, the lot named in its passport."""
    out_dir = state(request).issuer.out_dir
    if out_dir is None or not out_dir.is_dir():
        return []
    found: list[dict[str, str]] = []
    for folder in sorted(out_dir.iterdir(), reverse=True):
        if folder.is_dir() and _lot_of(folder) == lot:
            found.extend({"folder": folder.name, "file": path.name}
                         for path in sorted(folder.iterdir())
                         if path.suffix in (".jwt", ".json") and path.is_file())  # fmt: skip
    return found


def _lot_of(folder: Path) -> str | None:
    """The lot of a certification folder: its passport's subject (None if unreadable)."""
    try:
        payload = (folder / "dpp.jwt").read_text(encoding="utf-8").split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (OSError, IndexError, ValueError):
        return None
    subject = claims.get("credentialSubject", {})
    urn = subject.get("id") if isinstance(subject, dict) else None
    prefix = "urn:raretrace:lot:"  # the passport's subject (docs/credentials.md)
    return urn[len(prefix) :] if isinstance(urn, str) and urn.startswith(prefix) else None


def _credential_path(request: Request, lot: str, folder: str, name: str) -> Path:
    out_dir = state(request).issuer.out_dir
    missing = NotFound(f"no credential {folder}/{name} of lot {lot!r} was issued here")
    if out_dir is None or any(p in ("", ".", "..") or "/" in p for p in (folder, name)):
        raise missing
    path = out_dir / folder / name
    if not path.is_file() or _lot_of(out_dir / folder) != lot:
        raise missing
    return path


@router.get("/lots/{lot}/credentials/{folder}/{name}")
@guarded
async def credential_file(request: Request, who: Who, lot: str, folder: str,
                          name: str) -> Response:  # fmt: skip
    """A credential issued for the lot (who may see the lot may download it)."""
    require_page(who.principal, "read-lots")
    await call(scoped.visible_lot, state(request).store, who.principal, lot)
    path = _credential_path(request, lot, folder, name)
    kind = "application/jwt" if path.suffix == ".jwt" else "application/json"
    return Response(path.read_bytes(), media_type=kind, headers={
        "Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


@router.get("/lots/{lot}/credentials/{folder}/{name}/qr")
@guarded
async def credential_qr(request: Request, who: Who, lot: str, folder: str,
                        name: str) -> Response:  # fmt: skip
    """The QR code (SVG) of where the credential is published (or of its download here)."""
    require_page(who.principal, "read-lots")
    await call(scoped.visible_lot, state(request).store, who.principal, lot)
    _credential_path(request, lot, folder, name)
    base = state(request).issuer.base_url
    url = (f"{base.rstrip('/')}/{folder}/{name}" if base else
           str(request.url_for("credential_file", lot=lot, folder=folder, name=name)))  # fmt: skip
    svg = segno.make_qr(url, error="m").svg_inline(scale=4, border=4, title=url)
    return Response(svg, media_type="image/svg+xml")
