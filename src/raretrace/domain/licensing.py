"""Licences, accreditations and audits: the registry records compliance rules rest on.

Each is a registry record like a facility (logged, signed by the registry authority). This
module parses them from their JSON form (exact field names, unknown fields refused: a
misspelt ``valid_until`` must not turn a licence into one that never expires) and says
whether one *counts* on a given day: a licence only if its authority holds the ``authority``
role, an audit only if its auditor holds the ``auditor`` role and an accreditation for the
audit's standard valid on the audit's date. Validity is half-open, ``[valid_from,
valid_until)``; a missing ``valid_until`` (licences, accreditations) means no expiry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from raretrace.domain.errors import ValidationError
from raretrace.domain.ids import check_id
from raretrace.domain.model import display_time, normalize_time

if TYPE_CHECKING:
    from raretrace.domain.registry import Registry

#: What a participant may be. ``operator`` (the default) runs facilities and holds lots.
ROLES: tuple[str, ...] = ("operator", "auditor", "authority")
LICENCE_KINDS: tuple[str, ...] = ("operating", "residue-storage", "export")
AUDIT_RESULTS: tuple[str, ...] = ("pass", "conditional", "fail")

_LICENCE_FIELDS = frozenset(
    ("id", "holder", "facility", "kind", "regime", "authority", "events", "lots", "valid_from",
     "valid_until", "suspensions", "revoked")
)  # fmt: skip
_ACCREDITATION_FIELDS = frozenset(("id", "auditor", "standards", "valid_from", "valid_until"))
_AUDIT_FIELDS = frozenset(
    ("id", "facility", "auditor", "standard", "date", "valid_until", "result", "findings")
)


@dataclass(frozen=True, slots=True)
class Suspension:
    """A time a licence did not count: from ``start`` until ``end`` (None: still suspended),
    half-open like validity; set by the authority's ``licensing`` events (docs/clearinghouse.md)."""

    start: str
    reason: str
    end: str | None = None
    by: str = ""

    def covers(self, time: str) -> bool:
        return _within(self.start, self.end, time)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"from": display_time(self.start), "reason": self.reason}
        if self.end is not None:
            doc["until"] = display_time(self.end)
        if self.by:
            doc["by"] = self.by
        return doc


@dataclass(frozen=True, slots=True)
class LicenceRevocation:
    """A licence withdrawn for good from ``at`` on."""

    at: str
    reason: str
    by: str = ""

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"at": display_time(self.at), "reason": self.reason}
        if self.by:
            doc["by"] = self.by
        return doc


@dataclass(frozen=True, slots=True)
class Licence:
    """A permit an authority granted: to operate a plant, store residues, or export."""

    id: str
    holder: str
    kind: str
    authority: str
    valid_from: str
    valid_until: str | None
    facility: str | None = None
    regime: str | None = None
    #: Export licences: the ship events (``events``) or lots (``lots``) they cover; both
    #: empty means a general licence covering every export by the holder while valid.
    events: tuple[str, ...] = ()
    lots: tuple[str, ...] = ()
    #: Periods it was suspended, oldest first (only the last may be open).
    suspensions: tuple[Suspension, ...] = ()
    revoked: LicenceRevocation | None = None

    def valid_at(self, time: str) -> bool:
        """Whether ``time`` (normalized) falls in ``[valid_from, valid_until)``, outside every
        suspension and before any revocation."""
        return self.invalid_at(time) is None

    def invalid_at(self, time: str) -> str | None:
        """Why the licence did not count at ``time`` (its dates, a suspension, a revocation),
        or None if it did; the words a compliance pack shows."""
        if self.revoked is not None and time >= self.revoked.at:
            return f"licence {self.id!r} revoked on {self.revoked.at[:10]} ({self.revoked.reason})"
        for pause in self.suspensions:
            if pause.covers(time):
                until = f" to {pause.end[:10]}" if pause.end else ", not reinstated"
                return (
                    f"licence {self.id!r} suspended from {pause.start[:10]}{until} ({pause.reason})"
                )
        if not _within(self.valid_from, self.valid_until, time):
            until = self.valid_until[:10] if self.valid_until else "no end"
            return f"licence {self.id!r} valid {self.valid_from[:10]} to {until}"
        return None

    @property
    def suspended(self) -> Suspension | None:
        """The suspension in force now (the last one, if it has no end), or None."""
        last = self.suspensions[-1] if self.suspensions else None
        return last if last is not None and last.end is None else None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "holder": self.holder, "kind": self.kind}
        if self.facility is not None:
            doc["facility"] = self.facility
        if self.regime is not None:
            doc["regime"] = self.regime
        doc["authority"] = self.authority
        if self.events:
            doc["events"] = list(self.events)
        if self.lots:
            doc["lots"] = list(self.lots)
        doc["valid_from"] = display_time(self.valid_from)
        if self.valid_until is not None:
            doc["valid_until"] = display_time(self.valid_until)
        if self.suspensions:
            doc["suspensions"] = [pause.to_json() for pause in self.suspensions]
        if self.revoked is not None:
            doc["revoked"] = self.revoked.to_json()
        return doc


@dataclass(frozen=True, slots=True)
class Accreditation:
    """An auditor's accreditation to audit against some standards for a period."""

    id: str
    auditor: str
    standards: tuple[str, ...]
    valid_from: str
    valid_until: str | None

    def valid_at(self, time: str) -> bool:
        return _within(self.valid_from, self.valid_until, time)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "auditor": self.auditor,
            "standards": list(self.standards),
            "valid_from": display_time(self.valid_from),
        }
        if self.valid_until is not None:
            doc["valid_until"] = display_time(self.valid_until)
        return doc


@dataclass(frozen=True, slots=True)
class Audit:
    """One audit of a facility against a standard, its result and how long it holds."""

    id: str
    facility: str
    auditor: str
    standard: str
    date: str
    valid_until: str
    result: str
    findings: tuple[Any, ...] = ()

    def valid_at(self, time: str) -> bool:
        return _within(self.date, self.valid_until, time)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "facility": self.facility,
            "auditor": self.auditor,
            "standard": self.standard,
            "date": display_time(self.date),
            "valid_until": display_time(self.valid_until),
            "result": self.result,
            "findings": list(self.findings),
        }


ComplianceRecord = Licence | Accreditation | Audit
#: The registry event type (and registry file list, in the plural) of each record class.
RECORD_KINDS: dict[type, str] = {Licence: "licence", Accreditation: "accreditation", Audit: "audit"}


def _within(start: str, end: str | None, time: str) -> bool:
    return start <= time and (end is None or time < end)


# -- parsing -----------------------------------------------------------------------------------


def _object(obj: object, kind: str, fields: frozenset[str]) -> tuple[Mapping[str, Any], str]:
    if not isinstance(obj, Mapping):
        raise ValidationError("registry-format", kind, f"must be an object, got {obj!r}")
    subject = f"{kind} {obj.get('id')!r}"
    unknown = sorted(set(obj) - fields)
    if unknown:
        raise ValidationError(
            "registry-format",
            subject,
            f"unknown field(s) {unknown}; a {kind} has exactly the fields"
            f" {', '.join(sorted(fields))} (docs/formats.md, Registry)",
        )
    return obj, subject


def _participant(obj: Mapping[str, Any], key: str, subject: str, known: Registry) -> str:
    value = check_id(obj.get(key), subject, key, rule="registry-format")
    if value not in known.participants:
        raise ValidationError(
            "unknown-participant",
            subject,
            f"{key} {value!r} is not a registered participant; add it under 'participants'",
        )
    return value


def _facility(obj: Mapping[str, Any], subject: str, known: Registry) -> str:
    value = check_id(obj.get("facility"), subject, "facility", rule="registry-format")
    if value not in known.facilities:
        raise ValidationError(
            "unknown-facility",
            subject,
            f"facility {value!r} is not in the registry; add it under 'facilities'",
        )
    return value


def _time(obj: Mapping[str, Any], key: str, subject: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValidationError(
            "registry-format",
            subject,
            f"field {key!r} must be an RFC 3339 date-time such as '2025-01-01T00:00:00Z',"
            f" got {value!r}",
        )
    try:
        return normalize_time(value, subject)
    except ValidationError as exc:
        raise ValidationError("registry-format", subject, f"field {key!r}: {exc.message}") from None


def _period(start: str, end: str | None, subject: str, names: tuple[str, str]) -> None:
    if end is not None and end <= start:
        raise ValidationError(
            "registry-dates",
            subject,
            f"{names[1]} {display_time(end)} is not after {names[0]} {display_time(start)};"
            " a record is valid from the first time up to (not including) the second",
        )


def _choice(obj: Mapping[str, Any], key: str, subject: str, allowed: tuple[str, ...]) -> str:
    value = obj.get(key)
    if value not in allowed:
        raise ValidationError(
            "registry-format", subject, f"{key} {value!r} is not one of {', '.join(allowed)}"
        )
    return str(value)


def _ids(obj: Mapping[str, Any], key: str, subject: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise ValidationError(
            "registry-format", subject, f"field {key!r} must be a list of ids, got {value!r}"
        )
    ids = tuple(check_id(v, subject, key, rule="registry-format") for v in value)
    if len(set(ids)) != len(ids):
        raise ValidationError("registry-format", subject, f"field {key!r} lists an id twice")
    return ids


def _label(obj: Mapping[str, Any], key: str, subject: str, *, required: bool) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    return check_id(value, subject, key, rule="registry-format")


def parse_licence(obj: object, known: Registry) -> Licence:
    """A licence from its JSON form; holder and authority (and facility) must be registered."""
    doc, subject = _object(obj, "licence", _LICENCE_FIELDS)
    kind = _choice(doc, "kind", subject, LICENCE_KINDS)
    events, lots = _ids(doc, "events", subject), _ids(doc, "lots", subject)
    if kind != "export" and (events or lots):
        raise ValidationError(
            "registry-format",
            subject,
            f"only an export licence lists 'events' or 'lots'; this one is {kind!r}",
        )
    needs_facility = kind != "export"
    if needs_facility and doc.get("facility") is None:
        raise ValidationError(
            "registry-format", subject, f"a {kind!r} licence names its 'facility'"
        )
    licence = Licence(
        id=check_id(doc.get("id"), subject, "id", rule="registry-format"),
        holder=_participant(doc, "holder", subject, known),
        kind=kind,
        authority=_participant(doc, "authority", subject, known),
        valid_from=_time(doc, "valid_from", subject) or "",
        valid_until=_time(doc, "valid_until", subject, required=False),
        facility=_facility(doc, subject, known) if doc.get("facility") is not None else None,
        regime=_label(doc, "regime", subject, required=kind == "export"),
        events=events,
        lots=lots,
        suspensions=_suspensions(doc.get("suspensions", []), subject),
        revoked=_revocation(doc.get("revoked"), subject),
    )
    _period(licence.valid_from, licence.valid_until, subject, ("valid_from", "valid_until"))
    return licence


def _suspensions(value: object, subject: str) -> tuple[Suspension, ...]:
    """A licence's ``suspensions``: [{from, until?, reason, by?}], in time order, only the
    last one open."""
    if not isinstance(value, list):
        raise ValidationError("registry-format", subject, "'suspensions' must be a list")
    out: list[Suspension] = []
    for i, item in enumerate(value):
        where = f"suspensions[{i}]"
        doc = _part(item, f"{subject} {where}", ("from", "until", "reason", "by"))
        start = _time(doc, "from", f"{subject} {where}") or ""
        end = _time(doc, "until", f"{subject} {where}", required=False)
        if end is not None:
            _period(start, end, f"{subject} {where}", ("from", "until"))
        if out and (out[-1].end is None or start < out[-1].end):
            raise ValidationError(
                "registry-dates",
                subject,
                f"{where} starts before the suspension before it ended; suspensions are listed"
                " oldest first and do not overlap",
            )
        out.append(Suspension(start, _reason(doc, subject), end, _by(doc, subject)))
    return tuple(out)


def _revocation(value: object, subject: str) -> LicenceRevocation | None:
    if value is None:
        return None
    doc = _part(value, f"{subject} revoked", ("at", "reason", "by"))
    return LicenceRevocation(_time(doc, "at", subject) or "", _reason(doc, subject),
                             _by(doc, subject))  # fmt: skip


def _part(value: object, where: str, fields: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError("registry-format", where, f"must be an object, got {value!r}")
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ValidationError(
            "registry-format", where, f"unknown field(s) {unknown}; the fields are {fields}"
        )
    return value


def _reason(doc: Mapping[str, Any], subject: str) -> str:
    reason = doc.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError(
            "registry-format",
            subject,
            f"a suspension or revocation needs a 'reason', got {reason!r}",
        )
    return reason


def _by(doc: Mapping[str, Any], subject: str) -> str:
    value = doc.get("by")
    return "" if value is None else check_id(value, subject, "by", rule="registry-format")


def parse_accreditation(obj: object, known: Registry) -> Accreditation:
    """An accreditation from its JSON form; the auditor must be registered."""
    doc, subject = _object(obj, "accreditation", _ACCREDITATION_FIELDS)
    standards = doc.get("standards")
    if not isinstance(standards, list) or not standards:
        raise ValidationError(
            "registry-format",
            subject,
            f"'standards' must be a non-empty list of standard ids such as 'oecd-ddg',"
            f" got {standards!r}",
        )
    accreditation = Accreditation(
        id=check_id(doc.get("id"), subject, "id", rule="registry-format"),
        auditor=_participant(doc, "auditor", subject, known),
        standards=_ids(doc, "standards", subject),
        valid_from=_time(doc, "valid_from", subject) or "",
        valid_until=_time(doc, "valid_until", subject, required=False),
    )
    names = ("valid_from", "valid_until")
    _period(accreditation.valid_from, accreditation.valid_until, subject, names)
    return accreditation


def parse_audit(obj: object, known: Registry) -> Audit:
    """An audit from its JSON form; facility and auditor must be registered."""
    doc, subject = _object(obj, "audit", _AUDIT_FIELDS)
    findings = doc.get("findings", [])
    if not isinstance(findings, list):
        raise ValidationError(
            "registry-format", subject, f"'findings' must be a list, got {findings!r}"
        )
    audit = Audit(
        id=check_id(doc.get("id"), subject, "id", rule="registry-format"),
        facility=_facility(doc, subject, known),
        auditor=_participant(doc, "auditor", subject, known),
        standard=check_id(doc.get("standard"), subject, "standard", rule="registry-format"),
        date=_time(doc, "date", subject) or "",
        valid_until=_time(doc, "valid_until", subject) or "",
        result=_choice(doc, "result", subject, AUDIT_RESULTS),
        findings=tuple(findings),
    )
    _period(audit.date, audit.valid_until, subject, ("date", "valid_until"))
    return audit


def parse_roles(value: object, subject: str) -> tuple[str, ...]:
    """A participant's ``roles`` (default ``["operator"]``), in the order of ``ROLES``."""
    if value is None:
        return ("operator",)
    if not isinstance(value, list) or not value:
        raise ValidationError(
            "registry-format",
            subject,
            f"'roles' must be a non-empty list of {', '.join(ROLES)}, got {value!r}",
        )
    for role in value:
        if role not in ROLES:
            raise ValidationError(
                "unknown-role",
                subject,
                f"role {role!r} is not one of {', '.join(ROLES)}; leave 'roles' out for an"
                " operator",
            )
    if len(set(value)) != len(value):
        raise ValidationError("registry-format", subject, f"'roles' lists a role twice: {value}")
    return tuple(r for r in ROLES if r in value)


# -- whether a record counts -------------------------------------------------------------------


def licence_standing(licence: Licence, registry: Registry) -> str | None:
    """Why ``licence`` does not count (its authority lacks the ``authority`` role), or None."""
    authority = registry.participants.get(licence.authority)
    if authority is None or "authority" not in authority.roles:
        return (
            f"licence {licence.id!r} does not count: its authority {licence.authority!r}"
            " does not hold the 'authority' role in the registry"
        )
    return None


def audit_standing(audit: Audit, registry: Registry) -> str | None:
    """Why ``audit`` does not count, or None: its auditor must hold the ``auditor`` role and
    an accreditation for the audit's standard valid on the audit's date."""
    auditor = registry.participants.get(audit.auditor)
    if auditor is None or "auditor" not in auditor.roles:
        return (
            f"audit {audit.id!r} does not count: {audit.auditor!r} does not hold the"
            " 'auditor' role in the registry"
        )
    for accreditation in registry.accreditations.values():
        if (
            accreditation.auditor == audit.auditor
            and audit.standard in accreditation.standards
            and accreditation.valid_at(audit.date)
        ):
            return None
    return (
        f"audit {audit.id!r} does not count: auditor {audit.auditor!r} held no accreditation"
        f" for {audit.standard!r} on {display_time(audit.date)}"
    )
