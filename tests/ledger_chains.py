"""Hypothesis strategies for valid custody chains, and a model that predicts their outcome.

``chains()`` draws a registry and a list of events that the ledger must accept, built step by
step against a small model of the world (which lots exist, where, with what). The model also
records what the ledger should end up holding, so tests can compare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

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
    for lot in chosen:
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
        chain.lots[lot_id] = ModelLot(lot_id, form, mass, comp, facility, first.custodian)
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


_STEPS = [_extract, _extract, _ship, _transform, _transform, _adjust]


@st.composite
def chains(draw: st.DrawFn, max_steps: int = 25) -> Chain:
    """A valid chain of events; every event in it must be accepted."""
    chain = Chain()
    _extract(draw, chain)
    for _ in range(draw(st.integers(min_value=1, max_value=max_steps))):
        draw(st.sampled_from(_STEPS))(draw, chain)
    return chain
