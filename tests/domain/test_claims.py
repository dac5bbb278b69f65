"""Claims (issue 9 §5): a share of a lot claimed under a scheme, travelling with the material,
never claimed twice. Pure: the rules on an in-memory state, no database."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest

from raretrace.domain.errors import ValidationError
from raretrace.domain.events import parse_event
from raretrace.domain.lineage import recompute_lot
from raretrace.domain.model import Facility, Lot, Tolerance
from raretrace.domain.registry import Registry, parse_registry
from raretrace.domain.rules import Effects, apply
from raretrace.domain.views import lot_view

REGISTRY_DOC: dict[str, Any] = {
    "participants": [
        {"id": "mine-co", "name": "Mine Co", "country": "AU"},
        {"id": "plant-co", "name": "Plant Co", "country": "MY"},
    ],
    "facilities": [
        {"id": "MINE", "name": "Mine", "operator": "mine-co", "country": "AU", "stage": "mine"},
        {"id": "PLANT", "name": "Plant", "operator": "plant-co", "country": "MY",
         "stage": "separation", "technology_origin": "AU"},
    ],
}  # fmt: skip
T = "2025-03-01T00:00:00Z"
DOCS = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text(encoding="utf-8")


class State:
    """A LedgerState over a dict of lots that also keeps every accepted event, so that the
    lineage walk can recompute any lot from them."""

    def __init__(self) -> None:
        self.registry = Registry()
        participants, facilities = parse_registry(copy.deepcopy(REGISTRY_DOC))
        for record in (*participants, *facilities):
            self.registry.add(record)
        self.lots: dict[str, Lot] = {}
        self.events: list[tuple[int, dict[str, Any], Effects]] = []

    def lot(self, lot_id: str) -> Lot | None:
        return self.lots.get(lot_id)

    def run(self, obj: dict[str, Any]) -> Effects:
        seq = len(self.events)
        effects = apply(self, parse_event(obj), seq, Tolerance())
        for lot in effects.lots:
            self.lots[lot.id] = lot
        self.events.append((seq, obj, effects))
        return effects

    def reject(self, obj: dict[str, Any]) -> ValidationError:
        before = copy.deepcopy(self.lots)
        with pytest.raises(ValidationError) as info:
            self.run(obj)
        assert self.lots == before
        return info.value

    # lineage.EventSource
    def events_of(self, lot_id: str) -> list[tuple[int, str, dict[str, Any]]]:
        return [
            (seq, role, body)
            for seq, body, effects in self.events
            for lot, role, _ in effects.links
            if lot == lot_id
        ]

    def facility(self, facility_id: str, before: int) -> Facility:
        return self.registry.facility(facility_id)


def extract(lot: str, nd: float = 10.0, pr: float = 5.0) -> dict[str, Any]:
    return {
        "id": f"x-{lot}", "type": "extract", "time": T, "actor": "mine-co", "facility": "MINE",
        "outputs": [{"lot": lot, "form": "concentrate", "mass_kg": 100.0,
                     "elements_kg": {"Nd": nd, "Pr": pr}}],
    }  # fmt: skip


def claim(
    lot: str, share: float, *, scheme: str = "eu-recycled", actor: str = "mine-co", n: int = 1
) -> dict[str, Any]:
    return {"id": f"c{n}-{lot}", "type": "claim", "time": T, "actor": actor, "lot": lot,
            "scheme": scheme, "share": share}  # fmt: skip


def to_plant(state: State, lot: str) -> None:
    state.run({"id": f"s-{lot}", "type": "ship", "time": T, "actor": "mine-co", "lot": lot,
               "from": "MINE", "to": "PLANT", "consignee": "plant-co"})  # fmt: skip
    state.run({"id": f"r-{lot}", "type": "receive", "time": T, "actor": "plant-co", "lot": lot,
               "facility": "PLANT"})  # fmt: skip


def merge(inputs: list[str], out: str, elements: dict[str, float]) -> dict[str, Any]:
    return {
        "id": f"m-{out}", "type": "transform", "process": "merge", "time": T,
        "actor": "plant-co", "facility": "PLANT",
        "inputs": [{"lot": i, "mass_kg": 100.0} for i in inputs],
        "outputs": [{"lot": out, "form": "concentrate", "mass_kg": 100.0 * len(inputs),
                     "elements_kg": elements}],
    }  # fmt: skip


@pytest.fixture
def state() -> State:
    return State()


def test_a_claim_records_its_share_per_element_and_its_event(state: State) -> None:
    state.run(extract("A"))
    effects = state.run(claim("A", 0.4))
    prov = state.lots["A"].provenance
    assert prov.claimed == {"eu-recycled": {"Nd": 0.4, "Pr": 0.4}}
    assert prov.claims == {"eu-recycled": ("c1-A",)}
    assert effects.links == [("A", "claimed", pytest.approx(40.0))]
    assert lot_view(state.lots["A"])["claimed"] == {"eu-recycled": {"Nd": 0.4, "Pr": 0.4}}


def test_claims_add_up_to_the_whole_lot_and_no_further(state: State) -> None:
    state.run(extract("A"))
    state.run(claim("A", 0.3))
    state.run(claim("A", 0.7, n=2))  # 0.3 + 0.7 = 1 exactly: allowed
    assert state.lots["A"].provenance.claimed["eu-recycled"] == {"Nd": 1.0, "Pr": 1.0}
    exc = state.reject(claim("A", 1e-6, n=3))
    assert (exc.rule, exc.subject) == ("double-claim", "lot 'A'")
    assert exc.detail == (
        "claim 'c3-A' takes 1e-06 of the lot for scheme 'eu-recycled', but 1 of its Nd is"
        " already claimed for it (by 'c1-A', 'c2-A', on this lot or on material it was made"
        " from), which would make 1; nothing of it is free under this scheme: the material"
        " is fully claimed"
    )


def test_a_double_claim_names_the_earlier_claims_and_the_share_still_free(state: State) -> None:
    state.run(extract("A"))
    state.run(claim("A", 0.6))
    exc = state.reject(claim("A", 0.5, n=2))
    assert exc.rule == "double-claim"
    assert "'c1-A'" in exc.detail and "0.6 of its Nd is already claimed" in exc.detail
    assert exc.detail.endswith(
        "which would make 1.1; 0.4 of the lot is still free under this scheme: claim at most that"
    )
    row = next(r for r in DOCS.splitlines() if r.startswith("| `double-claim` |"))
    assert f"`{exc.message}`" in row  # the documented example is the real message
    state.run(claim("A", 0.4, n=3))  # what the message said is free
    state.run(claim("A", 1.0, scheme="us-45x", n=4))  # another scheme is independent
    assert state.lots["A"].provenance.claimed == {
        "eu-recycled": {"Nd": 1.0, "Pr": 1.0},
        "us-45x": {"Nd": 1.0, "Pr": 1.0},
    }


def test_float_noise_within_tolerance_is_not_a_double_claim(state: State) -> None:
    state.run(extract("A"))
    for n in range(10):
        state.run(claim("A", 0.1, n=n))  # 0.1 ten times is 0.9999999999999999
    state.run(claim("A", 1e-16, n=99))
    assert state.lots["A"].provenance.claimed["eu-recycled"]["Nd"] == 1.0


def test_claimed_shares_travel_with_the_material_and_bind_descendants(state: State) -> None:
    state.run(extract("A", nd=30.0, pr=0.0))
    state.run(extract("B", nd=10.0, pr=5.0))
    state.run(claim("A", 1.0))  # all of A's Nd
    to_plant(state, "A")
    to_plant(state, "B")
    state.run(merge(["A", "B"], "AB", {"Nd": 40.0, "Pr": 5.0}))
    prov = state.lots["AB"].provenance
    # Nd: 30 kg of 40 were claimed (A); Pr came only from B, unclaimed.
    assert prov.claimed == {"eu-recycled": {"Nd": pytest.approx(0.75)}}
    assert prov.claims == {"eu-recycled": ("c1-A",)}
    assert lot_view(state.lots["AB"])["claimed"] == {"eu-recycled": {"Nd": 0.75}}
    # A quarter of the Nd is free: a claim of 0.25 passes, anything more is a double claim.
    exc = state.reject(claim("AB", 0.3, actor="plant-co", n=2))
    assert exc.rule == "double-claim"
    assert "already claimed for it (by 'c1-A'" in exc.detail
    assert "0.25 of the lot is still free" in exc.detail
    state.run(claim("AB", 0.25, actor="plant-co", n=3))
    assert state.lots["AB"].provenance.claims == {"eu-recycled": ("c1-A", "c3-AB")}


def test_only_the_custodian_claims_an_active_lot(state: State) -> None:
    state.run(extract("A"))
    assert state.reject(claim("A", 0.5, actor="plant-co")).rule == "not-custodian"
    state.run({"id": "s-A", "type": "ship", "time": T, "actor": "mine-co", "lot": "A",
               "from": "MINE", "to": "PLANT", "consignee": "plant-co"})  # fmt: skip
    assert state.reject(claim("A", 0.5)).rule == "lot-not-active"
    assert state.reject(claim("NOPE", 0.5)).rule == "lot-not-found"
    early = {**claim("A", 0.5, actor="plant-co"), "time": "2025-01-01T00:00:00Z"}
    state.run({"id": "r-A", "type": "receive", "time": T, "actor": "plant-co", "lot": "A",
               "facility": "PLANT"})  # fmt: skip
    assert state.reject(early).rule == "time-order"


def test_a_lot_without_traced_elements_cannot_be_claimed(state: State) -> None:
    obj = extract("A")
    obj["outputs"][0]["elements_kg"] = {"other": 50.0}
    state.run(obj)
    exc = state.reject(claim("A", 0.5))
    assert exc.rule == "claim-no-elements"


@pytest.mark.parametrize("share", [0, -0.1, 1.0000001, math.inf, "0.5", True, None])
def test_the_parser_refuses_shares_outside_0_to_1(share: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_event({**claim("A", 0.5), "share": share})
    assert info.value.rule == "claim-share"
    assert "above 0 and at most 1" in info.value.detail


def test_the_lineage_walk_recomputes_claims(state: State) -> None:
    state.run(extract("A", nd=30.0, pr=0.0))
    state.run(extract("B", nd=10.0, pr=5.0))
    state.run(claim("A", 0.5))
    to_plant(state, "A")
    to_plant(state, "B")
    state.run(merge(["A", "B"], "AB", {"Nd": 40.0, "Pr": 5.0}))
    state.run(claim("AB", 0.5, actor="plant-co", n=2))
    again = recompute_lot(state, "AB", Tolerance())
    assert again.provenance == state.lots["AB"].provenance
    assert again.time == state.lots["AB"].time
