"""The registry of participants, facilities, licences, accreditations and audits, and the
checks a registry file must pass."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from raretrace.domain.errors import NotFound, ValidationError
from raretrace.domain.ids import check_id
from raretrace.domain.keys import KeyHistory, parse_keys
from raretrace.domain.licensing import (
    Accreditation,
    Audit,
    ComplianceRecord,
    Licence,
    parse_accreditation,
    parse_audit,
    parse_licence,
    parse_roles,
)
from raretrace.domain.model import STAGES, Facility, Participant

if TYPE_CHECKING:
    from raretrace.domain.agreements import Agreement
    from raretrace.domain.disputes import Dispute

#: The largest yearly capacity a facility may declare, in tonnes: 10^9 t, about what the
#: three biggest iron-ore miners ship in a year together and thousands of times the largest
#: rare-earth plant. A larger figure is a unit error (kg entered as t).
MAX_CAPACITY_T_PER_YEAR = 1e9
#: Allowed range of each numeric facility field: (least, greatest, unit).
_RANGES: dict[str, tuple[float, float, str]] = {
    "lat": (-90.0, 90.0, "degrees of latitude (WGS 84), south negative"),
    "lon": (-180.0, 180.0, "degrees of longitude (WGS 84), west negative"),
    "capacity_t_per_year": (0.0, MAX_CAPACITY_T_PER_YEAR, "tonnes per year"),
}


#: A record of the registry, of any kind.
RegistryRecord = Participant | Facility | ComplianceRecord
#: The lists a registry file may hold, in the order they are applied (later ones name
#: records of earlier ones).
REGISTRY_LISTS: tuple[str, ...] = (
    "participants", "facilities", "accreditations", "licences", "audits",
)  # fmt: skip


@dataclass(slots=True)
class Registry:
    """Registry records by id; what rules and compliance packs look up facts in."""

    participants: dict[str, Participant] = field(default_factory=dict)
    facilities: dict[str, Facility] = field(default_factory=dict)
    licences: dict[str, Licence] = field(default_factory=dict)
    accreditations: dict[str, Accreditation] = field(default_factory=dict)
    audits: dict[str, Audit] = field(default_factory=dict)
    #: Every participant key with the log positions that bound it, where the registry was
    #: built from logged records (``add`` with a position); empty otherwise.
    keys: KeyHistory = field(default_factory=KeyHistory)
    #: The clearinghouse's cases (docs/clearinghouse.md): agreements under review, disputes.
    agreements: dict[str, Agreement] = field(default_factory=dict)
    disputes: dict[str, Dispute] = field(default_factory=dict)

    def copy(self) -> Registry:
        """A copy whose record maps can change without touching this one."""
        return Registry(
            dict(self.participants),
            dict(self.facilities),
            dict(self.licences),
            dict(self.accreditations),
            dict(self.audits),
            self.keys,  # immutable
            dict(self.agreements),
            dict(self.disputes),
        )

    def add_case(self, case: Agreement | Dispute) -> None:
        """Add or replace an agreement or a dispute (the caller has validated it)."""
        from raretrace.domain.agreements import Agreement  # agreements imports this module

        if isinstance(case, Agreement):
            self.agreements[case.id] = case
        else:
            self.disputes[case.id] = case

    def facility(self, facility_id: str) -> Facility:
        try:
            return self.facilities[facility_id]
        except KeyError:
            raise NotFound(
                f"facility {facility_id!r} is not in the registry; "
                "load it with `raretrace registry load FILE`"
            ) from None

    def record(self, kind: str, record_id: str) -> RegistryRecord | None:
        """The record of registry event type ``kind`` with id ``record_id``, if registered."""
        tables: dict[str, Mapping[str, RegistryRecord]] = {
            "participant": self.participants,
            "facility": self.facilities,
            "licence": self.licences,
            "accreditation": self.accreditations,
            "audit": self.audits,
        }
        return tables[kind].get(record_id)

    def add(self, record: RegistryRecord, position: int | None = None) -> None:
        """Add or replace one record (the caller has validated it); ``position`` is the log
        position of the registry event that recorded it, which dates its keys."""
        if isinstance(record, Participant):
            self.participants[record.id] = record
            if position is not None:
                self.keys = self.keys.recorded(record.id, record.keys, position)
        elif isinstance(record, Facility):
            self.facilities[record.id] = record
        elif isinstance(record, Licence):
            self.licences[record.id] = record
        elif isinstance(record, Accreditation):
            self.accreditations[record.id] = record
        else:
            self.audits[record.id] = record


def _text(obj: Mapping[str, Any], key: str, subject: str, *, required: bool = True) -> str:
    value = obj.get(key)
    if not required and (value is None or value == ""):
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            "registry-format", subject, f"field {key!r} must be a non-empty string, got {value!r}"
        )
    return value


def _country(obj: Mapping[str, Any], key: str, subject: str) -> str:
    value = _text(obj, key, subject)
    if len(value) != 2 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise ValidationError(
            "registry-format",
            subject,
            f"field {key!r} must be an ISO 3166-1 alpha-2 code such as 'MY', got {value!r}",
        )
    return value


def _subdivision(obj: Mapping[str, Any], country: str, subject: str) -> str:
    """An optional ISO 3166-2 subdivision code of ``country`` (``MY-08``), or ""."""
    value = obj.get("subdivision")
    if value is None or value == "":
        return ""
    prefix, _, part = value.partition("-") if isinstance(value, str) else ("", "", "")
    shape = 1 <= len(part) <= 3 and part.isascii() and part.isalnum() and part == part.upper()
    if prefix != country or not shape:
        raise ValidationError(
            "registry-format",
            subject,
            f"field 'subdivision' must be an ISO 3166-2 code of {country} such as"
            f" '{country}-08', got {value!r}",
        )
    return str(value)


def _number(obj: Mapping[str, Any], key: str, subject: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    number = _finite(value)
    if number is None:
        raise ValidationError(
            "registry-format", subject, f"field {key!r} must be a finite number, got {value!r}"
        )
    least, greatest, unit = _RANGES[key]
    if not least <= number <= greatest:
        raise ValidationError(
            "registry-range",
            subject,
            f"field {key!r} is {value!r}, outside {least:,.0f} to {greatest:,.0f} {unit};"
            " correct the value, or leave the field out if it is not known",
        )
    return number


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        return None
    return number if math.isfinite(number) else None


def parse_participant(obj: object) -> Participant:
    """A participant record from its JSON form, or a ValidationError naming the field."""
    if not isinstance(obj, Mapping):
        raise ValidationError("registry-format", "participant", f"must be an object, got {obj!r}")
    subject = f"participant {obj.get('id')!r}"
    country = _country(obj, "country", subject)
    return Participant(
        id=check_id(obj.get("id"), subject, "id", rule="registry-format"),
        name=_text(obj, "name", subject),
        country=country,
        keys=parse_keys(obj.get("keys"), subject),
        roles=parse_roles(obj.get("roles"), subject),
        subdivision=_subdivision(obj, country, subject),
    )


def _stages(obj: Mapping[str, Any], subject: str) -> tuple[str, ...]:
    raw = obj.get("stage")
    stages = (raw,) if isinstance(raw, str) else raw
    if not isinstance(stages, list | tuple) or not stages:
        raise ValidationError(
            "registry-format",
            subject,
            f"'stage' must be a stage name or a non-empty list of them, got {raw!r}",
        )
    for stage in stages:
        if stage not in STAGES:
            raise ValidationError(
                "unknown-stage",
                subject,
                f"stage {stage!r} is not one of {', '.join(STAGES)}",
            )
    return tuple(stages)


def parse_facility(obj: object, participants: Mapping[str, Participant]) -> Facility:
    """A facility record from its JSON form; its operator must be a known participant."""
    if not isinstance(obj, Mapping):
        raise ValidationError("registry-format", "facility", f"must be an object, got {obj!r}")
    subject = f"facility {obj.get('id')!r}"
    facility_id = check_id(obj.get("id"), subject, "id", rule="registry-format")
    operator = check_id(obj.get("operator"), subject, "operator", rule="registry-format")
    if operator not in participants:
        raise ValidationError(
            "unknown-participant",
            subject,
            f"operator {operator!r} is not a registered participant; add it under 'participants'",
        )
    cahra = obj.get("cahra", False)
    if not isinstance(cahra, bool):
        raise ValidationError(
            "registry-format", subject, f"'cahra' must be true or false, got {cahra!r}"
        )
    country = _country(obj, "country", subject)
    tech = obj.get("technology_origin")
    return Facility(
        id=facility_id,
        name=_text(obj, "name", subject),
        operator=operator,
        country=country,
        stages=_stages(obj, subject),
        technology_origin=country if tech is None else _country(obj, "technology_origin", subject),
        cahra=cahra,
        region=_text(obj, "region", subject, required=False),
        lat=_number(obj, "lat", subject),
        lon=_number(obj, "lon", subject),
        capacity_t_per_year=_number(obj, "capacity_t_per_year", subject),
        subdivision=_subdivision(obj, country, subject),
    )


@dataclass(frozen=True, slots=True)
class RegistryDocument:
    """The records of one registry file, checked, in the order they must be applied."""

    participants: tuple[Participant, ...] = ()
    facilities: tuple[Facility, ...] = ()
    accreditations: tuple[Accreditation, ...] = ()
    licences: tuple[Licence, ...] = ()
    audits: tuple[Audit, ...] = ()

    def records(self) -> tuple[RegistryRecord, ...]:
        """Every record, participants first (facilities name their operator, licences and
        audits name participants and facilities)."""
        return (
            *self.participants, *self.facilities, *self.accreditations, *self.licences,
            *self.audits,
        )  # fmt: skip


def parse_registry(
    doc: object, known: Registry | None = None
) -> tuple[list[Participant], list[Facility]]:
    """Check a whole registry document; returns its participants and facilities (the
    compliance records are checked too: ``parse_registry_document`` returns them all)."""
    parsed = parse_registry_document(doc, known)
    return list(parsed.participants), list(parsed.facilities)


def parse_registry_document(doc: object, known: Registry | None = None) -> RegistryDocument:
    """Check a whole registry document against itself and what is ``known`` already."""
    if not isinstance(doc, Mapping):
        raise ValidationError("registry-format", "registry", "must be a JSON object")
    unknown = set(doc) - set(REGISTRY_LISTS)
    if unknown:
        raise ValidationError(
            "registry-format",
            "registry",
            f"unknown top-level keys {sorted(unknown)}; expected some of"
            f" {', '.join(repr(k) for k in REGISTRY_LISTS)}",
        )
    everyone = known.copy() if known else Registry()
    participants = [parse_participant(p) for p in _list(doc, "participants")]
    _unique(participants, "participant")
    everyone.participants.update({p.id: p for p in participants})
    facilities = [parse_facility(f, everyone.participants) for f in _list(doc, "facilities")]
    _unique(facilities, "facility")
    everyone.facilities.update({f.id: f for f in facilities})
    accreditations = [parse_accreditation(a, everyone) for a in _list(doc, "accreditations")]
    _unique(accreditations, "accreditation")
    licences = [parse_licence(x, everyone) for x in _list(doc, "licences")]
    _unique(licences, "licence")
    audits = [parse_audit(a, everyone) for a in _list(doc, "audits")]
    _unique(audits, "audit")
    return RegistryDocument(
        tuple(participants), tuple(facilities), tuple(accreditations), tuple(licences),
        tuple(audits),
    )  # fmt: skip


def parse_record(kind: str, obj: object, known: Registry) -> RegistryRecord:
    """One record of registry event type ``kind`` (participant, facility, licence,
    accreditation, audit), checked against the ``known`` registry."""
    if kind == "participant":
        return parse_participant(obj)
    if kind == "facility":
        return parse_facility(obj, known.participants)
    if kind == "licence":
        return parse_licence(obj, known)
    if kind == "accreditation":
        return parse_accreditation(obj, known)
    return parse_audit(obj, known)


def _list(doc: Mapping[str, Any], key: str) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise ValidationError("registry-format", "registry", f"{key!r} must be a list")
    return value


def _unique(records: Iterable[RegistryRecord], kind: str) -> None:
    seen: set[str] = set()
    for r in records:
        if r.id in seen:
            raise ValidationError(
                "registry-format", f"{kind} {r.id!r}", "appears twice in the file; keep one entry"
            )
        seen.add(r.id)
