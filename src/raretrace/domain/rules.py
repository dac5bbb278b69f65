"""The ledger's rules: what one event does to the ledger's state, or why it is refused.

``apply`` is pure: it reads lots through a ``LedgerState`` and returns the ``Effects`` the
event would have, without changing anything. A caller that gets a ValidationError has
nothing to undo; a caller that gets Effects writes them all or none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from raretrace.domain import provenance
from raretrace.domain.casework import Step
from raretrace.domain.claims import claimed_provenance
from raretrace.domain.clearinghouse import COUNCIL_TYPES, Case, apply_case, apply_correction
from raretrace.domain.elements import CONSERVED, ELEMENT_ORDER
from raretrace.domain.errors import NotFound, ValidationError
from raretrace.domain.events import (
    AdjustEvent,
    CaseEvent,
    ClaimEvent,
    ExtractEvent,
    LedgerEvent,
    OutputSpec,
    ReceiveEvent,
    RegistryEvent,
    RevocationEvent,
    ShipEvent,
    TransformEvent,
)
from raretrace.domain.keys import check_key_record
from raretrace.domain.model import (
    ACTIVE,
    CONSUMED,
    IN_TRANSIT,
    PROCESS_STAGE,
    REGISTRY_ACTOR,
    WRITTEN_OFF,
    Facility,
    Lot,
    Participant,
    Provenance,
    Tolerance,
    display_time,
)
from raretrace.domain.provenance import at_source, restricted, transformed
from raretrace.domain.registry import Registry, RegistryRecord, parse_record


class LedgerState(Protocol):
    """What the rules may read: the registry and the current state of lots."""

    @property
    def registry(self) -> Registry: ...

    def lot(self, lot_id: str) -> Lot | None: ...


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """A receipt whose measured mass differs from the shipped mass beyond tolerance."""

    lot: str
    origin: str
    destination: str
    shipped_kg: float
    received_kg: float
    ship_seq: int
    time: str

    @property
    def delta_kg(self) -> float:
        return self.received_kg - self.shipped_kg


@dataclass(slots=True)
class Effects:
    """Everything one accepted event changes; written together or not at all."""

    lots: list[Lot] = field(default_factory=list)
    #: (lot id, role, kg) — how the event used each lot: created, consumed, shipped, received,
    #: adjusted, claimed. The index for traces, audits and bundles.
    links: list[tuple[str, str, float]] = field(default_factory=list)
    discrepancy: Discrepancy | None = None
    record: RegistryRecord | None = None
    #: An agreement or dispute as the event leaves it (docs/clearinghouse.md).
    case: Case | None = None


def _lot_gone_message(lot: Lot) -> str:
    if lot.status == IN_TRANSIT:
        return (
            f"lot is in transit (to {lot.destination}) and cannot be used; the consignee"
            f" {lot.consignee!r} must receive it there first"
        )
    advice = (
        "an earlier transform used all of it: use that transform's outputs"
        if lot.status == CONSUMED
        else "an adjust event wrote it off: nothing of it remains to use"
    )
    return f"lot is {lot.status.replace('_', ' ')} (at {lot.facility}) and cannot be used; {advice}"


def _active_lot(state: LedgerState, lot_id: str, event: LedgerEvent) -> Lot:
    lot = state.lot(lot_id)
    if lot is None:
        raise ValidationError(
            "lot-not-found",
            f"lot {lot_id!r}",
            f"no such lot (event {event.id!r}); "
            "it must be created by an extract or transform event first",
        )
    if lot.status != ACTIVE:
        raise ValidationError("lot-not-active", f"lot {lot_id!r}", _lot_gone_message(lot))
    _check_time(lot, event)
    return lot


def _check_time(lot: Lot, event: LedgerEvent) -> None:
    if event.time < lot.time:
        raise ValidationError(
            "time-order",
            f"lot {lot.id!r}",
            f"event {event.id!r} at {display_time(event.time)} is before the lot's last event"
            f" at {display_time(lot.time)}; events on a lot must not go back in time",
        )


def _check_custodian(lot: Lot, event: LedgerEvent) -> None:
    if lot.custodian != event.actor:
        raise ValidationError(
            "not-custodian",
            f"lot {lot.id!r}",
            f"actor {event.actor!r} is not the lot's custodian {lot.custodian!r};"
            " only the custodian may use a lot",
        )


def _facility(state: LedgerState, facility_id: str, event: LedgerEvent) -> Facility:
    try:
        return state.registry.facility(facility_id)
    except NotFound as exc:
        raise ValidationError("unknown-facility", f"event {event.id!r}", exc.message) from None


def _check_participant(state: LedgerState, participant_id: str, event: LedgerEvent) -> None:
    if participant_id not in state.registry.participants:
        raise ValidationError(
            "unknown-participant",
            f"event {event.id!r}",
            f"participant {participant_id!r} is not in the registry;"
            " load it with `raretrace registry load FILE`",
        )


def _new_lots(
    state: LedgerState,
    event: LedgerEvent,
    facility: Facility,
    outputs: tuple[OutputSpec, ...],
    provenances: list[Provenance],
    seq: int,
) -> list[Lot]:
    lots = []
    for spec, prov in zip(outputs, provenances, strict=True):
        if state.lot(spec.lot) is not None:
            raise ValidationError(
                "lot-exists",
                f"lot {spec.lot!r}",
                f"a lot with this id already exists; event {event.id!r} must create new lot ids",
            )
        lots.append(
            Lot(
                id=spec.lot,
                form=spec.form,
                mass_kg=spec.mass_kg,
                elements_kg=spec.elements_kg,
                custodian=event.actor,
                facility=facility.id,
                status=ACTIVE,
                time=event.time,
                created_seq=seq,
                provenance=prov,
            )
        )
    return lots


def apply_extract(state: LedgerState, event: ExtractEvent, seq: int, tol: Tolerance) -> Effects:
    """Primary extraction at a mine, or collection of end-of-life scrap at a recycler."""
    facility = _facility(state, event.facility, event)
    if event.actor != facility.operator:
        raise ValidationError(
            "not-operator",
            f"facility {facility.id!r}",
            f"actor {event.actor!r} is not the operator {facility.operator!r};"
            " only a facility's operator records extraction there",
        )
    provs = [_source_provenance(facility, spec, event) for spec in event.outputs]
    lots = _new_lots(state, event, facility, event.outputs, provs, seq)
    return Effects(lots=lots, links=[(lot.id, "created", lot.mass_kg) for lot in lots])


def _source_provenance(facility: Facility, spec: OutputSpec, event: ExtractEvent) -> Provenance:
    if spec.form == "scrap" and "recycling" in facility.stages:
        return at_source(facility, spec.elements_kg, recycled=True, stage="recycling")
    if "mine" in facility.stages:
        return at_source(facility, spec.elements_kg, recycled=False, stage="mine")
    if "recycling" in facility.stages:
        raise ValidationError(
            "extract-stage",
            f"lot {spec.lot!r}",
            f"a recycling facility extracts only collected scrap (form 'scrap'), got form"
            f" {spec.form!r} at {facility.id!r}; record collected end-of-life material as"
            " form 'scrap', and anything made from it with a transform",
        )
    raise ValidationError(
        "extract-stage",
        f"facility {facility.id!r}",
        f"extraction is recorded only at a mine or a recycling facility; {facility.id!r} is"
        f" {'/'.join(facility.stages)} (event {event.id!r}); record it where the material was"
        " mined or collected, and ship it here",
    )


def apply_ship(state: LedgerState, event: ShipEvent, seq: int, tol: Tolerance) -> Effects:
    """Hand a lot to a carrier, bound for a facility and a consignee."""
    lot = _active_lot(state, event.lot, event)
    _check_custodian(lot, event)
    if lot.facility != event.origin:
        raise ValidationError(
            "lot-not-at-facility",
            f"lot {lot.id!r}",
            f"ship 'from' is {event.origin!r} but the lot is at {lot.facility!r};"
            f" ship it from {lot.facility!r}",
        )
    _facility(state, event.destination, event)
    _check_participant(state, event.consignee, event)
    if event.destination == event.origin:
        raise ValidationError(
            "ship-same-facility",
            f"lot {lot.id!r}",
            f"'from' and 'to' are both {event.origin!r}; a shipment must go somewhere else",
        )
    moved = lot.copy()
    moved.status, moved.time, moved.shipped_seq = IN_TRANSIT, event.time, seq
    moved.destination, moved.consignee = event.destination, event.consignee
    return Effects(lots=[moved], links=[(lot.id, "shipped", lot.mass_kg)])


def apply_receive(state: LedgerState, event: ReceiveEvent, seq: int, tol: Tolerance) -> Effects:
    """Take delivery of a shipped lot, recording the mass that actually arrived."""
    lot = state.lot(event.lot)
    if lot is None or lot.status != IN_TRANSIT or lot.destination != event.facility:
        raise ValidationError(
            "no-pending-shipment",
            f"lot {event.lot!r}",
            _no_shipment_message(lot, event.facility),
        )
    _check_time(lot, event)
    if event.actor != lot.consignee:
        raise ValidationError(
            "not-consignee",
            f"lot {lot.id!r}",
            f"actor {event.actor!r} is not the consignee {lot.consignee!r} named in the"
            " shipment; the consignee records the receipt",
        )
    facility = _facility(state, event.facility, event)
    received = lot.mass_kg if event.mass_kg is None else event.mass_kg
    arrived = scaled(lot, received)
    arrived.status, arrived.time, arrived.facility = ACTIVE, event.time, facility.id
    arrived.custodian, arrived.destination, arrived.consignee = event.actor, None, None
    arrived.shipped_seq = None
    arrived.provenance = provenance.arrived(lot.provenance, facility)
    effects = Effects(lots=[arrived], links=[(lot.id, "received", received)])
    if abs(received - lot.mass_kg) > tol.of(lot.mass_kg):
        effects.discrepancy = Discrepancy(
            lot=lot.id,
            origin=lot.facility,
            destination=facility.id,
            shipped_kg=lot.mass_kg,
            received_kg=received,
            ship_seq=lot.shipped_seq or 0,
            time=event.time,
        )
    return effects


def _no_shipment_message(lot: Lot | None, facility: str) -> str:
    if lot is None:
        return "no such lot; a receive must match a shipment recorded by a ship event"
    if lot.status != IN_TRANSIT:
        return (
            f"no pending shipment: the lot is {lot.status.replace('_', ' ')} at {lot.facility};"
            f" record a ship event to {facility!r} first"
        )
    return f"the pending shipment goes to {lot.destination!r}, not {facility!r}; receive it there"


def scaled(lot: Lot, new_mass: float) -> Lot:
    """A copy of ``lot`` with ``new_mass`` kg and its elements scaled in proportion."""
    out = lot.copy()
    factor = new_mass / lot.mass_kg
    out.mass_kg = new_mass
    if math.isinf(factor):
        # A lot of less than ~1e-299 kg measured on arrival at up to MAX_LOT_KG: the factor
        # overflows, the share of each element in the lot (at most ~1) does not.
        out.elements_kg = {e: kg / lot.mass_kg * new_mass for e, kg in lot.elements_kg.items()}
    else:
        out.elements_kg = {e: kg * factor for e, kg in lot.elements_kg.items()}
    return out


def _emptied(lot: Lot, status: str) -> Lot:
    out = lot.copy()
    out.mass_kg, out.elements_kg, out.status = 0.0, {}, status
    return out


def consume(lot: Lot, mass_kg: float, tol: Tolerance) -> tuple[Lot, dict[str, float], float]:
    """Take ``mass_kg`` from a lot: (the lot after, the element kg taken, the kg taken).

    Taking the whole remaining mass (within tolerance) consumes the lot; taking more than
    that is a double spend.
    """
    remaining = lot.mass_kg
    if mass_kg > remaining + tol.of(remaining):
        raise ValidationError(
            "over-consumption",
            f"lot {lot.id!r}",
            f"consumes {mass_kg:.6g} kg but only {remaining:.6g} kg remain;"
            " a lot cannot be used twice (check earlier transforms of this lot)",
        )
    if mass_kg >= remaining - tol.of(remaining):
        return _emptied(lot, CONSUMED), dict(lot.elements_kg), remaining
    factor = mass_kg / remaining
    taken = {e: kg * factor for e, kg in lot.elements_kg.items()}
    return scaled(lot, remaining - mass_kg), taken, mass_kg


def apply_transform(state: LedgerState, event: TransformEvent, seq: int, tol: Tolerance) -> Effects:
    """Turn input lots into output lots, conserving every REE, Th and U."""
    facility = _facility(state, event.facility, event)
    if not facility.process_allowed(event.process):
        raise ValidationError(
            "process-stage",
            f"facility {facility.id!r}",
            f"process {event.process!r} needs a {PROCESS_STAGE[event.process] or 'processing'}"
            f" facility; {facility.id!r} is {'/'.join(facility.stages)}; record the process"
            " where it ran, or register the facility with that stage",
        )
    effects = Effects()
    contributions: list[tuple[dict[str, float], Provenance]] = []
    for spec in event.inputs:
        lot = _active_lot(state, spec.lot, event)
        _check_custodian(lot, event)
        if lot.facility != facility.id:
            raise ValidationError(
                "lot-not-at-facility",
                f"lot {lot.id!r}",
                f"the lot is at {lot.facility!r}, not at {facility.id!r} where it is"
                f" transformed; ship it to {facility.id!r} and receive it there first",
            )
        after, taken, taken_kg = consume(lot, spec.mass_kg, tol)
        after.time = event.time
        effects.lots.append(after)
        effects.links.append((lot.id, "consumed", taken_kg))
        contributions.append((taken, lot.provenance))
    check_balance(event, [c for c, _ in contributions], tol)
    provs = _output_provenance(event, contributions, facility)
    created = _new_lots(state, event, facility, event.outputs, provs, seq)
    effects.lots.extend(created)
    effects.links.extend((lot.id, "created", lot.mass_kg) for lot in created)
    return effects


def _output_provenance(
    event: TransformEvent,
    contributions: list[tuple[dict[str, float], Provenance]],
    facility: Facility,
) -> list[Provenance]:
    wanted = sorted(
        {e for spec in event.outputs for e in spec.elements_kg}, key=ELEMENT_ORDER.__getitem__
    )
    whole = transformed(contributions, wanted, facility, event.process)
    # Outputs holding every element of the mix share one Provenance (and its stored JSON).
    return [restricted(whole, spec.elements_kg) for spec in event.outputs]


def check_balance(event: TransformEvent, consumed: list[dict[str, float]], tol: Tolerance) -> None:
    """Per conserved element: outputs + declared losses = consumed inputs, within tolerance."""
    inputs = _sum(consumed)
    outputs = _sum([s.elements_kg for s in event.outputs] + [event.losses_kg])
    for e in sorted((inputs.keys() | outputs.keys()) & CONSERVED):
        given, accounted = inputs.get(e, 0.0), outputs.get(e, 0.0)
        if given == 0.0 and accounted > tol.absolute_kg:
            raise ValidationError(
                "element-not-in-inputs",
                f"event {event.id!r}",
                f"outputs and losses hold {accounted:.6g} kg of {e} but the inputs hold none;"
                " material cannot appear from nowhere",
            )
        if abs(accounted - given) > tol.of(given):
            raise ValidationError(
                "mass-balance",
                f"event {event.id!r}",
                f"{e}: inputs {given:.6g} kg, outputs + losses {accounted:.6g} kg"
                f" (difference {accounted - given:+.6g} kg, tolerance ±{tol.of(given):.6g} kg);"
                " declare the missing mass under 'losses_kg' or correct the outputs",
            )


def _sum(parts: list[dict[str, float]] | list[Mapping[str, float]]) -> dict[str, float]:
    # Plain float sums: rounding error is ~1e-16 of the total, far inside any tolerance.
    acc: dict[str, float] = {}
    for part in parts:
        for e, kg in part.items():
            acc[e] = acc.get(e, 0.0) + kg
    return acc


def apply_adjust(state: LedgerState, event: AdjustEvent, seq: int, tol: Tolerance) -> Effects:
    """Record a loss (sampling, spill, write-off): the lot shrinks, its composition scales."""
    lot = _active_lot(state, event.lot, event)
    _check_custodian(lot, event)
    loss = -event.mass_kg
    if loss > lot.mass_kg + tol.of(lot.mass_kg):
        raise ValidationError(
            "adjust-exceeds-lot",
            f"lot {lot.id!r}",
            f"adjusts by {event.mass_kg:.6g} kg but the lot holds only {lot.mass_kg:.6g} kg;"
            f" to write the whole lot off, adjust by -{lot.mass_kg:.6g} kg",
        )
    if loss >= lot.mass_kg - tol.of(lot.mass_kg):
        after, taken = _emptied(lot, WRITTEN_OFF), lot.mass_kg
    else:
        after, taken = scaled(lot, lot.mass_kg - loss), loss
    after.time = event.time
    return Effects(lots=[after], links=[(lot.id, "adjusted", taken)])


def apply_claim(state: LedgerState, event: ClaimEvent, seq: int, tol: Tolerance) -> Effects:
    """Claim a share of a lot's material under a scheme, once (domain/claims.py)."""
    lot = _active_lot(state, event.lot, event)
    _check_custodian(lot, event)
    after = lot.copy()
    after.time = event.time
    after.provenance = claimed_provenance(
        lot, scheme=event.scheme, share=event.share, claim_id=event.id
    )
    return Effects(lots=[after], links=[(lot.id, "claimed", event.share * lot.mass_kg)])


def apply_revocation(
    state: LedgerState, event: RevocationEvent, seq: int, tol: Tolerance
) -> Effects:
    """Record a credential's revocation: the registry authority records it, about a lot the
    ledger holds; it changes no lot (the credential, not the material, is withdrawn)."""
    if event.actor != REGISTRY_ACTOR:
        raise ValidationError(
            "revocation-actor",
            f"event {event.id!r}",
            f"a revocation is recorded by the registry authority ({REGISTRY_ACTOR!r}), not"
            f" {event.actor!r}; use `raretrace revoke`, which signs it with the ledger's"
            " registry key",
        )
    if event.lot is not None and state.lot(event.lot) is None:
        raise ValidationError(
            "lot-not-found",
            f"lot {event.lot!r}",
            f"no such lot (revocation {event.id!r}); name the lot the credential was issued for",
        )
    return Effects()


def apply_registry(state: LedgerState, event: RegistryEvent, seq: int, tol: Tolerance) -> Effects:
    """Add or update a registry record (participant, facility, licence, accreditation, audit).

    A participant record may not list a key whose revocation was logged without its
    ``revoked_at`` (``check_key_record``): the log would go on refusing it anyway. Only the
    registry authority records one (``registry-actor``): a participant's own signature on a
    record would let it register keys for another, or a licence no authority issued.
    """
    if event.actor != REGISTRY_ACTOR:
        raise ValidationError(
            "registry-actor", f"event {event.id!r}",
            f"a {event.type} record is recorded by the registry authority ({REGISTRY_ACTOR!r}),"
            f" not {event.actor!r}; ask the council to record it (`raretrace registry load`),"
            " or, for a licence, have its authority file a `licensing` step",
        )  # fmt: skip
    record = parse_record(event.type, event.record, state.registry)
    if isinstance(record, Participant):
        check_key_record(state.registry.keys, record.id, record.keys)
    return Effects(record=record)


def apply_case_event(state: LedgerState, event: CaseEvent, seq: int, tol: Tolerance) -> Effects:
    """A clearinghouse step (licensing, agreement, review, dispute, statement, ruling)."""
    step = Step(event.id, seq, event.time)
    done = apply_case(state, event_type=event.type, raw=event.raw, actor=event.actor, step=step)
    return Effects(record=done.licence, case=done.case)


_APPLY = {
    ExtractEvent: apply_extract,
    ShipEvent: apply_ship,
    ReceiveEvent: apply_receive,
    TransformEvent: apply_transform,
    AdjustEvent: apply_adjust,
    ClaimEvent: apply_claim,
    RevocationEvent: apply_revocation,
    RegistryEvent: apply_registry,
    CaseEvent: apply_case_event,
}
#: Events that answer a dispute's ruling with ``"corrects"`` (docs/clearinghouse.md).
_CORRECTABLE = (ExtractEvent, ShipEvent, ReceiveEvent, TransformEvent, AdjustEvent, ClaimEvent)


def apply(state: LedgerState, event: LedgerEvent, seq: int, tol: Tolerance) -> Effects:
    """What ``event`` (to be number ``seq`` in the log) does, or the rule it breaks."""
    council = isinstance(event, CaseEvent) and event.type in COUNCIL_TYPES
    if not (council or isinstance(event, RegistryEvent | RevocationEvent)):
        _check_participant(state, event.actor, event)
    rule = _APPLY[type(event)]
    effects: Effects = rule(state, event, seq, tol)  # type: ignore[operator]
    if "corrects" in event.raw and isinstance(event, _CORRECTABLE):
        step = Step(event.id, seq, event.time)
        effects.case = apply_correction(state, raw=event.raw, actor=event.actor, step=step)
    return effects
