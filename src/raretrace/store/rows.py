"""Converting lots and registry records to and from table rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from raretrace.domain import jsontext
from raretrace.domain.agreements import Agreement, agreement_from_json
from raretrace.domain.clearinghouse import Case
from raretrace.domain.disputes import dispute_from_json
from raretrace.domain.licensing import RECORD_KINDS, ComplianceRecord
from raretrace.domain.model import Facility, Lot, Participant, Provenance
from raretrace.domain.provenance import from_json, to_json
from raretrace.domain.registry import RegistryRecord


def lot_to_row(lot: Lot, provenance_json: str | None) -> dict[str, Any]:
    """The ``lots`` row for a lot (compositions and provenance as compact JSON).

    ``provenance_json`` is the provenance already serialized, when the caller has it; the
    row then carries it without serializing again.
    """
    return {
        "id": lot.id,
        "form": lot.form,
        "mass_kg": lot.mass_kg,
        "elements": jsontext.dumps(lot.elements_kg),
        "custodian": lot.custodian,
        "facility": lot.facility,
        "status": lot.status,
        "time": lot.time,
        "created_seq": lot.created_seq,
        "provenance": provenance_json or provenance_to_json(lot.provenance),
        "destination": lot.destination,
        "consignee": lot.consignee,
        "shipped_seq": lot.shipped_seq,
    }


def provenance_to_json(provenance: Provenance) -> str:
    """The stored JSON text of a provenance value."""
    return jsontext.dumps(to_json(provenance))


def lot_from_row(row: Mapping[Any, Any]) -> Lot:
    """Inverse of ``lot_to_row``."""
    return Lot(
        id=row["id"],
        form=row["form"],
        mass_kg=row["mass_kg"],
        elements_kg=jsontext.loads(row["elements"]),
        custodian=row["custodian"],
        facility=row["facility"],
        status=row["status"],
        time=row["time"],
        created_seq=row["created_seq"],
        provenance=from_json(jsontext.loads(row["provenance"])),
        destination=row["destination"],
        consignee=row["consignee"],
        shipped_seq=row["shipped_seq"],
    )


def record_row(record: Participant | Facility, seq: int) -> dict[str, Any]:
    """The ``participants`` or ``facilities`` row of a registry record (all but ``id``);
    ``seq`` is the registry event that recorded it."""
    if isinstance(record, Participant):
        return {
            "name": record.name,
            "country": record.country,
            "seq": seq,
            "body": json.dumps(participant_to_json(record), separators=(",", ":")),
        }
    return {
        "name": record.name,
        "operator": record.operator,
        "country": record.country,
        "stage": record.stage,
        "seq": seq,
        "body": json.dumps(facility_to_json(record), separators=(",", ":")),
    }


def facility_to_json(f: Facility) -> dict[str, Any]:
    """A facility in the registry file's shape (``stage`` a string unless there are several)."""
    return {
        "id": f.id,
        "name": f.name,
        "operator": f.operator,
        "country": f.country,
        "region": f.region,
        "stage": f.stages[0] if len(f.stages) == 1 else list(f.stages),
        "lat": f.lat,
        "lon": f.lon,
        "capacity_t_per_year": f.capacity_t_per_year,
        "technology_origin": f.technology_origin,
        "cahra": f.cahra,
        # Only when set, so records registered before subdivisions existed stay as they were.
        **({"subdivision": f.subdivision} if f.subdivision else {}),
    }


def participant_to_json(p: Participant) -> dict[str, Any]:
    """A participant in the registry file's shape (``keys`` only when it has any)."""
    doc: dict[str, Any] = {"id": p.id, "name": p.name, "country": p.country}
    if p.keys:
        doc["keys"] = [k.to_json() for k in p.keys]
    if p.roles != ("operator",):  # the default is left out, so older records stay as they were
        doc["roles"] = list(p.roles)
    if p.subdivision:
        doc["subdivision"] = p.subdivision
    return doc


def registry_record_json(record: RegistryRecord) -> tuple[str, dict[str, Any]]:
    """A registry record's event type and its JSON form, as its registry event carries it."""
    if isinstance(record, Participant):
        return "participant", participant_to_json(record)
    if isinstance(record, Facility):
        return "facility", facility_to_json(record)
    return RECORD_KINDS[type(record)], record.to_json()


def compliance_record_row(record: ComplianceRecord, seq: int) -> dict[str, Any]:
    """The ``registry_records`` row of a licence, accreditation or audit (all but ``kind``
    and ``id``); ``seq`` is the registry event that recorded it."""
    return {"body": json.dumps(record.to_json(), separators=(",", ":")), "seq": seq}


def case_row(case: Case, seq: int) -> tuple[str, dict[str, Any]]:
    """The table (``agreements`` or ``disputes``) and row (all but ``id``) of a clearinghouse
    case as event ``seq`` left it."""
    body = json.dumps(case.to_json(), separators=(",", ":"), ensure_ascii=False)
    if isinstance(case, Agreement):
        row = {"kind": case.terms.kind, "status": case.status,
               "submitted_by": case.submitted_by, "body": body, "seq": seq}  # fmt: skip
        return "agreements", row
    return "disputes", {"status": case.status, "opened_by": case.opened_by, "body": body,
                        "seq": seq}  # fmt: skip


def case_from_row(table: str, body: str) -> Case:
    """Inverse of ``case_row``."""
    doc = json.loads(body)
    return agreement_from_json(doc) if table == "agreements" else dispute_from_json(doc)
