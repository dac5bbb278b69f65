"""What the interchange commands call: one function per command (docs/interchange.md).

Every function checks its inputs completely before it writes, and writes each output file in
one step, so a refused command leaves nothing behind.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from raretrace.credentials.datamodel import check_data_model, format_datetime
from raretrace.credentials.keys import IssuerKey
from raretrace.credentials.securing import Format, secure
from raretrace.domain.errors import ConfigError, NotFound, ValidationError, VerificationError
from raretrace.domain.model import parse_day
from raretrace.interop import amrt, epcis_export, epcis_schema, geojson, ledgerread, untp_dte
from raretrace.interop.epcis_import import Imported, import_document
from raretrace.interop.epcis_mapping import EMPTY, parse_mapping
from raretrace.interop.files import read_json, write_bytes, write_json, write_text
from raretrace.interop.registry_rows import KINDS, RowError, as_document, check_rows
from raretrace.interop.sheets import read_table
from raretrace.interop.urns import CustodyEvent
from raretrace.ledger import service as ledger_service
from raretrace.store.store import Store


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days, ``first`` to ``last`` included, as normalized UTC times [start, end)."""

    first: date
    last: date

    @property
    def start(self) -> str:
        return f"{self.first.isoformat()}T00:00:00.000000Z"

    @property
    def end(self) -> str:
        return f"{(self.last + timedelta(days=1)).isoformat()}T00:00:00.000000Z"


def parse_period(start: str | None, end: str | None) -> Period | None:
    """``--from``/``--to``: both or neither; the first day not after the last."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        missing = "--from" if start is None else "--to"
        raise ConfigError(f"{missing} is missing; give a period as --from DATE --to DATE")
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    assert first is not None and last is not None  # both given: checked above
    period = Period(first, last)
    if period.first > period.last:
        raise ConfigError(
            f"--from {period.first} is after --to {period.last}; give a period whose first day"
            " is not after its last"
        )
    return period


def now_text(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- EPCIS -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EpcisExported:
    path: Path
    events: int
    lots: int


def select_events(store: Store, lot: str | None, period: Period | None) -> ledgerread.LedgerExtract:
    """The custody events of a lot's lineage, of a period, or (neither) of the whole ledger."""
    if lot is not None and period is not None:
        raise ConfigError("--lot and --from/--to select events two ways; give one of them")
    if lot is not None:
        return ledgerread.lot_lineage(store, lot)
    chosen = period or Period(date(1, 1, 1), date(9998, 12, 31))
    return ledgerread.events_between(store, chosen.start, chosen.end)


def export_epcis(
    store: Store, *, lot: str | None, period: Period | None, out: Path, now: datetime
) -> EpcisExported:
    """Write the EPCISDocument of the selected events; it is checked against the EPCIS 2.0
    JSON Schema before it is written (a failure is a bug in raretrace, and says so)."""
    found = select_events(store, lot, period)
    document = epcis_export.epcis_document(
        found.events, found.registry, found.lots, created=now_text(now)
    )
    errors = epcis_schema.schema_errors(document)
    if errors:
        raise VerificationError(
            f"raretrace made an EPCIS document that breaks the EPCIS 2.0 schema ({errors[0]});"
            " nothing was written. Please report this as a bug"
        )
    write_json(out, document)
    count = len(document["epcisBody"]["eventList"])
    return EpcisExported(out, count, len(found.lots))


@dataclass(frozen=True, slots=True)
class EpcisImport:
    """The outcomes; ``refusal`` is set (and nothing was written) when events were refused."""

    imported: Imported
    refusal: ValidationError | None


def import_epcis(
    path: Path, *, mapping: Path | None, out: Path, skip_bad: bool, rejects: Path | None
) -> EpcisImport:
    """Map an EPCIS document to raretrace events and write them as JSON Lines.

    A document that breaks the schema is refused whole. Events with no mass-balance meaning
    are skipped (each with its reason); if any event that has one cannot be mapped, nothing
    is written unless ``skip_bad`` (then the refused ones go to ``rejects``, if given).
    """
    document = read_json(path, "the EPCIS document")
    epcis_schema.check_document(document, str(path))
    table = EMPTY if mapping is None else parse_mapping(read_json(mapping, "the mapping file"))
    imported = import_document(document, table)
    refused = [o for o in imported.outcomes if o.status == "refused"]
    if refused and not skip_bad:
        first = refused[0]
        refusal = ValidationError(
            "epcis-unmapped",
            str(path),
            f"{len(refused)} of {len(imported.outcomes)} EPCIS events cannot be mapped (the"
            f" first: event {first.index}, {first.epcis_type} {first.biz_step or ''}:"
            f" {first.reason}); nothing was written. Fix the mapping, or pass --skip-bad"
            " (with --rejects FILE) to write the others",
        )
        return EpcisImport(imported, refusal)
    if rejects is not None:
        left = [o.to_json() for o in imported.outcomes if o.status != "mapped"]
        write_text(rejects, "".join(_json_line(x) for x in left))
    write_text(out, "".join(_json_line(e) for e in imported.events))
    return EpcisImport(imported, None)


def _json_line(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) + "\n"


# -- registry spreadsheets and maps --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegistryImported:
    """What ``import_registry`` did: rows read, records changed in the ledger, rows refused."""

    kind: str
    rows: int
    changed: int
    refused: tuple[RowError, ...]
    empty_rows: int
    #: Set (and nothing loaded) when rows were refused without --skip-bad.
    refusal: ValidationError | None = None


def import_registry(
    db: str, path: Path, *, kind: str, skip_bad: bool, rejects: Path | None
) -> RegistryImported:
    """Load one kind of registry record from a CSV or Excel sheet through the registry load
    path (``ledger.service.registry_events``: new or changed records become signed registry
    events, appended by the one write path). Nothing is loaded unless every row is good,
    or ``skip_bad`` (then the bad rows go to ``rejects``)."""
    if kind not in KINDS:
        raise ConfigError(f"--kind {kind!r} is not one of {', '.join(KINDS)}")
    if skip_bad and rejects is None:
        raise ConfigError("--skip-bad needs --rejects FILE, where the refused rows are kept")
    table = read_table(path, sheet=kind)
    with ledger_service.open_ledger(db) as ledger:
        checked = check_rows(table, kind, ledger.registry)
        if checked.errors and not skip_bad:
            first = checked.errors[0]
            refusal = ValidationError(
                "sheet-row", f"{path} row {first.row}",
                f"{len(checked.errors)} of {len(table.rows)} rows are refused, nothing was"
                f" loaded; the first: {first.line()}. Correct the sheet, or pass --skip-bad"
                " --rejects FILE to load the good rows",
            )  # fmt: skip
            return RegistryImported(kind, len(table.rows), 0, checked.errors,
                                    table.empty_rows, refusal)  # fmt: skip
        if rejects is not None:
            write_text(rejects, "".join(_json_line(e.to_json()) for e in checked.errors))
        events = ledger_service.registry_events(
            as_document(checked), ledger.registry, signer=ledger_service.registry_signer(ledger)
        )
        report = ledger.ingest(enumerate(events, start=1))
        if report.rejections:
            raise report.rejections[0].error
    return RegistryImported(kind, len(table.rows), report.accepted, checked.errors,
                            table.empty_rows)  # fmt: skip


def export_geojson(store: Store, out: Path, *, now: datetime) -> int:
    """Write the registry's facilities as a GeoJSON FeatureCollection; how many."""
    moment = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    collection = geojson.feature_collection(store.registry(), now=moment)
    write_json(out, collection)
    return len(collection["features"])


# -- RMI AMRT ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AmrtExported:
    path: Path
    amrt: amrt.Amrt


def export_amrt(
    store: Store, *, participant: str, period: Period | None, out: Path, now: datetime
) -> AmrtExported:
    """The AMRT workbook of ``participant``'s deliveries (ship events to another party) in
    ``period`` (default: every delivery): the processors in their lineage and the origin of
    the rare earths delivered."""
    registry = store.registry()
    if participant not in registry.participants:
        raise NotFound(
            f"participant {participant!r} is not in the registry; give the id of the company"
            " whose deliveries the declaration covers"
        )
    chosen = period or Period(date(1, 1, 1), date(9998, 12, 31))
    shipped = [
        e for e in ledgerread.deliveries(store, participant, chosen.start, chosen.end)
        if e.body.get("consignee") != participant
    ]  # fmt: skip
    lots = sorted({str(e.body["lot"]) for e in shipped})
    made, views = ledgerread.as_made(store, lots), ledgerread.lot_views(store, lots)
    deliveries = [_delivery(e, made, views) for e in shipped]
    lineage = ledgerread.lineage_facilities(store, lots)
    facilities = sorted({f for ids in lineage.values() for f in ids})
    result = amrt.build_amrt(
        participant=participant, registry=registry, deliveries=deliveries,
        lineage=[registry.facilities[f] for f in facilities if f in registry.facilities],
        period=_shown_period(period, shipped),
        effective_date=now.astimezone(UTC).date().isoformat(),
    )  # fmt: skip
    write_bytes(out, amrt.workbook_bytes(result))
    return AmrtExported(out, result)


def _delivery(
    event: CustodyEvent,
    made: dict[str, tuple[float, dict[str, float]]],
    views: dict[str, dict[str, Any]],
) -> amrt.Delivery:
    lot = str(event.body["lot"])
    mass, elements = made[lot]
    origin = views[lot]["origin"]
    return amrt.Delivery(
        str(event.body["id"]), lot, amrt.ree_kg(event.kg[(lot, "shipped")], mass, elements),
        origin["by_mine"], origin["by_country"],
    )  # fmt: skip


def _shown_period(period: Period | None, shipped: list[CustodyEvent]) -> tuple[str, str]:
    if period is not None:
        return period.first.isoformat(), period.last.isoformat()
    times = sorted(str(e.body["time"])[:10] for e in shipped)
    return (times[0], times[-1]) if times else ("", "")


def import_amrt(path: Path) -> amrt.Amrt:
    """An AMRT workbook read back as values."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None
    return amrt.read_workbook(data, str(path))


# -- UNTP Digital Traceability Events ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DteIssued:
    path: Path
    credential_id: str
    events: int
    fmt: str


def issue_dte(
    store: Store,
    *,
    lot: str | None,
    period: Period | None,
    issuer: IssuerKey,
    fmt: Format,
    out: Path,
    now: datetime,
) -> DteIssued:
    """Write a signed UNTP DigitalTraceabilityEvent credential of the selected custody events
    (a lot's lineage, a period, or every one), checked against the VC 2.0 schema first."""
    found = select_events(store, lot, period)
    about = f"lineage of lot {lot}" if lot else _about(period)
    credential = untp_dte.traceability_credential(
        found.events, found.lots, credential_id=f"urn:uuid:{uuid.uuid4()}", issuer=issuer.did,
        issuer_name=issuer.did, valid_from=format_datetime(now), about=about,
    )  # fmt: skip
    count = len(credential["credentialSubject"])
    if not count:
        raise NotFound(f"no custody events in the {about}; choose a lot or a period that has some")
    check_data_model(credential)
    write_text(out, secure(credential, issuer, fmt=fmt, now=now))
    return DteIssued(out, str(credential["id"]), count, fmt)


def _about(period: Period | None) -> str:
    if period is None:
        return "whole ledger"
    return f"period {period.first} to {period.last}"
