"""Hypothesis strategies for valid custody chains, and a model that predicts their outcome.

``chains()`` draws a registry and a list of events that the ledger must accept, built step by
step against a small model of the world (which lots exist, where, with what). The model also
records what the ledger should end up holding, so tests can compare.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from raretrace.domain.model import MAX_LOT_KG, Lot

PARTICIPANTS = [
    {"id": "miner-au", "name": "Miner AU", "country": "AU"},
    {"id": "miner-vn", "name": "Miner VN", "country": "VN"},
    {"id": "proc-my", "name": "Processor MY", "country": "MY"},
    {"id": "recycler-jp", "name": "Recycler JP", "country": "JP"},
]
FACILITIES = [
    {"id": "MINE-AU", "name": "Mine AU", "operator": "miner-au", "country": "AU",
     "stage": "mine", "technology_origin": "AU"},
    {"id": "MINE-VN", "name": "Mine VN", "operator": "miner-vn", "country": "VN",
     "stage": ["mine", "concentrator"], "technology_origin": "VN"},
    {"id": "PLANT-MY", "name": "Plant MY", "operator": "proc-my", "country": "MY",
     "stage": ["separation", "reduction", "alloying", "magnet"], "technology_origin": "JP"},
    {"id": "RECYCLE-JP", "name": "Recycler JP", "operator": "recycler-jp", "country": "JP",
     "stage": "recycling", "technology_origin": "JP"},
    {"id": "PORT-MY", "name": "Port MY", "operator": "proc-my", "country": "MY",
     "stage": "warehouse", "technology_origin": "MY"},
]  # fmt: skip
REGISTRY = {"participants": PARTICIPANTS, "facilities": FACILITIES}
OPERATOR = {f["id"]: f["operator"] for f in FACILITIES}
SOURCES = {"MINE-AU": "miner-au", "MINE-VN": "miner-vn", "RECYCLE-JP": "recycler-jp"}
START = datetime(2025, 1, 1)
ELEMENTS = ["La", "Ce", "Pr", "Nd", "Dy", "Tb", "Th", "U"]


@dataclass
class ModelLot:
    id: str
    form: str
    mass: float
    elements: dict[str, float]
    facility: str
    custodian: str
    in_transit_to: str | None = None
    consignee: str | None = None
    #: scheme -> an upper bound of the lot's claimed share (the largest over its elements).
    claimed: dict[str, float] = field(default_factory=dict)


@dataclass
class Chain:
    """A drawn chain: the events, and what the model says the ledger must hold after them."""

    events: list[dict[str, Any]] = field(default_factory=list)
    lots: dict[str, ModelLot] = field(default_factory=dict)
    extracted: dict[str, float] = field(default_factory=dict)
    lost: dict[str, float] = field(default_factory=dict)
    serial: int = 0
    day: int = 0

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def time(self) -> str:
        self.day += 1
        return (START + timedelta(hours=self.day)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def active(self) -> list[ModelLot]:
        return [lot for lot in self.lots.values() if lot.mass > 0 and not lot.in_transit_to]

    def add(self, bucket: dict[str, float], comp: dict[str, float], sign: float = 1.0) -> None:
        for e, kg in comp.items():
            bucket[e] = bucket.get(e, 0.0) + sign * kg


masses = st.floats(min_value=1.0, max_value=5000.0, allow_nan=False)
fractions = st.floats(min_value=0.05, max_value=0.95)


def _extract(draw: st.DrawFn, chain: Chain) -> None:
    facility = draw(st.sampled_from(sorted(SOURCES)))
    scrap = facility == "RECYCLE-JP"
    lot_id = chain.next_id("L")
    mass = draw(masses)
    picked = draw(st.lists(st.sampled_from(ELEMENTS), min_size=1, max_size=5, unique=True))
    weights = [draw(st.floats(min_value=0.01, max_value=1.0)) for _ in picked]
    grade = draw(st.floats(min_value=0.01, max_value=0.9))
    comp = {e: mass * grade * w / sum(weights) for e, w in zip(picked, weights, strict=True)}
    form = "scrap" if scrap else draw(st.sampled_from(["ore", "concentrate"]))
    chain.events.append({
        "id": chain.next_id("ev"), "type": "extract", "time": chain.time(),
        "actor": SOURCES[facility], "facility": facility,
        "outputs": [{"lot": lot_id, "form": form, "mass_kg": mass, "elements_kg": comp}],
    })  # fmt: skip
    chain.lots[lot_id] = ModelLot(lot_id, form, mass, dict(comp), facility, SOURCES[facility])
    chain.add(chain.extracted, comp)


def _ship(draw: st.DrawFn, chain: Chain) -> None:
    lots = chain.active()
    if not lots:
        return
    lot = draw(st.sampled_from(lots))
    dest = draw(st.sampled_from([f["id"] for f in FACILITIES if f["id"] != lot.facility]))
    consignee = OPERATOR[dest]
    chain.events.append({
        "id": chain.next_id("ev"), "type": "ship", "time": chain.time(), "actor": lot.custodian,
        "lot": lot.id, "from": lot.facility, "to": dest, "consignee": consignee,
    })  # fmt: skip
    lot.in_transit_to, lot.consignee = dest, consignee
    factor = draw(st.sampled_from([1.0, 1.0, 0.999, 0.97, 1.02]))
    received = lot.mass * factor
    chain.events.append({
        "id": chain.next_id("ev"), "type": "receive", "time": chain.time(), "actor": consignee,
        "lot": lot.id, "facility": dest, "mass_kg": received,
    })  # fmt: skip
    new = {e: kg * factor for e, kg in lot.elements.items()}
    chain.add(chain.lost, lot.elements)
    chain.add(chain.lost, new, -1.0)
    lot.elements, lot.mass, lot.facility, lot.custodian = new, received, dest, consignee
    lot.in_transit_to = lot.consignee = None


def _transform(draw: st.DrawFn, chain: Chain) -> None:
    lots = chain.active()
    if not lots:
        return
    first = draw(st.sampled_from(lots))
    mates = [x for x in lots if x.facility == first.facility and x.custodian == first.custodian]
    chosen = draw(
        st.lists(st.sampled_from(mates), min_size=1, max_size=3, unique_by=lambda x: x.id)
    )
    if first not in chosen:
        chosen[0] = first
    facility = first.facility
    stages = next(f["stage"] for f in FACILITIES if f["id"] == facility)
    stages = [stages] if isinstance(stages, str) else stages
    named = [
        s for s in stages if s in ("separation", "reduction", "alloying", "magnet", "recycling")
    ]
    process = draw(
        st.sampled_from(named + ["split", "merge"] + (["other"] if stages != ["warehouse"] else []))
    )
    inputs, pool = [], {}
    claimed: dict[str, float] = {}
    for lot in chosen:
        for scheme, bound in lot.claimed.items():  # a mix is claimed at most as its inputs
            claimed[scheme] = max(claimed.get(scheme, 0.0), bound)
        whole = draw(st.booleans())
        take = lot.mass if whole else lot.mass * draw(fractions)
        share = take / lot.mass
        taken = {e: kg * share for e, kg in lot.elements.items()}
        inputs.append({"lot": lot.id, "mass_kg": take})
        chain.add(pool, taken)
        if whole:
            lot.mass, lot.elements = 0.0, {}
        else:
            lot.mass -= take
            lot.elements = {e: kg * (1 - share) for e, kg in lot.elements.items()}
    n_out = draw(st.integers(min_value=1, max_value=3))
    splits = [draw(st.floats(min_value=0.05, max_value=1.0)) for _ in range(n_out)]
    loss_share = draw(st.sampled_from([0.0, 0.0, 0.01, 0.05]))
    losses = {e: kg * loss_share for e, kg in pool.items() if loss_share}
    outputs = []
    for w in splits:
        comp = {e: kg * (1 - loss_share) * w / sum(splits) for e, kg in pool.items()}
        comp = {e: kg for e, kg in comp.items() if kg > 0}
        if not comp:
            continue
        other = draw(st.floats(min_value=0.0, max_value=500.0))
        lot_id = chain.next_id("L")
        mass = math.fsum(comp.values()) + other + 1e-6
        form = draw(
            st.sampled_from(["oxide", "metal", "alloy", "intermediate", "magnet", "residue"])
        )
        outputs.append({"lot": lot_id, "form": form, "mass_kg": mass, "elements_kg": comp})
        chain.lots[lot_id] = ModelLot(
            lot_id, form, mass, comp, facility, first.custodian, claimed=dict(claimed)
        )
    if not outputs:
        return
    chain.add(chain.lost, losses)
    event = {
        "id": chain.next_id("ev"), "type": "transform", "process": process, "time": chain.time(),
        "actor": first.custodian, "facility": facility, "inputs": inputs, "outputs": outputs,
    }  # fmt: skip
    if losses:
        event["losses_kg"] = losses
    chain.events.append(event)


def _adjust(draw: st.DrawFn, chain: Chain) -> None:
    lots = chain.active()
    if not lots:
        return
    lot = draw(st.sampled_from(lots))
    whole = draw(st.booleans())
    loss = lot.mass if whole else lot.mass * draw(fractions)
    chain.events.append({
        "id": chain.next_id("ev"), "type": "adjust", "time": chain.time(), "actor": lot.custodian,
        "lot": lot.id, "mass_kg": -loss, "reason": "sampling",
    })  # fmt: skip
    share = 1.0 if whole else loss / lot.mass
    gone = {e: kg * share for e, kg in lot.elements.items()}
    chain.add(chain.lost, gone)
    if whole:
        lot.mass, lot.elements = 0.0, {}
    else:
        lot.mass -= loss
        lot.elements = {e: kg - gone[e] for e, kg in lot.elements.items()}


def _claim(draw: st.DrawFn, chain: Chain) -> None:
    lots = [lot for lot in chain.active() if lot.elements]
    if not lots:
        return
    lot = draw(st.sampled_from(lots))
    scheme = draw(st.sampled_from(["subsidy-a", "subsidy-a", "recycled-b"]))
    free = 1.0 - lot.claimed.get(scheme, 0.0)
    if free < 0.01:
        return
    share = free * draw(st.sampled_from([1.0, 0.5, 0.1]))
    chain.events.append({
        "id": chain.next_id("ev"), "type": "claim", "time": chain.time(), "actor": lot.custodian,
        "lot": lot.id, "scheme": scheme, "share": share,
    })  # fmt: skip
    lot.claimed[scheme] = lot.claimed.get(scheme, 0.0) + share


_STEPS = [_extract, _extract, _ship, _transform, _transform, _adjust, _claim]


@st.composite
def chains(draw: st.DrawFn, max_steps: int = 25) -> Chain:
    """A valid chain of events; every event in it must be accepted."""
    chain = Chain()
    _extract(draw, chain)
    for _ in range(draw(st.integers(min_value=1, max_value=max_steps))):
        draw(st.sampled_from(_STEPS))(draw, chain)
    return chain


# -- extreme masses: the edges of float64 and of the ledger's bound ------------------------------
#
# ``extreme_events`` draws the next event(s) for whatever lots exist now, with masses from
# ``extreme_kg``: the bound itself and its float neighbours, far beyond it (up to the largest
# float, and an integer no float can hold), tiny and subnormal values, and ordinary ones. Many
# of these events must be refused; the tests check that the refused ones change nothing and
# that the accepted ones conserve every element and keep every number finite.

EXTREME_KG: list[float | int] = [
    MAX_LOT_KG, math.nextafter(MAX_LOT_KG, 0.0), math.nextafter(MAX_LOT_KG, math.inf),
    MAX_LOT_KG / 2, MAX_LOT_KG / 3, 2 * MAX_LOT_KG, 1e308, sys.float_info.max, 10**400,
    5e-324, 1e-320, sys.float_info.min, 1e-300, 1e-12, 0.001, 1.0,
]  # fmt: skip


def extreme_kg() -> st.SearchStrategy[float | int]:
    """A mass at an edge: the bound, beyond it, tiny, subnormal, or ordinary."""
    return st.one_of(
        st.sampled_from(EXTREME_KG),
        st.floats(min_value=0.9 * MAX_LOT_KG, max_value=1.1 * MAX_LOT_KG),
        st.floats(min_value=5e-324, max_value=1e-6),
        st.floats(min_value=1e300, max_value=sys.float_info.max),
        st.floats(min_value=1.0, max_value=5000.0),
    )


def _fkg(kg: float | int) -> float:
    """``kg`` as a float; an integer too large for one becomes the largest float."""
    return float(kg) if abs(kg) < 1e308 else sys.float_info.max


def _share_of(draw: st.DrawFn, kg: float) -> float:
    """Some of ``kg``: all of it, a fraction, or an extreme mass unrelated to it."""
    pick = draw(st.integers(min_value=0, max_value=4))
    if pick == 0:
        return kg
    if pick == 4:
        return _fkg(draw(extreme_kg()))
    return kg * draw(st.floats(min_value=1e-6, max_value=1.0))


def _x_extract(draw: st.DrawFn, lots: list[Lot], serial: str, time: str) -> list[dict[str, Any]]:
    facility = draw(st.sampled_from(sorted(SOURCES)))
    outputs = []
    for n in range(draw(st.integers(min_value=1, max_value=2))):
        mass = draw(extreme_kg())
        picked = draw(st.lists(st.sampled_from(ELEMENTS), min_size=1, max_size=3, unique=True))
        comp = {e: _share_of(draw, _fkg(mass)) / len(picked) for e in picked}
        form = "scrap" if facility == "RECYCLE-JP" else "concentrate"
        outputs.append(
            {"lot": f"X{serial}-{n}", "form": form, "mass_kg": mass, "elements_kg": comp}
        )
    return [{
        "id": f"x{serial}", "type": "extract", "time": time, "actor": SOURCES[facility],
        "facility": facility, "outputs": outputs,
    }]  # fmt: skip


def _x_ship(draw: st.DrawFn, lots: list[Lot], serial: str, time: str) -> list[dict[str, Any]]:
    lot = draw(st.sampled_from(lots))
    dest = draw(st.sampled_from([f["id"] for f in FACILITIES if f["id"] != lot.facility]))
    ship = {
        "id": f"x{serial}s", "type": "ship", "time": time, "actor": lot.custodian,
        "lot": lot.id, "from": lot.facility, "to": dest, "consignee": OPERATOR[dest],
    }  # fmt: skip
    receive = {
        "id": f"x{serial}r", "type": "receive", "time": time, "actor": OPERATOR[dest],
        "lot": lot.id, "facility": dest, "mass_kg": _share_of(draw, lot.mass_kg),
    }  # fmt: skip
    return [ship, receive]


def _x_transform(draw: st.DrawFn, lots: list[Lot], serial: str, time: str) -> list[dict[str, Any]]:
    first = draw(st.sampled_from(lots))
    mates = [x for x in lots if (x.facility, x.custodian) == (first.facility, first.custodian)]
    chosen = draw(
        st.lists(st.sampled_from(mates), min_size=1, max_size=3, unique_by=lambda x: x.id)
    )
    inputs, pool = [], {}
    for lot in chosen:
        take = _share_of(draw, lot.mass_kg)
        inputs.append({"lot": lot.id, "mass_kg": take})
        for e, kg in lot.elements_kg.items():
            pool[e] = pool.get(e, 0.0) + kg * min(_fkg(take) / lot.mass_kg, 1.0)
    # A merge puts everything in one output; a split spreads it over several.
    n_out = 1 if draw(st.booleans()) else draw(st.integers(min_value=2, max_value=3))
    outputs = []
    for n in range(n_out):
        comp = {e: kg / n_out for e, kg in pool.items() if kg / n_out > 0}
        mass = math.fsum(comp.values()) + draw(st.sampled_from([0.0, 1.0, MAX_LOT_KG / 10]))
        if draw(st.integers(min_value=0, max_value=5)) == 0:
            mass = draw(extreme_kg())
        if mass > 0:
            outputs.append({"lot": f"X{serial}-{n}", "form": "intermediate", "mass_kg": mass,
                            "elements_kg": comp})  # fmt: skip
    event = {
        "id": f"x{serial}", "type": "transform", "time": time, "actor": first.custodian,
        "facility": first.facility, "process": "merge" if n_out == 1 else "split",
        "inputs": inputs, "outputs": outputs or [{"lot": f"X{serial}-0", "form": "residue",
                                                   "mass_kg": 1.0, "elements_kg": {}}],
    }  # fmt: skip
    if pool and draw(st.integers(min_value=0, max_value=3)) == 0:
        event["losses_kg"] = {draw(st.sampled_from(sorted(pool))): draw(extreme_kg())}
    return [event]


def _x_adjust(draw: st.DrawFn, lots: list[Lot], serial: str, time: str) -> list[dict[str, Any]]:
    lot = draw(st.sampled_from(lots))
    return [{
        "id": f"x{serial}", "type": "adjust", "time": time, "actor": lot.custodian,
        "lot": lot.id, "mass_kg": -_share_of(draw, lot.mass_kg), "reason": "sampling",
    }]  # fmt: skip


@st.composite
def extreme_events(draw: st.DrawFn, lots: list[Lot], step: int) -> list[dict[str, Any]]:
    """The next event(s) for the active ``lots`` (domain ``Lot`` values), with extreme masses.

    ``step`` makes ids and times unique and increasing. A ship comes with its receive.
    """
    time = (START + timedelta(hours=step)).strftime("%Y-%m-%dT%H:%M:%SZ")
    kinds = [_x_extract] + ([_x_ship, _x_transform, _x_transform, _x_adjust] if lots else [])
    return draw(st.sampled_from(kinds))(draw, lots, str(step), time)
