"""What the CLI (and later the API) calls: one function per user-facing operation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from raretrace.domain.canonical import canonical_json
from raretrace.domain.elements import oxide_equivalent, total_reo
from raretrace.domain.errors import ConfigError, NotFound, ValidationError
from raretrace.domain.model import Lot, Tolerance, display_time
from raretrace.domain.registry import Registry, parse_registry
from raretrace.ledger.append import IngestReport, Ledger
from raretrace.store import schema
from raretrace.store.rows import facility_to_json, participant_to_json
from raretrace.store.store import Store

REGISTRY_ACTOR = "registry"


def init_ledger(db: str, *, tolerance: Tolerance | None = None) -> Store:
    """Create (or upgrade) the ledger in ``db``; the tolerance is fixed at creation."""
    store = Store.open(db)
    store.upgrade()
    with store.engine.begin() as conn:
        existing = store.meta(conn)
        if "tolerance_relative" not in existing:
            tol = tolerance or Tolerance()
            conn.execute(
                schema.meta.insert(),
                [
                    {"key": "tolerance_relative", "value": repr(tol.relative)},
                    {"key": "tolerance_absolute_kg", "value": repr(tol.absolute_kg)},
                    {"key": "created", "value": datetime.now(UTC).isoformat()},
                ],
            )
        elif tolerance is not None and store.tolerance() != tolerance:
            raise ConfigError(
                f"this ledger was created with tolerance {store.tolerance()}; it cannot change,"
                " because audits replay every event under the tolerance it was accepted with"
            )
    return store


def open_ledger(db: str) -> Ledger:
    """The append path over an initialised ledger."""
    return Ledger(Store.open(db))


def registry_events(
    doc: object, known: Registry, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Registry events for the new or changed records of a registry document.

    Unchanged records give no event, so loading the same file twice changes nothing.
    """
    participants, facilities = parse_registry(doc, known)
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out = []
    for kind, record, current in (
        *(
            ("participant", participant_to_json(p), known.participants.get(p.id))
            for p in participants
        ),
        *(("facility", facility_to_json(f), known.facilities.get(f.id)) for f in facilities),
    ):
        if current is not None and _record_json(kind, current) == record:
            continue
        digest = hashlib.sha256(canonical_json(record)).hexdigest()[:16]
        out.append(
            {
                "id": f"registry:{kind}:{record['id']}:{digest}:{stamp}",
                "type": kind,
                "time": stamp,
                "actor": REGISTRY_ACTOR,
                kind: record,
            }
        )
    return out


def _record_json(kind: str, record: Any) -> dict[str, Any]:
    return participant_to_json(record) if kind == "participant" else facility_to_json(record)


def load_registry(ledger: Ledger, path: Path) -> IngestReport:
    """Load a registry JSON file; raises ValidationError naming the first bad record."""
    doc = read_json(path)
    events = registry_events(doc, ledger.registry)
    report = ledger.ingest(enumerate(events, start=1))
    if report.rejections:
        raise report.rejections[0].error
    return report


def read_json(path: Path) -> Any:
    """A JSON file, or a ConfigError that says what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "format",
            str(path),
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines of a JSON Lines file with their line numbers, streamed."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield number, line


def trace(store: Store, lot_id: str) -> dict[str, Any]:
    """A lot's state and materialized provenance, as ``raretrace trace --json`` prints it."""
    return lot_view(store.lot(lot_id))


def _r(x: float, digits: int = 6) -> float:
    return round(x, digits) + 0.0


def lot_view(lot: Lot) -> dict[str, Any]:
    """The JSON view of a lot (masses in kg to the milligram, shares to 1e-9)."""
    p = lot.provenance
    return {
        "lot": lot.id,
        "form": lot.form,
        "status": lot.status,
        "mass_kg": _r(lot.mass_kg),
        "elements_kg": {e: _r(kg) for e, kg in lot.elements_kg.items()},
        "oxide_equivalent_kg": {o: _r(kg) for o, kg in oxide_equivalent(lot.elements_kg).items()},
        "treo_kg": _r(total_reo(lot.elements_kg)),
        "custodian": lot.custodian,
        "facility": lot.facility,
        "time": display_time(lot.time),
        "origin": {
            "by_country": {e: {k: _r(v, 9) for k, v in s.items()} for e, s in p.by_country.items()},
            "by_mine": {e: {k: _r(v, 9) for k, v in s.items()} for e, s in p.by_mine.items()},
        },
        "recycled_share": {e: _r(v, 9) for e, v in p.recycled_share().items()},
        "path": [s.to_json() for s in p.path],
        **(
            {"in_transit_to": lot.destination, "consignee": lot.consignee}
            if lot.destination
            else {}
        ),
    }
