"""Reads as a caller may make them: every answer is cut to the caller's ``Scope``.

A lot or event outside the scope is ``NotFound`` with the very message an unknown one gets,
so an answer never reveals whether something exists that the caller may not see.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, false, or_, select

from raretrace.compliance import service as compliance
from raretrace.compliance.packs import PACKS
from raretrace.domain import jsontext
from raretrace.domain.errors import NotFound
from raretrace.domain.model import Lot
from raretrace.domain.registry import Registry
from raretrace.ledger import logview
from raretrace.ledger.bundle import export_bundle
from raretrace.service import reads, tokens
from raretrace.service.access import (
    ANONYMOUS,
    COUNCIL,
    EVERYTHING,
    Principal,
    Scope,
    require,
    scope_of,
)
from raretrace.store import schema
from raretrace.store.rows import lot_from_row, registry_record_json
from raretrace.store.store import DiscrepancyRow, Store


def _no_lot(lot_id: str) -> NotFound:
    return NotFound(f"lot {lot_id!r} is not in the ledger; list lots with `raretrace lots`")


def _no_event(event_id: str) -> NotFound:
    return NotFound(f"no accepted event has id {event_id!r}")


def scope(store: Store, principal: Principal, action: str, conn: Connection | None = None) -> Scope:
    """Forbidden unless the role may do ``action``; else what it may see (the council sees
    everything without reading the registry; others' scope follows the registry as it
    stands, read on ``conn`` when given)."""
    require(principal, action)
    if principal.role == COUNCIL:
        return EVERYTHING
    if conn is None:
        return scope_of(principal, store.registry())
    return scope_of(principal, store.kept_registry(conn))


def visible_lot(store: Store, principal: Principal, lot_id: str) -> Lot:
    """The lot, if the caller may see it; else NotFound as if it did not exist."""
    seen = scope(store, principal, "read-lots")
    try:
        lot = store.lot(lot_id)
    except NotFound:
        raise _no_lot(lot_id) from None
    if not seen.sees_lot(lot):
        raise _no_lot(lot_id)
    return lot


def trace(store: Store, principal: Principal, lot_id: str) -> dict[str, Any]:
    """``trace --json`` of a lot the caller holds or may oversee (its provenance included)."""
    parsed: dict[str, Any] = orjson.loads(trace_json(store, principal, lot_id))
    return parsed


def trace_json(
    store: Store, principal: Principal, lot_id: str, conn: Connection | None = None
) -> bytes:
    """``trace`` as JSON bytes (what ``GET /v1/lots/{lot}`` sends): the scope, the lot's row
    and its lineage's discrepancies read on one connection (``conn``, or one opened here),
    the lot's view kept per row content (``reads.view_bytes``)."""
    if conn is None:
        with store.engine.connect() as c:
            return trace_json(store, principal, lot_id, c)
    seen = scope(store, principal, "read-lots", conn)
    row = store.lot_row(conn, lot_id)
    if row is None or not seen.sees_holding(
        row["facility"], row["destination"], row["custodian"], row["consignee"]
    ):
        raise _no_lot(lot_id)
    discrepancies = store.lineage_discrepancies(lot_id, conn)
    return reads.trace_bytes(reads.view_bytes(row), discrepancies)


def trace_for_token(store: Store, bearer: str | None, lot_id: str) -> bytes:
    """``trace_json`` for the holder of ``bearer`` (None: the public), the token checked on
    the same one connection as the read (``tokens.authenticate``: its row read every time,
    never kept, so a revoked token is refused from the next request on)."""
    with store.engine.connect() as conn:
        who = ANONYMOUS if bearer is None else tokens.authenticate(store, bearer, conn=conn)
        return trace_json(store, who, lot_id, conn)


def lots(
    store: Store, principal: Principal, where: reads.LotFilter, *, limit: int | None
) -> reads.LotPage:
    """The lots the caller may see that match ``where``, in id order."""
    seen = scope(store, principal, "read-lots")
    if seen.everything:
        return reads.lots(store, where, limit=limit)
    reads.check_facility(store.registry(), where.facility)
    t = schema.lots
    query = select(t).where(
        or_(
            t.c.facility.in_(sorted(seen.facilities)) if seen.facilities else false(),
            t.c.destination.in_(sorted(seen.facilities)) if seen.facilities else false(),
            t.c.custodian.in_(sorted(seen.participants)) if seen.participants else false(),
            t.c.consignee.in_(sorted(seen.participants)) if seen.participants else false(),
        )
    )
    for column, value in (("facility", where.facility), ("form", where.form),
                          ("status", where.status)):  # fmt: skip
        if value:
            query = query.where(t.c[column] == value)
    query = query.order_by(t.c.id)
    with store.engine.connect() as conn:
        found = [lot_from_row(row) for row in conn.execute(query).mappings()]
    page = tuple(found[:limit] if limit else found)
    return reads.LotPage(page, limit, len(found) if limit and len(found) >= limit else None)


def discrepancies(
    store: Store, principal: Principal, *, limit: int | None = None
) -> list[DiscrepancyRow]:
    """Discrepancies at or between facilities in the caller's scope, or of lots it holds."""
    seen = scope(store, principal, "read-discrepancies")
    rows = reads.discrepancies(store)
    if not seen.everything:
        rows = [d for d in rows if seen.sees_facilities(d.origin, d.destination)
                or _holds(store, seen, d.lot)]  # fmt: skip
    return rows[:limit] if limit else rows


def _holds(store: Store, seen: Scope, lot_id: str) -> bool:
    try:
        return seen.sees_lot(store.lot(lot_id))
    except NotFound:
        return False


def event(store: Store, principal: Principal, event_id: str) -> dict[str, Any]:
    """The signed event as accepted, if the caller is party to it."""
    seen = scope(store, principal, "read-events")
    e = schema.events
    with store.engine.connect() as conn:
        body = conn.execute(select(e.c.body).where(e.c.id == event_id)).scalar()
    if body is None:
        raise _no_event(event_id)
    parsed: dict[str, Any] = jsontext.loads(body)
    if not seen.sees_event(parsed):
        raise _no_event(event_id)
    return parsed


def prove(store: Store, principal: Principal, event_id: str) -> dict[str, Any]:
    """``log prove --json`` of an event the caller is party to (the leaf is the event)."""
    event(store, principal, event_id)
    return logview.prove_event(store, event_id).to_json()


def check(
    store: Store, principal: Principal, lot_id: str, *, as_of: date,
    packs: Sequence[str] = PACKS, declared_value_usd: float | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``check --json`` of a lot the caller may see."""
    visible_lot(store, principal, lot_id)
    report = compliance.check_lot(
        store, lot_id, as_of=as_of, packs=packs, declared_value_usd=declared_value_usd
    )
    return report.to_json()


def bundle(store: Store, principal: Principal, lot_id: str) -> bytes:
    """The lot's evidence bundle (canonical JSON) for a caller who may see the lot."""
    visible_lot(store, principal, lot_id)
    return export_bundle(store, lot_id).data


def registry_json(registry: Registry) -> dict[str, Any]:
    """The public registry: participants (with their public keys), facilities, licences,
    accreditations and audits, as registry files hold them."""
    out: dict[str, list[Any]] = {key: [] for key in
                                 ("participants", "facilities", "licences", "accreditations",
                                  "audits")}  # fmt: skip
    for key, records in (
        ("participants", registry.participants), ("facilities", registry.facilities),
        ("licences", registry.licences), ("accreditations", registry.accreditations),
        ("audits", registry.audits),
    ):  # fmt: skip
        for record_id in sorted(records):
            out[key].append(registry_record_json(records[record_id])[1])
    return out
