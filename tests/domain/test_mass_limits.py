"""Every mass is bounded by ``MAX_LOT_KG`` and every computed number stays finite: pure, no
database.

The unit tests refuse each kind of mass beyond the bound (and accept it at the bound); the
property test drives extreme values — at the bound, beyond it, tiny, subnormal — through
extract, ship/receive, split, merge, transform and adjust chains and checks that every
refused event changes nothing and every accepted one conserves each element, keeps every
number finite and within the bound, and leaves a lot whose trace view is finite.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examples import example_events
from ledger_chains import REGISTRY, extreme_events
from raretrace.domain.elements import CONSERVED
from raretrace.domain.errors import ValidationError, VerificationError
from raretrace.domain.events import TransformEvent, parse_event
from raretrace.domain.model import ACTIVE, MAX_LOT_KG, Lot, Tolerance
from raretrace.domain.registry import Registry, parse_registry
from raretrace.domain.rules import Effects, apply
from raretrace.domain.views import lot_view

E1, E2, E3, E4, E5 = example_events()
TOL = Tolerance()


def _edit(event: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(event)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


def _refused(obj: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_event(obj)
    return info.value


BEYOND = math.nextafter(MAX_LOT_KG, math.inf)
MASS_FIELDS = {
    "lot mass": ((E1, ("outputs", 0, "mass_kg")), "lot 'MW-1'", "mass_kg"),
    "element mass": ((E1, ("outputs", 0, "elements_kg", "Nd")), "lot 'MW-1'", "elements_kg['Nd']"),
    "input mass": ((E4, ("inputs", 0, "mass_kg")), "lot 'MW-1'", "input mass_kg"),
    "output mass": ((E4, ("outputs", 0, "mass_kg")), "lot 'NDPR-1'", "mass_kg"),
    "received mass": ((E3, ("mass_kg",)), "event 'e3'", "received mass_kg"),
    "declared loss": ((E4, ("losses_kg", "Nd")), "event 'e4'", "losses_kg['Nd']"),
}


@pytest.mark.parametrize("value", [BEYOND, 2 * MAX_LOT_KG, 1e308, 10**400])
@pytest.mark.parametrize("case", MASS_FIELDS.values(), ids=MASS_FIELDS.keys())
def test_every_mass_beyond_the_bound_is_refused(
    case: tuple[tuple[dict[str, Any], tuple[Any, ...]], str, str], value: float | int
) -> None:
    (event, path), subject, what = case
    obj = _edit(event, path, value)
    if path[-1] == "Nd" and path[0] == "outputs":
        obj["outputs"][0]["mass_kg"] = MAX_LOT_KG  # the lot itself is within the bound
    exc = _refused(obj)
    assert (exc.rule, exc.subject) == ("mass-limit", subject), exc
    assert f"{what} is " in exc.detail
    assert "more than the 1,000,000,000 kg (1,000,000 t) one lot may hold" in exc.detail
    # An integer no float can hold is named by its length, not printed in full.
    shown = "an integer of 401 digits" if value == 10**400 else f"{value:.6g}"
    assert f"{shown} kg" in exc.detail


@pytest.mark.parametrize("case", MASS_FIELDS.values(), ids=MASS_FIELDS.keys())
def test_a_mass_at_the_bound_is_accepted(
    case: tuple[tuple[dict[str, Any], tuple[Any, ...]], str, str],
) -> None:
    (event, path), _, _ = case
    obj = _edit(event, path, MAX_LOT_KG)
    if path[0] == "outputs":
        obj["outputs"][0]["mass_kg"] = MAX_LOT_KG
    if path[-1] == "Nd" and path[0] == "outputs":
        obj["outputs"][0]["elements_kg"] = {"Nd": MAX_LOT_KG}
    parse_event(obj)


def test_composition_beyond_the_lot_shows_enough_digits_to_see_the_difference() -> None:
    obj = _edit(E1, ("outputs", 0), {"lot": "MW-1", "form": "ore", "mass_kg": MAX_LOT_KG,
                                     "elements_kg": {"Nd": MAX_LOT_KG, "Ce": 10.0}})  # fmt: skip
    exc = _refused(obj)
    assert exc.rule == "composition-exceeds-mass"
    assert "add up to 1000000010.0 kg but the lot weighs 1000000000.0 kg" in exc.detail


def test_an_adjustment_beyond_the_bound_is_refused_at_the_bound_accepted() -> None:
    exc = _refused(_edit(E5, ("mass_kg",), -2 * MAX_LOT_KG))
    assert (exc.rule, exc.subject) == ("mass-limit", "event 'e5'")
    assert "2e+09 kg" in exc.detail and "no lot holds more than that" in exc.detail
    parse_event(_edit(E5, ("mass_kg",), -MAX_LOT_KG))
    for huge in (-1e308, -(10**400)):
        assert _refused(_edit(E5, ("mass_kg",), huge)).rule == "mass-limit"
    for not_a_loss in (-math.inf, math.nan, 10**400):
        assert _refused(_edit(E5, ("mass_kg",), not_a_loss)).rule == "adjust-negative"


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, -(10**400), -1e-300])
def test_infinite_nan_and_negative_masses_are_refused(value: float | int) -> None:
    exc = _refused(_edit(E1, ("outputs", 0, "mass_kg"), value))
    assert (exc.rule, exc.subject) == ("mass-positive", "lot 'MW-1'")
    assert len(exc.detail) < 200


def test_a_merge_heavier_than_the_bound_names_the_lot_and_what_to_do() -> None:
    merge = {
        "id": "m", "type": "transform", "process": "merge", "time": "2025-02-01T00:00:00Z",
        "actor": "lynas-my", "facility": "MY-GEBENG",
        "inputs": [{"lot": "A", "mass_kg": MAX_LOT_KG}, {"lot": "B", "mass_kg": MAX_LOT_KG}],
        "outputs": [{"lot": "AB", "form": "concentrate", "mass_kg": 2 * MAX_LOT_KG,
                     "elements_kg": {"Nd": 2 * MAX_LOT_KG}}],
    }  # fmt: skip
    exc = _refused(merge)
    assert (exc.rule, exc.subject) == ("mass-limit", "lot 'AB'")
    assert "mass_kg is 2e+09 kg" in exc.detail
    assert "several lots" in exc.detail


@pytest.mark.parametrize("absolute", [2 * MAX_LOT_KG, 1e308])
def test_the_absolute_tolerance_is_a_mass_too(absolute: float) -> None:
    with pytest.raises(ValidationError) as info:
        Tolerance(0.005, absolute)
    assert info.value.rule == "tolerance"
    Tolerance(0.005, MAX_LOT_KG)


# -- the property: extreme values through chains ------------------------------------------------


class State:
    """An in-memory ledger state: the chains' registry and a dict of lots."""

    def __init__(self) -> None:
        participants, facilities = parse_registry(copy.deepcopy(REGISTRY))
        self.registry = Registry()
        for record in (*participants, *facilities):
            self.registry.add(record)
        self.lots: dict[str, Lot] = {}
        self.seq = 0

    def lot(self, lot_id: str) -> Lot | None:
        return self.lots.get(lot_id)

    def active(self) -> list[Lot]:
        return [lot for lot in self.lots.values() if lot.status == ACTIVE]


def _numbers(value: object) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)


def _check_lot(lot: Lot) -> None:
    assert math.isfinite(lot.mass_kg) and 0.0 <= lot.mass_kg <= MAX_LOT_KG, lot
    for e, kg in lot.elements_kg.items():
        assert math.isfinite(kg) and 0.0 <= kg <= MAX_LOT_KG * (1 + 1e-9), (e, kg)
    for by in (lot.provenance.by_mine, lot.provenance.by_country):
        for e, shares in by.items():
            assert all(math.isfinite(s) and 0.0 <= s <= 1.0 + 1e-12 for s in shares.values())
            if lot.elements_kg.get(e, 0.0) > 0 and e in CONSERVED:
                assert math.isclose(math.fsum(shares.values()), 1.0, abs_tol=1e-9), (e, shares)
    view = lot_view(lot)  # what `raretrace trace` prints: rounding must not meet a None
    assert all(math.isfinite(x) for x in _numbers(view)), view


def _elements(lots: list[Lot | None]) -> dict[str, float]:
    total: dict[str, float] = {}
    for lot in lots:
        for e, kg in (lot.elements_kg if lot else {}).items():
            total[e] = total.get(e, 0.0) + kg
    return total


def _check_conserved(state: State, before: dict[str, Lot], effects: Effects, obj: Any) -> None:
    """Each accepted event conserves every element within tolerance (receipts: see below)."""
    event = parse_event(obj)
    touched = [lot.id for lot in effects.lots]
    old = _elements([before.get(i) for i in touched])
    new = _elements([state.lots[i] for i in touched])
    if isinstance(event, TransformEvent):
        for e in CONSERVED & (old.keys() | new.keys() | event.losses_kg.keys()):
            given = old.get(e, 0.0)
            accounted = new.get(e, 0.0) + event.losses_kg.get(e, 0.0)
            slack = TOL.of(given) + 1e-9 * max(given, accounted)
            assert abs(accounted - given) <= slack, (e, given, accounted)
    elif event.type == "receive":
        # A receipt takes the measured mass: the elements scale with it, and a difference
        # beyond tolerance is recorded as a discrepancy with the same numbers.
        lot, was = state.lots[touched[0]], before[touched[0]]
        for e, kg in was.elements_kg.items():
            # Each element keeps its share of the lot (share first: a subnormal lot measured
            # at 10^9 kg on arrival would overflow the factor).
            expected = kg / was.mass_kg * lot.mass_kg
            assert math.isclose(lot.elements_kg[e], expected, rel_tol=1e-9, abs_tol=1e-300)
        d = effects.discrepancy
        assert (d is not None) == (abs(lot.mass_kg - was.mass_kg) > TOL.of(was.mass_kg))
        if d is not None:
            assert (d.shipped_kg, d.received_kg) == (was.mass_kg, lot.mass_kg)
            assert math.isfinite(d.delta_kg)
    elif event.type == "adjust":
        (_, _, taken), lot, was = effects.links[0], state.lots[touched[0]], before[touched[0]]
        assert math.isclose(lot.mass_kg + taken, was.mass_kg, rel_tol=1e-9, abs_tol=1e-300)
        for e, kg in old.items():
            assert new.get(e, 0.0) <= kg * (1 + 1e-12)
    elif event.type == "ship":
        assert new == old
    for _, _, kg in effects.links:
        assert math.isfinite(kg) and 0.0 <= kg <= MAX_LOT_KG


def _run(state: State, obj: dict[str, Any]) -> None:
    before = copy.deepcopy(state.lots)
    try:
        effects = apply(state, parse_event(obj), state.seq, TOL)
    except ValidationError as exc:
        assert exc.rule and exc.subject and exc.detail
        assert state.lots == before  # refused: nothing changed
        return
    for lot in effects.lots:
        state.lots[lot.id] = lot
        _check_lot(lot)
    state.seq += 1
    _check_conserved(state, before, effects, obj)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_extreme_masses_through_chains_conserve_and_stay_finite(data: st.DataObject) -> None:
    state = State()
    for step in range(data.draw(st.integers(min_value=1, max_value=12), label="steps")):
        for obj in data.draw(extreme_events(state.active(), step), label=f"step {step}"):
            _run(state, obj)


def test_the_issues_merge_at_the_bound_is_finite_and_conserves() -> None:
    """Two lots of 10^9 kg of Nd merged: refused as one output, accepted as two."""
    state = State()
    extract = {
        "id": "x", "type": "extract", "time": "2025-01-01T00:00:00Z", "actor": "miner-au",
        "facility": "MINE-AU",
        "outputs": [{"lot": lot, "form": "concentrate", "mass_kg": MAX_LOT_KG,
                     "elements_kg": {"Nd": MAX_LOT_KG}} for lot in ("A", "B")],
    }  # fmt: skip
    _run(state, extract)
    merge = {
        "id": "m", "type": "transform", "process": "merge", "time": "2025-01-02T00:00:00Z",
        "actor": "miner-au", "facility": "MINE-AU",
        "inputs": [{"lot": "A", "mass_kg": MAX_LOT_KG}, {"lot": "B", "mass_kg": MAX_LOT_KG}],
        "outputs": [{"lot": "C", "form": "concentrate", "mass_kg": MAX_LOT_KG,
                     "elements_kg": {"Nd": MAX_LOT_KG}}],
    }  # fmt: skip
    with pytest.raises(ValidationError) as info:
        apply(state, parse_event(merge), 1, TOL)
    assert info.value.rule == "mass-balance"  # 10^9 kg of Nd would vanish
    assert "inputs 2e+09 kg, outputs + losses 1e+09 kg" in info.value.detail
    merge["outputs"] = [{**merge["outputs"][0], "lot": lot} for lot in ("C", "D")]
    _run(state, merge)
    assert {i: lot.mass_kg for i, lot in state.lots.items()} == {
        "A": 0.0,
        "B": 0.0,
        "C": MAX_LOT_KG,
        "D": MAX_LOT_KG,
    }
    assert lot_view(state.lots["C"])["elements_kg"] == {"Nd": MAX_LOT_KG}


@pytest.mark.parametrize("bad", [None, math.nan, math.inf])
def test_a_stored_lot_with_a_number_that_is_not_finite_is_named_not_a_traceback(
    bad: float | None,
) -> None:
    """Ledgers written before masses were bounded may hold NaN (stored as JSON null) or inf."""
    state = State()
    _run(state, {
        "id": "x", "type": "extract", "time": "2025-01-01T00:00:00Z", "actor": "miner-au",
        "facility": "MINE-AU",
        "outputs": [{"lot": "A", "form": "ore", "mass_kg": 10.0, "elements_kg": {"Nd": 1.0}}],
    })  # fmt: skip
    lot = state.lots["A"]
    lot.provenance.by_mine["Nd"]["MINE-AU"] = bad  # type: ignore[assignment]
    for digits in (6, None):
        with pytest.raises(VerificationError) as info:
            lot_view(lot, mass_digits=digits, share_digits=digits)
        assert info.value.message.startswith("lot 'A': a stored mass or share is not a finite")
        assert "raretrace audit" in info.value.message
