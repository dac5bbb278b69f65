"""Ledger events as values, and the parser that turns one JSON object into one of them.

The parser checks shape only (fields, types, ids, known keys, finite positive masses no
heavier than ``MAX_LOT_KG``, composition no heavier than the lot); rules that need ledger
state live in ``rules``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from raretrace.domain import elements
from raretrace.domain.errors import ValidationError
from raretrace.domain.ids import check_id
from raretrace.domain.model import FORMS, MAX_LOT_KG, PROCESSES, normalize_time


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """A lot an event creates: id, form, total mass and contained elements."""

    lot: str
    form: str
    mass_kg: float
    elements_kg: dict[str, float]


@dataclass(frozen=True, slots=True)
class InputSpec:
    """How much of an existing lot a transform consumes."""

    lot: str
    mass_kg: float


@dataclass(frozen=True, slots=True)
class Event:
    """Fields every event has. ``raw`` is the object as received, kept for the log."""

    id: str
    type: str
    time: str
    actor: str
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ExtractEvent(Event):
    facility: str
    outputs: tuple[OutputSpec, ...]


@dataclass(frozen=True, slots=True)
class ShipEvent(Event):
    lot: str
    origin: str
    destination: str
    consignee: str


@dataclass(frozen=True, slots=True)
class ReceiveEvent(Event):
    lot: str
    facility: str
    mass_kg: float | None


@dataclass(frozen=True, slots=True)
class TransformEvent(Event):
    facility: str
    process: str
    inputs: tuple[InputSpec, ...]
    outputs: tuple[OutputSpec, ...]
    losses_kg: dict[str, float]


@dataclass(frozen=True, slots=True)
class AdjustEvent(Event):
    lot: str
    mass_kg: float
    reason: str


@dataclass(frozen=True, slots=True)
class RegistryEvent(Event):
    """A registry record (participant, facility, licence, accreditation or audit) entering
    the registry; ``record`` is its JSON form."""

    record: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ClaimEvent(Event):
    """A claim of ``share`` (0 < share ≤ 1) of a lot's material under ``scheme``."""

    lot: str
    scheme: str
    share: float


@dataclass(frozen=True, slots=True)
class RevocationEvent(Event):
    """A credential about a lot revoked by its issuer (docs/credentials.md, ``revoke``):
    recorded by the registry authority; the status list bit is the issuer's to set."""

    credential: str
    issuer: str
    status_list: str
    index: int
    reason: str
    lot: str | None


@dataclass(frozen=True, slots=True)
class CaseEvent(Event):
    """A step of the clearinghouse (docs/clearinghouse.md): licensing, an agreement or its
    review, a dispute, a statement, a ruling. Its fields are checked by the workflow's rules
    (domain/clearinghouse.py) when applied."""


LedgerEvent = (
    ExtractEvent | ShipEvent | ReceiveEvent | TransformEvent | AdjustEvent | ClaimEvent
    | RevocationEvent | RegistryEvent | CaseEvent
)  # fmt: skip
EVENT_TYPES = (
    "extract", "ship", "receive", "transform", "adjust", "claim", "revocation", "participant",
    "facility", "licence", "accreditation", "audit", "licensing", "agreement",
    "agreement-review", "dispute", "statement", "ruling",
)  # fmt: skip


def _fail(rule: str, subject: str, message: str) -> ValidationError:
    return ValidationError(rule, subject, message)


def _str(obj: Mapping[str, Any], key: str, subject: str) -> str:
    """A field that holds an id (of the event, a lot, a facility or a participant)."""
    return check_id(obj.get(key), subject, key)


def _within_bound(mass: float, raw: float | int, subject: str, what: str, advice: str) -> None:
    """Refuse ``mass`` (read from ``raw``) beyond MAX_LOT_KG, under ``mass-limit``."""
    if mass > MAX_LOT_KG:
        shown = f"{mass:.6g} kg" if math.isfinite(mass) else f"{_shown(raw)} kg"
        raise _fail(
            "mass-limit",
            subject,
            f"{what} is {shown}, more than the {MAX_LOT_KG:,.0f} kg"
            f" ({MAX_LOT_KG / 1000:,.0f} t) one lot may hold; {advice}",
        )


def _shown(value: object) -> str:
    """``value`` for a message: an integer of hundreds of digits by its length."""
    if type(value) is int and abs(value) >= 10**20:
        return f"{'-' if value < 0 else ''}an integer of {len(str(abs(value)))} digits"
    return repr(value)


_CHECK_UNIT = "check the unit (kg, not g) and the number"
_SPLIT = "record the material as several lots of at most that (an event may create several outputs)"


def _float(value: float | int) -> float:
    """``value`` as a float; an integer beyond the float range becomes ±inf (and is then
    refused as beyond MAX_LOT_KG, not as infinite: it was a finite number, just far too big)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _finite_or_big_int(number: float, raw: float | int) -> bool:
    return math.isfinite(number) or (type(raw) is int and not math.isnan(number))


def _mass(value: object, subject: str, what: str, advice: str = _CHECK_UNIT) -> float:
    if type(value) is not float and (type(value) is not int):
        raise _fail("format", subject, f"{what} must be a number, got {value!r}")
    mass = _float(value)
    if not (_finite_or_big_int(mass, value) and mass > 0):
        raise _fail(
            "mass-positive", subject, f"{what} must be a finite number > 0 kg, got {_shown(value)}"
        )
    _within_bound(mass, value, subject, what, advice)
    return mass


def _composition(value: object, subject: str, what: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise _fail("format", subject, f"{what} must be an object of element: kg, got {value!r}")
    out: dict[str, float] = {}
    for key, kg in value.items():
        if not elements.is_known(key):
            raise _fail(
                "unknown-element",
                subject,
                f"{what} has unknown element {key!r}; use symbols such as 'Nd', 'Th', or 'other'",
            )
        if type(kg) is not float and type(kg) is not int:
            raise _fail("format", subject, f"{what}[{key!r}] must be a number, got {kg!r}")
        raw, kg = kg, _float(kg)
        if not (_finite_or_big_int(kg, raw) and kg >= 0):
            raise _fail(
                "mass-positive",
                subject,
                f"{what}[{key!r}] must be finite and ≥ 0 kg, got {_shown(raw)}",
            )
        _within_bound(kg, raw, subject, f"{what}[{key!r}]", _CHECK_UNIT)
        if kg > 0:
            out[key] = kg
    return out


def _outputs(obj: Mapping[str, Any], subject: str) -> tuple[OutputSpec, ...]:
    raw = obj.get("outputs")
    if not isinstance(raw, list) or not raw:
        raise _fail("format", subject, "'outputs' must be a non-empty list of lots")
    specs = []
    for i, item in enumerate(raw):
        where = f"outputs[{i}]"
        if not isinstance(item, dict):
            raise _fail("format", subject, f"{where} must be an object")
        lot = _str(item, "lot", f"{subject} {where}")
        form = item.get("form")
        if form not in FORMS:
            raise _fail(
                "unknown-form", f"lot {lot!r}", f"form {form!r} is not one of {', '.join(FORMS)}"
            )
        mass = _mass(item.get("mass_kg"), f"lot {lot!r}", "mass_kg", _SPLIT)
        comp = _composition(item.get("elements_kg"), f"lot {lot!r}", "elements_kg")
        total = math.fsum(comp.values())
        if total > mass * (1 + 1e-9):
            shown = (f"{total:.6g}", f"{mass:.6g}")
            if shown[0] == shown[1]:  # 6 digits hide the difference: show them all
                shown = (repr(total), repr(mass))
            raise _fail(
                "composition-exceeds-mass",
                f"lot {lot!r}",
                f"elements_kg add up to {shown[0]} kg but the lot weighs {shown[1]} kg;"
                " a lot's elements cannot weigh more than the lot",
            )
        specs.append(OutputSpec(lot, form, mass, comp))
    _no_repeats([s.lot for s in specs], subject, "outputs")
    return tuple(specs)


def _inputs(obj: Mapping[str, Any], subject: str) -> tuple[InputSpec, ...]:
    raw = obj.get("inputs")
    if not isinstance(raw, list) or not raw:
        raise _fail("format", subject, "'inputs' must be a non-empty list of {lot, mass_kg}")
    specs = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _fail("format", subject, f"inputs[{i}] must be an object")
        lot = _str(item, "lot", f"{subject} inputs[{i}]")
        specs.append(InputSpec(lot, _mass(item.get("mass_kg"), f"lot {lot!r}", "input mass_kg")))
    _no_repeats([s.lot for s in specs], subject, "inputs")
    return tuple(specs)


def _no_repeats(ids: list[str], subject: str, where: str) -> None:
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise _fail("duplicate-lot", subject, f"lot(s) {dup} appear more than once in {where}")


def parse_event(obj: object) -> LedgerEvent:
    """Turn one decoded JSON object into a typed event, or raise ValidationError."""
    if not isinstance(obj, dict):
        raise _fail("format", "event", f"an event must be a JSON object, got {type(obj).__name__}")
    event_id = check_id(obj.get("id"), "event", "id")
    subject = f"event {event_id!r}"
    kind = obj.get("type")
    # Only a text type can name a parser: a JSON object or array as "type" is unhashable.
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise _fail(
            "unknown-event-type",
            subject,
            f"type {kind!r} is not one of {', '.join(EVENT_TYPES)}",
        )
    base = (
        event_id,
        str(kind),
        normalize_time(obj.get("time"), subject),
        _str(obj, "actor", subject),
    )
    return parser(obj, subject, base)


Base = tuple[str, str, str, str]


def _extract(obj: dict[str, Any], subject: str, base: Base) -> LedgerEvent:
    return ExtractEvent(*base, obj, _str(obj, "facility", subject), _outputs(obj, subject))


def _ship(obj: dict[str, Any], subject: str, base: Base) -> LedgerEvent:
    return ShipEvent(
        *base,
        obj,
        _str(obj, "lot", subject),
        _str(obj, "from", subject),
        _str(obj, "to", subject),
        _str(obj, "consignee", subject),
    )


def _receive(obj: dict[str, Any], subject: str, base: Base) -> LedgerEvent:
    mass = obj.get("mass_kg")
    measured = None if mass is None else _mass(mass, subject, "received mass_kg")
    return ReceiveEvent(
        *base, obj, _str(obj, "lot", subject), _str(obj, "facility", subject), measured
    )


def _transform(obj: dict[str, Any], subject: str, base: Base) -> LedgerEvent:
    process = obj.get("process")
    if process not in PROCESSES:
        raise _fail(
            "unknown-process", subject, f"process {process!r} is not one of {', '.join(PROCESSES)}"
        )
    losses = _composition(obj.get("losses_kg", {}), subject, "losses_kg")
    return TransformEvent(
        *base,
        obj,
        _str(obj, "facility", subject),
        process,
        _inputs(obj, subject),
        _outputs(obj, subject),
        losses,
    )


def _adjust(obj: dict[str, Any], subject: str, base: Base) -> LedgerEvent:
    raw: Any = obj.get("mass_kg")
    delta = _float(raw) if type(raw) in (int, float) else math.nan
    if not (_finite_or_big_int(delta, raw) and delta < 0):
        raise _fail(
            "adjust-negative",
            subject,
            f"an adjustment's mass_kg must be a finite negative number (a loss), got"
            f" {_shown(raw)}; material cannot be added by adjustment",
        )
    _within_bound(-delta, -raw, subject, "the adjustment's loss", "no lot holds more than that")
    reason = obj.get("reason")
    if type(reason) is not str or not reason.strip():
        raise _fail("format", subject, "an adjustment needs a 'reason' (e.g. 'sampling', 'spill')")
    return AdjustEvent(*base, obj, _str(obj, "lot", subject), delta, reason)


def _claim(obj: dict[str, Any], subject: str, base: Base) -> LedgerEvent:
    raw: Any = obj.get("share")
    share = _float(raw) if type(raw) in (int, float) else math.nan
    if not 0 < share <= 1:  # NaN fails too
        raise _fail(
            "claim-share",
            subject,
            f"a claim's share must be a number above 0 and at most 1 (the fraction of the lot's"
            f" material claimed; 1 = all of it), got {_shown(raw)}",
        )
    lot, scheme = _str(obj, "lot", subject), _str(obj, "scheme", subject)
    return ClaimEvent(*base, obj, lot, scheme, share)


def _revocation(obj: dict[str, Any], subject: str, base: Base) -> LedgerEvent:
    index, reason = obj.get("index"), obj.get("reason")
    if type(index) is not int or index < 0:
        raise _fail(
            "revocation-index",
            subject,
            f"a revocation's index must be the credential's statusListIndex, an integer"
            f" >= 0, got {_shown(index)}",
        )
    if type(reason) is not str or not reason.strip():
        raise _fail("format", subject, "a revocation needs a 'reason' (why it was revoked)")
    lot = _str(obj, "lot", subject) if "lot" in obj else None
    credential, issuer, status_list = (
        _str(obj, k, subject) for k in ("credential", "issuer", "status_list")
    )
    return RevocationEvent(*base, obj, credential, issuer, status_list, index, reason, lot)


def _registry(obj: dict[str, Any], subject: str, base: Base) -> LedgerEvent:
    record = obj.get(base[1])
    if not isinstance(record, dict):
        raise _fail("format", subject, f"field {base[1]!r} must be the {base[1]} record")
    return RegistryEvent(*base, obj, record)


def _case(obj: dict[str, Any], subject: str, base: Base) -> LedgerEvent:
    return CaseEvent(*base, obj)


_PARSERS = {
    "extract": _extract,
    "ship": _ship,
    "receive": _receive,
    "transform": _transform,
    "adjust": _adjust,
    "claim": _claim,
    "revocation": _revocation,
    "participant": _registry,
    "facility": _registry,
    "licence": _registry,
    "accreditation": _registry,
    "audit": _registry,
    "licensing": _case,
    "agreement": _case,
    "agreement-review": _case,
    "dispute": _case,
    "statement": _case,
    "ruling": _case,
}
