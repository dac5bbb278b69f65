"""Unit tests for every ledger rule in ``raretrace.domain.rules``: pure, no database.

Each rule id is exercised by an event that breaks it (checking the id, the subject and the
numbers in the message, and that the state is unchanged) and by its accepted counterpart,
with boundary cases just inside and just outside the default tolerance
(max(0.5 % of the input, 0.001 kg)).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from examples import example_events
from raretrace.domain.errors import ValidationError
from raretrace.domain.events import parse_event
from raretrace.domain.model import (
    ACTIVE,
    CONSUMED,
    IN_TRANSIT,
    RECYCLED,
    WRITTEN_OFF,
    Lot,
    Tolerance,
)
from raretrace.domain.registry import Registry, parse_registry
from raretrace.domain.rules import Effects, apply

REGISTRY_DOC: dict[str, Any] = {
    "participants": [
        {"id": "lynas-au", "name": "Lynas Rare Earths", "country": "AU"},
        {"id": "lynas-my", "name": "Lynas Malaysia Sdn Bhd", "country": "MY"},
        {"id": "mp", "name": "MP Materials", "country": "US"},
        {"id": "recy", "name": "Kuantan Recycling", "country": "MY"},
        {"id": "jsl", "name": "JS Link", "country": "MY"},
    ],
    "facilities": [
        {"id": "AU-MTWELD", "name": "Mount Weld", "operator": "lynas-au", "country": "AU",
         "stage": "mine", "technology_origin": "AU"},
        {"id": "US-MP", "name": "Mountain Pass", "operator": "mp", "country": "US",
         "stage": "mine"},
        {"id": "MY-GEBENG", "name": "Lynas Malaysia, Gebeng", "operator": "lynas-my",
         "country": "MY", "region": "Pahang", "stage": "separation", "lat": 3.97, "lon": 103.38,
         "capacity_t_per_year": 10500, "technology_origin": "AU", "cahra": False},
        {"id": "MY-PORT", "name": "Kuantan Port", "operator": "lynas-my", "country": "MY",
         "stage": "warehouse"},
        {"id": "MY-RECYCLE", "name": "Kuantan recycler", "operator": "recy", "country": "MY",
         "stage": "recycling"},
        {"id": "MY-MAGNET", "name": "JS Link magnets", "operator": "jsl", "country": "MY",
         "stage": "magnet", "technology_origin": "KR"},
    ],
}  # fmt: skip

E1, E2, E3, E4, E5 = example_events()


class State:
    """A minimal in-memory LedgerState: a registry, a dict of lots and a sequence counter."""

    def __init__(self) -> None:
        participants, facilities = parse_registry(copy.deepcopy(REGISTRY_DOC))
        self.registry = Registry()
        for record in (*participants, *facilities):
            self.registry.add(record)
        self.lots: dict[str, Lot] = {}
        self.seq = 0

    def lot(self, lot_id: str) -> Lot | None:
        return self.lots.get(lot_id)

    def run(self, obj: dict[str, Any], tol: Tolerance | None = None) -> Effects:
        """Apply one event and take its effects, as the ledger would."""
        effects = apply(self, parse_event(obj), self.seq, tol or Tolerance())
        for lot in effects.lots:
            self.lots[lot.id] = lot
        if effects.record is not None:
            self.registry.add(effects.record)
        self.seq += 1
        return effects

    def reject(self, obj: dict[str, Any], tol: Tolerance | None = None) -> ValidationError:
        """Apply an event that must be refused; check nothing changed and return the error."""
        before = (copy.deepcopy(self.lots), copy.deepcopy(self.registry))
        with pytest.raises(ValidationError) as info:
            self.run(obj, tol)
        assert (self.lots, self.registry) == before
        return info.value


def ev(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with top-level fields replaced (``from_`` means ``from``)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        out[key.rstrip("_")] = value
    return out


def extract(
    lot: str = "MW-9",
    *,
    mass: float = 100.0,
    elements: dict[str, float] | None = None,
    facility: str = "AU-MTWELD",
    actor: str = "lynas-au",
    form: str = "concentrate",
    time: str = "2025-01-05T08:00:00Z",
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "id": event_id or f"x-{lot}",
        "type": "extract",
        "time": time,
        "actor": actor,
        "facility": facility,
        "outputs": [
            {
                "lot": lot,
                "form": form,
                "mass_kg": mass,
                "elements_kg": elements if elements is not None else {"Nd": 10.0, "Pr": 5.0},
            }
        ],
    }


def transform(
    inputs: list[tuple[str, float]],
    outputs: list[tuple[str, float, dict[str, float]]],
    *,
    losses: dict[str, float] | None = None,
    facility: str = "MY-GEBENG",
    actor: str = "lynas-my",
    process: str = "separation",
    time: str = "2025-02-01T00:00:00Z",
    event_id: str = "t1",
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": event_id,
        "type": "transform",
        "process": process,
        "time": time,
        "actor": actor,
        "facility": facility,
        "inputs": [{"lot": lot, "mass_kg": kg} for lot, kg in inputs],
        "outputs": [
            {"lot": lot, "form": "oxide", "mass_kg": kg, "elements_kg": els}
            for lot, kg, els in outputs
        ],
    }
    if losses is not None:
        obj["losses_kg"] = losses
    return obj


@pytest.fixture
def state() -> State:
    return State()


@pytest.fixture
def at_gebeng(state: State) -> State:
    """MW-1 received at MY-GEBENG (999 kg, held by lynas-my): e1..e3 applied."""
    for obj in (E1, E2, E3):
        state.run(obj)
    return state


def _lot_at_gebeng(state: State, lot: str, mass: float, elements: dict[str, float]) -> None:
    """Extract ``lot`` at Mount Weld and move it to MY-GEBENG with no mass change."""
    state.run(extract(lot, mass=mass, elements=elements))
    state.run(
        ev(E2, id=f"s-{lot}", lot=lot, time="2025-01-06T00:00:00Z"),
    )
    state.run(ev(E3, id=f"r-{lot}", lot=lot, mass_kg=None))


# -- the issue's example chain ----------------------------------------------------------------


def test_issue_chain_gives_ndpr_1_at_104_kg_with_single_mine_origin(state: State) -> None:
    for obj in (E1, E2, E3, E4, E5):
        state.run(obj)
    lot = state.lots["NDPR-1"]
    assert lot.status == ACTIVE
    assert lot.mass_kg == pytest.approx(104.0)
    assert lot.elements_kg["Pr"] == pytest.approx(19.71, abs=0.005)
    assert lot.elements_kg["Nd"] == pytest.approx(69.14, abs=0.005)
    assert set(lot.elements_kg) == {"Pr", "Nd"}
    prov = lot.provenance
    assert prov.by_mine == {"Pr": {"AU-MTWELD": 1.0}, "Nd": {"AU-MTWELD": 1.0}}
    assert prov.by_country == {"Pr": {"AU": 1.0}, "Nd": {"AU": 1.0}}
    assert prov.recycled_share() == {"Pr": 0.0, "Nd": 0.0}
    assert [(s.stage, s.facility, s.country, s.technology_origin) for s in prov.path] == [
        ("mine", "AU-MTWELD", "AU", "AU"),
        ("separation", "MY-GEBENG", "MY", "AU"),
    ]
    assert state.lots["MW-1"].status == CONSUMED
    assert state.lots["MW-1"].mass_kg == 0.0
    assert state.lots["RES-1"].provenance.by_mine == {"Th": {"AU-MTWELD": 1.0}}
    assert state.lots["NDPR-1"].custodian == "lynas-my"


def test_issue_chain_links_and_receipt_within_tolerance(state: State) -> None:
    assert state.run(E1).links == [("MW-1", "created", 1000.0)]
    assert state.run(E2).links == [("MW-1", "shipped", 1000.0)]
    received = state.run(E3)
    assert received.links == [("MW-1", "received", 999.0)]
    assert received.discrepancy is None  # 1 kg off 1000 kg is inside 0.5 % (5 kg)
    transformed = state.run(E4)
    assert ("MW-1", "consumed", 999.0) in transformed.links
    assert ("NDPR-1", "created", 105.0) in transformed.links
    assert state.run(E5).links == [("NDPR-1", "adjusted", 1.0)]


# -- format and shape rules (raised by the parser on the way into apply) -----------------------


def test_format_missing_actor(state: State) -> None:
    exc = state.reject(ev(E1, actor=None))
    assert exc.rule == "format"
    assert exc.subject == "event 'e1'"
    assert "'actor'" in exc.detail


def test_bad_time(state: State) -> None:
    exc = state.reject(ev(E1, time="5 January 2025"))
    assert exc.rule == "bad-time"
    assert "'5 January 2025'" in exc.detail


def test_unknown_event_type(state: State) -> None:
    exc = state.reject(ev(E1, type="mint"))
    assert exc.rule == "unknown-event-type"
    assert exc.subject == "event 'e1'"
    assert "'mint'" in exc.detail


def test_unknown_element(state: State) -> None:
    exc = state.reject(extract(elements={"Nd": 1.0, "Xx": 2.0}))
    assert exc.rule == "unknown-element"
    assert exc.subject == "lot 'MW-9'"
    assert "'Xx'" in exc.detail


def test_unknown_form(state: State) -> None:
    exc = state.reject(extract(form="powder"))
    assert exc.rule == "unknown-form"
    assert exc.subject == "lot 'MW-9'"
    assert "'powder'" in exc.detail


def test_unknown_process(at_gebeng: State) -> None:
    exc = at_gebeng.reject(ev(E4, process="smelting"))
    assert exc.rule == "unknown-process"
    assert exc.subject == "event 'e4'"
    assert "'smelting'" in exc.detail


@pytest.mark.parametrize("mass", [0, 0.0, -5.0, math.inf, math.nan])
def test_mass_positive(state: State, mass: float) -> None:
    exc = state.reject(extract(mass=mass))
    assert exc.rule == "mass-positive"
    assert exc.subject == "lot 'MW-9'"


def test_mass_positive_smallest_positive_mass_is_accepted(state: State) -> None:
    state.run(extract(mass=1e-6, elements={"Nd": 1e-6}))
    assert state.lots["MW-9"].mass_kg == 1e-6


def test_composition_exceeds_mass(state: State) -> None:
    exc = state.reject(extract(mass=10.0, elements={"Nd": 8.0, "Pr": 2.5}))
    assert exc.rule == "composition-exceeds-mass"
    assert exc.subject == "lot 'MW-9'"
    assert "10.5 kg" in exc.detail and "10 kg" in exc.detail


def test_composition_equal_to_mass_is_accepted(state: State) -> None:
    state.run(extract(mass=10.0, elements={"Nd": 7.5, "other": 2.5}))
    assert state.lots["MW-9"].elements_kg == {"Nd": 7.5, "other": 2.5}


def test_duplicate_lot_in_outputs(state: State) -> None:
    obj = extract()
    obj["outputs"].append(copy.deepcopy(obj["outputs"][0]))
    exc = state.reject(obj)
    assert exc.rule == "duplicate-lot"
    assert "MW-9" in exc.detail


def test_duplicate_lot_in_inputs(at_gebeng: State) -> None:
    obj = ev(E4, inputs=[{"lot": "MW-1", "mass_kg": 500.0}, {"lot": "MW-1", "mass_kg": 499.0}])
    exc = at_gebeng.reject(obj)
    assert exc.rule == "duplicate-lot"
    assert exc.subject == "event 'e4'"
    assert "MW-1" in exc.detail and "inputs" in exc.detail


@pytest.mark.parametrize("delta", [0, 0.0, 1.0, math.nan, -math.inf, True, "-1"])
def test_adjust_negative(state: State, delta: object) -> None:
    state.run(extract())
    exc = state.reject(ev(E5, lot="MW-9", actor="lynas-au", mass_kg=delta))
    assert exc.rule == "adjust-negative"
    assert exc.subject == "event 'e5'"
    assert repr(delta) in exc.detail


# -- registry facts --------------------------------------------------------------------------


def test_unknown_facility_on_extract(state: State) -> None:
    exc = state.reject(extract(facility="XX-NOWHERE"))
    assert exc.rule == "unknown-facility"
    assert exc.subject == "event 'x-MW-9'"
    assert "'XX-NOWHERE'" in exc.detail


def test_unknown_facility_ship_destination(state: State) -> None:
    state.run(E1)
    exc = state.reject(ev(E2, to="XX-NOWHERE"))
    assert exc.rule == "unknown-facility"
    assert exc.subject == "event 'e2'"
    assert "'XX-NOWHERE'" in exc.detail


def test_unknown_facility_on_transform(at_gebeng: State) -> None:
    exc = at_gebeng.reject(ev(E4, facility="XX-NOWHERE"))
    assert exc.rule == "unknown-facility"
    assert "'XX-NOWHERE'" in exc.detail


def test_unknown_participant_actor(state: State) -> None:
    exc = state.reject(extract(actor="ghost"))
    assert exc.rule == "unknown-participant"
    assert exc.subject == "event 'x-MW-9'"
    assert "'ghost'" in exc.detail


def test_unknown_participant_consignee(state: State) -> None:
    state.run(E1)
    exc = state.reject(ev(E2, consignee="ghost"))
    assert exc.rule == "unknown-participant"
    assert exc.subject == "event 'e2'"
    assert "'ghost'" in exc.detail


def test_not_operator(state: State) -> None:
    exc = state.reject(extract(actor="lynas-my"))
    assert exc.rule == "not-operator"
    assert exc.subject == "facility 'AU-MTWELD'"
    assert "'lynas-my'" in exc.detail and "'lynas-au'" in exc.detail


def test_extract_stage_refused_at_separation_plant(state: State) -> None:
    exc = state.reject(extract(facility="MY-GEBENG", actor="lynas-my"))
    assert exc.rule == "extract-stage"
    assert "record it where the material was mined or collected" in exc.detail
    assert exc.subject == "facility 'MY-GEBENG'"
    assert "separation" in exc.detail and "'x-MW-9'" in exc.detail


def test_extract_stage_recycler_refuses_non_scrap(state: State) -> None:
    exc = state.reject(extract(facility="MY-RECYCLE", actor="recy", form="magnet"))
    assert exc.rule == "extract-stage"
    assert "record collected end-of-life material as form 'scrap'" in exc.detail
    assert exc.subject == "lot 'MW-9'"
    assert "'magnet'" in exc.detail and "'MY-RECYCLE'" in exc.detail


def test_recycler_extracting_scrap_is_recycled_origin(state: State) -> None:
    state.run(
        extract(
            "SCRAP-1",
            facility="MY-RECYCLE",
            actor="recy",
            form="scrap",
            mass=50.0,
            elements={"Nd": 12.0, "Dy": 1.0, "other": 30.0},
        )
    )
    prov = state.lots["SCRAP-1"].provenance
    assert prov.by_mine == {"Nd": {RECYCLED: 1.0}, "Dy": {RECYCLED: 1.0}}
    assert prov.by_country == {"Nd": {RECYCLED: 1.0}, "Dy": {RECYCLED: 1.0}}
    assert prov.recycled_share() == {"Nd": 1.0, "Dy": 1.0}
    assert [(s.stage, s.facility) for s in prov.path] == [("recycling", "MY-RECYCLE")]


def test_extract_at_mine_has_mine_origin_for_conserved_elements_only(state: State) -> None:
    state.run(extract(elements={"Nd": 10.0, "U": 0.1, "other": 50.0}))
    prov = state.lots["MW-9"].provenance
    assert prov.by_mine == {"Nd": {"AU-MTWELD": 1.0}, "U": {"AU-MTWELD": 1.0}}
    assert prov.recycled_share() == {"Nd": 0.0, "U": 0.0}


# -- lots: existence, status, time, custody ---------------------------------------------------


def test_lot_not_found(state: State) -> None:
    exc = state.reject(ev(E2, lot="NOPE"))
    assert exc.rule == "lot-not-found"
    assert exc.subject == "lot 'NOPE'"
    assert "'e2'" in exc.detail


def test_lot_not_active_in_transit(state: State) -> None:
    state.run(E1)
    state.run(E2)
    exc = state.reject(ev(E5, lot="MW-1", actor="lynas-au"))
    assert exc.rule == "lot-not-active"
    assert exc.subject == "lot 'MW-1'"
    assert "in transit" in exc.detail and "MY-GEBENG" in exc.detail
    assert exc.detail.endswith("the consignee 'lynas-my' must receive it there first")


def test_lot_not_active_consumed(state: State) -> None:
    for obj in (E1, E2, E3, E4):
        state.run(obj)
    exc = state.reject(ev(E5, lot="MW-1"))
    assert exc.rule == "lot-not-active"
    assert "consumed" in exc.detail and "MY-GEBENG" in exc.detail
    assert exc.detail.endswith("use that transform's outputs")


def test_lot_not_active_written_off(state: State) -> None:
    state.run(extract())
    state.run(ev(E5, lot="MW-9", actor="lynas-au", mass_kg=-100.0, reason="write-off"))
    assert state.lots["MW-9"].status == WRITTEN_OFF
    exc = state.reject(ev(E2, lot="MW-9", id="s9"))
    assert exc.rule == "lot-not-active"
    assert "written off" in exc.detail
    assert exc.detail.endswith("nothing of it remains to use")


def test_lot_exists_on_extract(state: State) -> None:
    state.run(E1)
    exc = state.reject(ev(E1, id="e1-again"))
    assert exc.rule == "lot-exists"
    assert exc.subject == "lot 'MW-1'"
    assert "'e1-again'" in exc.detail


def test_lot_exists_on_transform_output(at_gebeng: State) -> None:
    at_gebeng.run(
        extract("NDPR-1", facility="US-MP", actor="mp", elements={"Nd": 1.0}, event_id="x")
    )
    exc = at_gebeng.reject(E4)
    assert exc.rule == "lot-exists"
    assert exc.subject == "lot 'NDPR-1'"


def test_time_order(state: State) -> None:
    state.run(E1)
    exc = state.reject(ev(E2, time="2025-01-05T07:59:59Z"))
    assert exc.rule == "time-order"
    assert exc.subject == "lot 'MW-1'"
    assert "2025-01-05T07:59:59Z" in exc.detail and "2025-01-05T08:00:00Z" in exc.detail


def test_time_order_same_instant_is_accepted(state: State) -> None:
    state.run(E1)
    # The same instant written with an offset: +08:00 is 8 hours ahead of UTC.
    state.run(ev(E2, time="2025-01-05T16:00:00+08:00"))
    assert state.lots["MW-1"].status == IN_TRANSIT


def test_time_order_on_receive(state: State) -> None:
    state.run(E1)
    state.run(E2)
    exc = state.reject(ev(E3, time="2025-01-05T23:00:00Z"))
    assert exc.rule == "time-order"
    assert "'e3'" in exc.detail


def test_time_order_on_transform_input(at_gebeng: State) -> None:
    exc = at_gebeng.reject(ev(E4, time="2025-01-19T00:00:00Z"))
    assert exc.rule == "time-order"
    assert exc.subject == "lot 'MW-1'"


def test_not_custodian(state: State) -> None:
    state.run(E1)
    exc = state.reject(ev(E2, actor="mp"))
    assert exc.rule == "not-custodian"
    assert exc.subject == "lot 'MW-1'"
    assert "'mp'" in exc.detail and "'lynas-au'" in exc.detail


def test_not_custodian_on_transform_and_adjust(at_gebeng: State) -> None:
    assert at_gebeng.reject(ev(E4, actor="lynas-au")).rule == "not-custodian"
    assert at_gebeng.reject(ev(E5, lot="MW-1", actor="lynas-au")).rule == "not-custodian"


def test_lot_not_at_facility_on_ship(state: State) -> None:
    state.run(E1)
    exc = state.reject(ev(E2, from_="MY-PORT"))
    assert exc.rule == "lot-not-at-facility"
    assert exc.detail.endswith("ship it from 'AU-MTWELD'")
    assert exc.subject == "lot 'MW-1'"
    assert "'MY-PORT'" in exc.detail and "'AU-MTWELD'" in exc.detail


def test_lot_not_at_facility_on_transform(state: State) -> None:
    """A transform's inputs must be at the facility, even when the actor holds them."""
    state.run(E1)
    state.run(ev(E2, to="MY-PORT"))
    state.run(ev(E3, facility="MY-PORT"))
    exc = state.reject(E4)
    assert exc.rule == "lot-not-at-facility"
    assert "ship it to 'MY-GEBENG' and receive it there first" in exc.detail
    assert "'MY-PORT'" in exc.detail and "'MY-GEBENG'" in exc.detail


def test_ship_same_facility(state: State) -> None:
    state.run(E1)
    exc = state.reject(ev(E2, to="AU-MTWELD"))
    assert exc.rule == "ship-same-facility"
    assert "'AU-MTWELD'" in exc.detail


def test_ship_puts_lot_in_transit(state: State) -> None:
    state.run(E1)
    state.run(E2)
    lot = state.lots["MW-1"]
    assert (lot.status, lot.destination, lot.consignee) == (IN_TRANSIT, "MY-GEBENG", "lynas-my")
    assert lot.custodian == "lynas-au" and lot.facility == "AU-MTWELD"
    assert lot.shipped_seq == 1


# -- receive ----------------------------------------------------------------------------------


def test_no_pending_shipment_for_unknown_lot(state: State) -> None:
    exc = state.reject(E3)
    assert exc.rule == "no-pending-shipment"
    assert exc.subject == "lot 'MW-1'"


def test_no_pending_shipment_for_active_lot(state: State) -> None:
    state.run(E1)
    exc = state.reject(E3)
    assert exc.rule == "no-pending-shipment"
    assert "record a ship event to 'MY-GEBENG' first" in exc.detail
    assert "active at AU-MTWELD" in exc.detail


def test_no_pending_shipment_to_other_facility(state: State) -> None:
    state.run(E1)
    state.run(E2)
    exc = state.reject(ev(E3, facility="MY-PORT"))
    assert exc.rule == "no-pending-shipment"
    assert exc.detail.endswith("receive it there")
    assert "'MY-GEBENG'" in exc.detail and "'MY-PORT'" in exc.detail


def test_no_pending_shipment_twice(at_gebeng: State) -> None:
    exc = at_gebeng.reject(ev(E3, id="e3-again"))
    assert exc.rule == "no-pending-shipment"


def test_not_consignee(state: State) -> None:
    state.run(E1)
    state.run(E2)
    exc = state.reject(ev(E3, actor="jsl"))
    assert exc.rule == "not-consignee"
    assert exc.detail.endswith("the consignee records the receipt")
    assert exc.subject == "lot 'MW-1'"
    assert "'jsl'" in exc.detail and "'lynas-my'" in exc.detail


def test_receive_makes_consignee_custodian_and_adds_path_step(state: State) -> None:
    state.run(E1)
    state.run(ev(E2, to="MY-PORT"))
    state.run(ev(E3, facility="MY-PORT", mass_kg=None))
    lot = state.lots["MW-1"]
    assert (lot.status, lot.custodian, lot.facility) == (ACTIVE, "lynas-my", "MY-PORT")
    assert (lot.destination, lot.consignee, lot.shipped_seq) == (None, None, None)
    assert lot.mass_kg == 1000.0  # no measured mass: the shipped mass
    assert [(s.stage, s.facility) for s in lot.provenance.path] == [
        ("mine", "AU-MTWELD"),
        ("warehouse", "MY-PORT"),
    ]


def test_receive_scales_composition_to_received_mass(at_gebeng: State) -> None:
    lot = at_gebeng.lots["MW-1"]
    assert lot.mass_kg == 999.0
    assert lot.elements_kg["Nd"] == pytest.approx(69.93)
    assert lot.elements_kg["Th"] == pytest.approx(1.1988)


@pytest.mark.parametrize(
    ("received", "discrepancy"),
    [
        (995.0, False),  # exactly 0.5 % short of 1000 kg
        (995.01, False),
        (1004.99, False),
        (994.99, True),  # just outside
        (1005.01, True),  # a gain counts too
        (800.0, True),
    ],
)
def test_receive_discrepancy_at_tolerance_boundary(
    state: State, received: float, discrepancy: bool
) -> None:
    state.run(E1)
    state.run(E2)
    effects = state.run(ev(E3, mass_kg=received))
    assert state.lots["MW-1"].mass_kg == received  # accepted either way
    if not discrepancy:
        assert effects.discrepancy is None
        return
    d = effects.discrepancy
    assert d is not None
    assert (d.lot, d.origin, d.destination) == ("MW-1", "AU-MTWELD", "MY-GEBENG")
    assert (d.shipped_kg, d.received_kg, d.ship_seq) == (1000.0, received, 1)
    assert d.delta_kg == pytest.approx(received - 1000.0)
    assert d.time == "2025-01-20T00:00:00.000000Z"


def test_receive_discrepancy_uses_absolute_floor_for_small_lots(state: State) -> None:
    state.run(extract(mass=0.1, elements={"Nd": 0.05}))
    state.run(ev(E2, lot="MW-9"))
    # 0.5 % of 0.1 kg is 0.0005 kg; the 0.001 kg floor applies.
    assert state.run(ev(E3, lot="MW-9", mass_kg=0.0991)).discrepancy is None
    state.run(
        ev(
            E2,
            id="e2b",
            lot="MW-9",
            actor="lynas-my",
            from_="MY-GEBENG",
            to="MY-PORT",
            time=E3["time"],
        )
    )
    effects = state.run(ev(E3, id="e3b", lot="MW-9", facility="MY-PORT", mass_kg=0.0979))
    assert effects.discrepancy is not None


# -- transform: consumption and balance -------------------------------------------------------


def test_over_consumption(at_gebeng: State) -> None:
    obj = transform([("MW-1", 1005.0)], [("OX-1", 70.0, {"Nd": 69.93})])
    exc = at_gebeng.reject(obj)
    assert exc.rule == "over-consumption"
    assert exc.subject == "lot 'MW-1'"
    assert "1005 kg" in exc.detail and "999 kg" in exc.detail


def test_over_consumption_boundary(at_gebeng: State) -> None:
    lot = at_gebeng.lots["MW-1"]
    # Tolerance on 999 kg is 4.995 kg: taking 1003.99 kg is still the whole lot ...
    inside = transform(
        [("MW-1", 1003.99)], [("ALL-1", 999.0, dict(lot.elements_kg))], event_id="in"
    )
    outside = ev(inside, id="out", inputs=[{"lot": "MW-1", "mass_kg": 1004.0}])
    assert at_gebeng.reject(outside).rule == "over-consumption"
    effects = at_gebeng.run(inside)
    assert at_gebeng.lots["MW-1"].status == CONSUMED
    assert ("MW-1", "consumed", 999.0) in effects.links  # ... and takes what was there


def test_full_consumption_within_tolerance_marks_lot_consumed(at_gebeng: State) -> None:
    lot = at_gebeng.lots["MW-1"]
    taken = 999.0 - 4.99  # inside the 4.995 kg tolerance: the whole lot is consumed
    at_gebeng.run(transform([("MW-1", taken)], [("ALL-1", 999.0, dict(lot.elements_kg))]))
    after = at_gebeng.lots["MW-1"]
    assert (after.status, after.mass_kg, after.elements_kg) == (CONSUMED, 0.0, {})
    assert after.time == "2025-02-01T00:00:00.000000Z"


def test_partial_consumption_leaves_rest_with_same_composition(at_gebeng: State) -> None:
    before = at_gebeng.lots["MW-1"]
    share = {e: kg / before.mass_kg for e, kg in before.elements_kg.items()}
    taken = {e: kg * 0.25 for e, kg in before.elements_kg.items()}
    at_gebeng.run(transform([("MW-1", 249.75)], [("PART-1", 249.75, taken)]))
    rest = at_gebeng.lots["MW-1"]
    assert rest.status == ACTIVE
    assert rest.mass_kg == pytest.approx(749.25)
    assert {e: kg / rest.mass_kg for e, kg in rest.elements_kg.items()} == pytest.approx(share)
    assert rest.provenance == before.provenance
    # 749.25 kg remain, tolerance 3.74625 kg: taking 745.5 kg leaves 3.75 kg, just outside
    # tolerance, so the lot stays active with the rest.
    part = {e: kg * 745.5 / rest.mass_kg for e, kg in rest.elements_kg.items()}
    at_gebeng.run(transform([("MW-1", 745.5)], [("PART-2", 745.5, part)], event_id="t2"))
    left = at_gebeng.lots["MW-1"]
    assert left.status == ACTIVE and left.mass_kg == pytest.approx(3.75)


def test_mass_balance_missing_mass(at_gebeng: State) -> None:
    obj = ev(E4, losses_kg={"La": 0.1, "Ce": 0.12, "Pr": 0.08})  # Nd loss not declared
    nd_out = 69.8
    # 0.13 kg of Nd missing is inside 0.5 % of 69.93 kg (0.34965 kg): accepted.
    at_gebeng.run(ev(obj, id="ok"))
    fresh = State()
    for e in (E1, E2, E3):
        fresh.run(e)
    bad = ev(obj, outputs=copy.deepcopy(E4["outputs"]))
    bad["outputs"][0]["elements_kg"]["Nd"] = nd_out - 0.3  # 0.43 kg missing: outside
    exc = fresh.reject(bad)
    assert exc.rule == "mass-balance"
    assert exc.subject == "event 'e4'"
    assert "Nd: inputs 69.93 kg, outputs + losses 69.5 kg" in exc.detail
    assert "difference -0.43 kg" in exc.detail and "±0.34965 kg" in exc.detail


def test_mass_balance_boundary(at_gebeng: State) -> None:
    # MW-1 holds 69.93 kg Nd; tolerance 0.34965 kg.
    def nd_only(nd: float, event_id: str) -> dict[str, Any]:
        lot = at_gebeng.lots["MW-1"]
        els = {**lot.elements_kg, "Nd": nd}
        return transform([("MW-1", 999.0)], [("ALL-1", 999.0, els)], event_id=event_id)

    assert at_gebeng.reject(nd_only(69.93 + 0.3497, "over")).rule == "mass-balance"
    assert at_gebeng.reject(nd_only(69.93 - 0.3497, "under")).rule == "mass-balance"
    at_gebeng.run(nd_only(69.93 + 0.3496, "in"))
    assert at_gebeng.lots["ALL-1"].elements_kg["Nd"] == pytest.approx(70.2796)


def test_mass_balance_absolute_floor(state: State) -> None:
    _lot_at_gebeng(state, "TINY", 0.1, {"Dy": 0.05})
    # 0.5 % of 0.05 kg is 0.00025 kg; the 0.001 kg floor applies.
    bad = transform([("TINY", 0.1)], [("T-OUT", 0.1, {"Dy": 0.0489})], event_id="bad")
    assert state.reject(bad).rule == "mass-balance"
    state.run(transform([("TINY", 0.1)], [("T-OUT", 0.1, {"Dy": 0.0491})]))


def test_other_is_not_conserved(at_gebeng: State) -> None:
    lot = at_gebeng.lots["MW-1"]
    els = {**lot.elements_kg, "other": 500.0}  # reagents added
    at_gebeng.run(transform([("MW-1", 999.0)], [("ALL-1", 999.0, els)]))
    assert at_gebeng.lots["ALL-1"].elements_kg["other"] == 500.0


def test_element_not_in_inputs(at_gebeng: State) -> None:
    lot = at_gebeng.lots["MW-1"]
    els = {**lot.elements_kg, "Dy": 0.5}
    exc = at_gebeng.reject(transform([("MW-1", 999.0)], [("ALL-1", 999.0, els)]))
    assert exc.rule == "element-not-in-inputs"
    assert exc.subject == "event 't1'"
    assert "0.5 kg of Dy" in exc.detail


def test_element_not_in_inputs_boundary(at_gebeng: State) -> None:
    lot = at_gebeng.lots["MW-1"]
    over = {**lot.elements_kg, "Dy": 0.0011}
    exc = at_gebeng.reject(transform([("MW-1", 999.0)], [("A", 999.0, over)], event_id="o"))
    assert exc.rule == "element-not-in-inputs"
    inside = {**lot.elements_kg, "Dy": 0.0009}
    at_gebeng.run(transform([("MW-1", 999.0)], [("A", 999.0, inside)]))


def test_element_not_in_inputs_via_losses(at_gebeng: State) -> None:
    lot = at_gebeng.lots["MW-1"]
    obj = transform(
        [("MW-1", 999.0)], [("ALL-1", 999.0, dict(lot.elements_kg))], losses={"Tb": 0.2}
    )
    exc = at_gebeng.reject(obj)
    assert exc.rule == "element-not-in-inputs"
    assert "0.2 kg of Tb" in exc.detail


def test_every_conserved_element_of_an_output_has_origin_shares(at_gebeng: State) -> None:
    lot = at_gebeng.lots["MW-1"]
    inside = {**lot.elements_kg, "Dy": 0.0009}
    at_gebeng.run(transform([("MW-1", 999.0)], [("A", 999.0, inside)]))
    prov = at_gebeng.lots["A"].provenance
    assert math.fsum(prov.by_mine.get("Dy", {}).values()) == pytest.approx(1.0)


def test_process_stage(at_gebeng: State) -> None:
    exc = at_gebeng.reject(ev(E4, process="magnet"))
    assert exc.rule == "process-stage"
    assert "record the process where it ran" in exc.detail
    assert exc.subject == "facility 'MY-GEBENG'"
    assert "'magnet'" in exc.detail and "separation" in exc.detail


def test_process_stage_other_refused_at_warehouse(state: State) -> None:
    state.run(E1)
    state.run(ev(E2, to="MY-PORT"))
    state.run(ev(E3, facility="MY-PORT"))
    lot = state.lots["MW-1"]
    obj = transform(
        [("MW-1", 999.0)],
        [("X", 999.0, dict(lot.elements_kg))],
        facility="MY-PORT",
        process="other",
    )
    exc = state.reject(obj)
    assert exc.rule == "process-stage"
    assert "processing" in exc.detail and "warehouse" in exc.detail
    # Splitting is bookkeeping, allowed anywhere.
    half = {e: kg / 2 for e, kg in lot.elements_kg.items()}
    split = transform(
        [("MW-1", 999.0)],
        [("H1", 499.5, half), ("H2", 499.5, half)],
        facility="MY-PORT",
        process="split",
        event_id="split",
    )
    state.run(split)
    assert [(s.stage, s.facility) for s in state.lots["H1"].provenance.path] == [
        ("mine", "AU-MTWELD"),
        ("warehouse", "MY-PORT"),
    ]


# -- adjust -----------------------------------------------------------------------------------


def test_adjust_exceeds_lot(state: State) -> None:
    state.run(extract())
    exc = state.reject(ev(E5, lot="MW-9", actor="lynas-au", mass_kg=-100.6))
    assert exc.rule == "adjust-exceeds-lot"
    assert exc.detail.endswith("to write the whole lot off, adjust by -100 kg")
    assert exc.subject == "lot 'MW-9'"
    assert "-100.6 kg" in exc.detail and "100 kg" in exc.detail


def test_adjust_boundary_writes_off_within_tolerance(state: State) -> None:
    state.run(extract())
    # Tolerance on 100 kg is 0.5 kg: -100.49 writes the whole lot off.
    state.run(ev(E5, lot="MW-9", actor="lynas-au", mass_kg=-100.49, reason="write-off"))
    lot = state.lots["MW-9"]
    assert (lot.status, lot.mass_kg, lot.elements_kg) == (WRITTEN_OFF, 0.0, {})


def test_adjust_partial_scales_composition(state: State) -> None:
    state.run(extract(mass=100.0, elements={"Nd": 10.0, "Pr": 5.0}))
    effects = state.run(ev(E5, lot="MW-9", actor="lynas-au", mass_kg=-20.0))
    lot = state.lots["MW-9"]
    assert lot.status == ACTIVE
    assert lot.mass_kg == pytest.approx(80.0)
    assert lot.elements_kg == pytest.approx({"Nd": 8.0, "Pr": 4.0})
    assert effects.links == [("MW-9", "adjusted", 20.0)]


# -- provenance -------------------------------------------------------------------------------


def test_mixing_two_mines_gives_weighted_shares_summing_to_one(state: State) -> None:
    _lot_at_gebeng(state, "A", 100.0, {"Nd": 30.0, "Pr": 10.0})
    state.run(extract("B", facility="US-MP", actor="mp", elements={"Nd": 10.0, "Ce": 5.0}))
    state.run(ev(E2, id="s-B", lot="B", from_="US-MP", actor="mp"))
    state.run(ev(E3, id="r-B", lot="B", mass_kg=None))
    state.run(
        transform(
            [("A", 100.0), ("B", 100.0)],
            [("MIX", 55.0, {"Nd": 40.0, "Pr": 10.0, "Ce": 5.0})],
            process="merge",
        )
    )
    prov = state.lots["MIX"].provenance
    assert prov.by_mine["Nd"] == pytest.approx({"AU-MTWELD": 0.75, "US-MP": 0.25})
    assert prov.by_country["Nd"] == pytest.approx({"AU": 0.75, "US": 0.25})
    assert prov.by_mine["Pr"] == {"AU-MTWELD": 1.0}
    assert prov.by_mine["Ce"] == {"US-MP": 1.0}
    for shares in (*prov.by_mine.values(), *prov.by_country.values()):
        assert math.fsum(shares.values()) == pytest.approx(1.0)
    # Path: the ordered union of the inputs' paths, each place once. A merge is bookkeeping
    # and a receipt at a separation plant processes nothing: neither is a step.
    assert [(s.stage, s.facility) for s in prov.path] == [
        ("mine", "AU-MTWELD"),
        ("mine", "US-MP"),
    ]
    assert [(r.share, [s.stage for s in r.steps]) for r in prov.routes["Nd"]] == [
        (pytest.approx(0.75), ["mine"]),
        (pytest.approx(0.25), ["mine"]),
    ]
    assert [r.steps[0].country for r in prov.routes["Nd"]] == ["AU", "US"]


def test_mixing_recycled_and_mined_gives_recycled_share(state: State) -> None:
    scrap = extract("S", facility="MY-RECYCLE", actor="recy", form="scrap", elements={"Nd": 20.0})
    state.run(scrap)
    state.run(extract("M", facility="AU-MTWELD", elements={"Nd": 60.0}))
    state.run(ev(E2, id="s-M", lot="M", to="MY-RECYCLE", consignee="recy"))
    state.run(ev(E3, id="r-M", lot="M", facility="MY-RECYCLE", actor="recy"))
    state.run(
        transform(
            [("S", 100.0), ("M", 100.0)],
            [("R", 80.0, {"Nd": 80.0})],
            facility="MY-RECYCLE",
            actor="recy",
            process="recycling",
        )
    )
    prov = state.lots["R"].provenance
    assert prov.by_mine["Nd"] == pytest.approx({RECYCLED: 0.25, "AU-MTWELD": 0.75})
    assert prov.by_country["Nd"] == pytest.approx({RECYCLED: 0.25, "AU": 0.75})
    assert prov.recycled_share() == pytest.approx({"Nd": 0.25})


def test_path_step_at_transform_uses_process_stage(state: State) -> None:
    """A multi-stage facility records the stage of the process that ran there."""
    doc = copy.deepcopy(REGISTRY_DOC)
    doc["facilities"].append(
        {"id": "MY-MULTI", "name": "Multi", "operator": "lynas-my", "country": "MY",
         "stage": ["separation", "reduction"]}
    )  # fmt: skip
    state.registry.add(parse_registry(doc)[1][-1])
    state.run(E1)
    state.run(ev(E2, to="MY-MULTI"))
    state.run(ev(E3, facility="MY-MULTI", mass_kg=None))
    lot = state.lots["MW-1"]
    state.run(
        transform(
            [("MW-1", 1000.0)],
            [("MET", 1000.0, dict(lot.elements_kg))],
            facility="MY-MULTI",
            process="reduction",
        )
    )
    # The receipt at the plant is not a step (nothing was processed); the reduction is.
    assert [(s.stage, s.facility) for s in state.lots["MET"].provenance.path] == [
        ("mine", "AU-MTWELD"),
        ("reduction", "MY-MULTI"),
    ]


def test_outputs_only_carry_shares_of_their_own_elements(at_gebeng: State) -> None:
    at_gebeng.run(E4)
    assert set(at_gebeng.lots["LACE-1"].provenance.by_mine) == {"La", "Ce"}
    assert set(at_gebeng.lots["RES-1"].provenance.by_country) == {"Th"}


# -- registry events --------------------------------------------------------------------------


def test_registry_events_add_records_and_check_operator(state: State) -> None:
    participant = {
        "id": "p1",
        "type": "participant",
        "time": "2025-01-01T00:00:00Z",
        "actor": "registry",
        "participant": {"id": "neo", "name": "Neo Performance", "country": "EE"},
    }
    facility = {"id": "f1", "type": "facility", "time": "2025-01-01T00:00:00Z",
                "actor": "registry",
                "facility": {"id": "EE-SILLAMAE", "name": "Sillamäe", "operator": "neo",
                             "country": "EE", "stage": "separation"}}  # fmt: skip
    assert state.reject(facility).rule == "unknown-participant"
    assert state.run(participant).record is not None
    effects = state.run(facility)
    assert effects.record is not None and effects.lots == []
    assert state.registry.facilities["EE-SILLAMAE"].technology_origin == "EE"


def test_registry_event_bad_record(state: State) -> None:
    record = {"id": "x", "name": "X", "country": "Malaysia"}
    obj = {"id": "p1", "type": "participant", "time": "2025-01-01T00:00:00Z",
           "actor": "registry", "participant": record}  # fmt: skip
    exc = state.reject(obj)
    assert exc.rule == "registry-format"
    assert "'Malaysia'" in exc.detail


def test_registry_event_unknown_stage(state: State) -> None:
    obj = {"id": "f1", "type": "facility", "time": "2025-01-01T00:00:00Z", "actor": "registry",
           "facility": {"id": "F", "name": "F", "operator": "mp", "country": "US",
                        "stage": "smelter"}}  # fmt: skip
    exc = state.reject(obj)
    assert exc.rule == "unknown-stage"
    assert "'smelter'" in exc.detail


# -- time normalization as the rules see it ---------------------------------------------------


def test_time_order_with_year_before_1000(state: State) -> None:
    """Normalized times are fixed width, so year 999 sorts before 2025 (a regression test)."""
    state.run(E1)
    exc = state.reject(ev(E2, time="0999-01-06T00:00:00+00:00"))
    assert exc.rule == "time-order"
    assert "0999-01-06T00:00:00Z" in exc.detail


# -- tolerance --------------------------------------------------------------------------------


def test_tolerance_is_the_larger_of_relative_and_absolute() -> None:
    tol = Tolerance()
    assert tol.of(1000.0) == pytest.approx(5.0)
    assert tol.of(0.1) == 0.001  # 0.0005 kg relative, the 0.001 kg floor wins
    assert tol.of(0.0) == 0.001
    assert Tolerance(relative=0.0, absolute_kg=0.0).of(1000.0) == 0.0


@pytest.mark.parametrize(
    ("relative", "absolute", "subject"),
    [(1.0, 0.001, "relative"), (-0.1, 0.001, "relative"), (math.nan, 0.001, "relative"),
     (0.005, -1.0, "absolute_kg"), (0.005, math.inf, "absolute_kg")],
)  # fmt: skip
def test_tolerance_rule(relative: float, absolute: float, subject: str) -> None:
    with pytest.raises(ValidationError) as info:
        Tolerance(relative=relative, absolute_kg=absolute)
    assert (info.value.rule, info.value.subject) == ("tolerance", subject)


def test_a_tighter_tolerance_turns_an_accepted_receipt_into_a_discrepancy(state: State) -> None:
    state.run(E1)
    state.run(E2)
    effects = state.run(E3, Tolerance(relative=0.0005, absolute_kg=0.001))  # 0.5 kg on 1000 kg
    assert effects.discrepancy is not None and effects.discrepancy.delta_kg == -1.0
