"""The demo's clearinghouse year recorded on the demo ledger (``raretrace demo``): finds a
short receipt and the shipper's stock in the ledger, builds the steps
(``raretrace.demo.clearinghouse``), signs each with its actor's demo key or, for the
council's, the registry key, and appends them through the ledger's write path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from raretrace.demo.clearinghouse import (
    ShortReceipt,
    Stock,
    agreement_steps,
    dispute_steps,
    licensing_steps,
    open_dispute_steps,
)
from raretrace.domain.keys import sign_event
from raretrace.domain.model import REGISTRY_ACTOR, display_time
from raretrace.ledger import service as ledger_service
from raretrace.ledger.append import IngestReport, Ledger
from raretrace.ledger.keyfiles import KeyFile
from raretrace.store import schema


def record_demo_casework(ledger: Ledger, keys: Mapping[str, KeyFile]) -> IngestReport:
    """Append the demo's licensing, agreements and disputes; raises the first refusal."""
    with ledger.store.engine.connect() as conn:
        receipts = _short_receipts(conn)
    steps = licensing_steps() + agreement_steps()
    if receipts:
        first = receipts[0]
        steps += dispute_steps(first, _stock(ledger, first))
        if len(receipts) > 1:
            steps += open_dispute_steps(receipts[1])
    council = ledger_service.registry_signer(ledger)
    signed = []
    for step in steps:
        key = council if step["actor"] == REGISTRY_ACTOR else keys[step["actor"]]
        signed.append(sign_event(step, key.private_key, key.kid))
    report = ledger.ingest(enumerate(signed, start=1))
    if report.rejections:
        raise report.rejections[0].error
    return report


def _short_receipts(conn: Connection) -> list[ShortReceipt]:
    """Receipts that weighed less than shipped, the largest shortfall (relative) first."""
    le, e = schema.lot_events, schema.events
    links = conn.execute(
        select(le.c.lot, le.c.seq, le.c.role, le.c.mass_kg)
        .where(le.c.role.in_(("shipped", "received")))
        .order_by(le.c.lot, le.c.seq)
    ).all()
    shipped: dict[str, tuple[int, float]] = {}
    found: list[tuple[float, int, int, str, float, float]] = []
    for lot, seq, role, kg in links:
        if role == "shipped":
            shipped[lot] = (int(seq), float(kg))
        elif lot in shipped and kg < shipped[lot][1]:
            ship_seq, ship_kg = shipped[lot]
            found.append(((ship_kg - kg) / ship_kg, int(seq), ship_seq, lot, ship_kg, float(kg)))
    found.sort(key=lambda f: (-f[0], f[1]))
    found = found[:200]
    seqs = {s for f in found for s in (f[1], f[2])}
    query = select(e.c.seq, e.c.id, e.c.time, e.c.actor, e.c.body).where(e.c.seq.in_(seqs))
    rows = {r.seq: r for r in conn.execute(query)}
    receipts = (_receipt(rows[f[1]], rows[f[2]], f[3], f[4], f[5]) for f in found)
    # Between two participants: a company's shipment to its own plant is no one's dispute.
    return [r for r in receipts if r.shipper != r.consignee][:2]


def _receipt(receive: Any, ship: Any, lot: str, shipped: float, received: float) -> ShortReceipt:
    from raretrace.domain import jsontext

    body = jsontext.loads(ship.body)
    return ShortReceipt(
        receive_event=receive.id, lot=lot, origin=body["from"], destination=body["to"],
        shipper=ship.actor, consignee=receive.actor, shipped_kg=shipped, received_kg=received,
        time=display_time(receive.time),
    )  # fmt: skip


def _stock(ledger: Ledger, short: ShortReceipt) -> Stock | None:
    """The shipper's largest active lot at the origin that can spare the shortfall."""
    need = (short.shipped_kg - short.received_kg) * 1.5
    held = [
        lot for lot in ledger.store.lots(facility=short.origin, status="active")
        if lot.custodian == short.shipper and lot.mass_kg > need and lot.elements_kg
    ]  # fmt: skip
    if not held:
        return None
    lot = max(held, key=lambda x: (x.mass_kg, x.id))
    return Stock(lot.id, lot.form, lot.mass_kg, dict(lot.elements_kg), display_time(lot.time))
