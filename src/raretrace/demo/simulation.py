"""The demo's simulation machinery: lots, a clock, a schedule, and conserving transforms.

``raretrace.demo.generate`` builds the flows of the demo world on top of this: which mine
feeds which plant, how separation splits a feed, where magnets and swarf go. This module
knows nothing of the world's routes; it only guarantees that every event it emits keeps the
ledger's rules (custody, exact element conservation, non-decreasing times).
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from raretrace.demo.world import Feed, World, load_world
from raretrace.domain.elements import OXIDE_FACTOR, RADIONUCLIDES, RARE_EARTHS

#: The smallest stream that still shows every kind of event.
MIN_EVENTS = 50
#: One receive in this many shipments is a transit discrepancy (loss 1–3 %, rarely a gain).
DISCREPANCY_EVERY = 200
_YEAR_START = 1735689600  # 2025-01-01T00:00:00Z
_YEAR_SECONDS = 365 * 86400
_POOL_CAP = 6  # lots a plant keeps waiting in a pool before the oldest is left in stock
_KUANTAN, _HAIPHONG, _DANANG = "PORT-MY-KUANTAN", "PORT-VN-HAIPHONG", "PORT-VN-DANANG"
_LAMP, _HRE, _JSLINK, _SMMV = (
    "MY-LYNAS-LAMP",
    "MY-LYNAS-HRE1",
    "MY-JSLINK-KUANTAN",
    "VN-SMMV-HAIPHONG",
)
_RECYCLER, _BAOTOU_MAG = "MY-RECYCLE-KUANTAN", "CN-BAOTOU-MAGNET"
_YENBAI = "VN-YENBAI-SEP"
_REE = frozenset(RARE_EARTHS)
_RADIO = frozenset(RADIONUCLIDES)
_FACTOR = {e: OXIDE_FACTOR[e] for e in RARE_EARTHS}
_GROUPS: dict[str, frozenset[str]] = {
    "NdPr": frozenset({"Nd", "Pr"}), "LaCe": frozenset({"La", "Ce"}),
    "Dy": frozenset({"Dy"}), "Tb": frozenset({"Tb"}), "Y": frozenset({"Y"}),
}  # fmt: skip
_GROUPS["SEG"] = _REE - _GROUPS["NdPr"] - _GROUPS["LaCe"]
#: Where each magnet plant sends finished magnets and machining swarf (empty: kept on site).
_PLANTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    _JSLINK: ((_KUANTAN,), (_RECYCLER,)),
    _SMMV: ((_HAIPHONG,), (_HAIPHONG, _KUANTAN, _RECYCLER)),
    _BAOTOU_MAG: ((), ()),
    "US-MP-INDEPENDENCE": ((), ()),
}

Elements = dict[str, float]
Event = dict[str, Any]
#: element -> ((output index, fraction), ...); fraction -1 takes what is left of the element.
Routing = dict[str, tuple[tuple[int, float], ...]]
_AnyRouting = Mapping[str, Sequence[tuple[int, float]]]
#: How an output lot's mass follows from its elements: (form, "reo" | "re" | "fixed", value).
Spec = tuple[str, str, float]
_WITH_OTHER = frozenset(
    {"ore", "concentrate", "intermediate", "alloy", "magnet", "scrap", "residue"}
)


@dataclass(slots=True)
class _Lot:
    id: str
    form: str
    mass: float
    elements: Elements
    facility: str  # "" while in transit


def _reo(elements: Elements) -> float:
    return sum([kg * _FACTOR[e] for e, kg in elements.items() if e in _FACTOR])


def _conserved_sum(elements: Elements) -> float:
    return sum(elements.values()) - elements.get("other", 0.0)


def _partition(
    consumed: Elements, routing: _AnyRouting, n_out: int
) -> tuple[list[Elements], Elements]:
    """Split consumed element masses over outputs; whatever is not routed is a loss.

    Shares are exact products and the last share (fraction -1) is the remainder, so every
    element balances to floating-point precision; losses under a microgram are dropped.
    """
    outs: list[Elements] = [{} for _ in range(n_out)]
    losses: Elements = {}
    for element, kg in consumed.items():
        left = kg
        for index, fraction in routing.get(element, ()):
            part = left if fraction < 0 else kg * fraction
            if part > 0:
                outs[index][element] = part
                left -= part
        if left > 1e-9:
            losses[element] = left
    return outs, losses


def _routing(consumed: Elements, groups: Sequence[frozenset[str]], recovery: float) -> Routing:
    """Each element to the first group holding it, at ``recovery``; unmatched ones are lost."""
    routing: Routing = {}
    for element in consumed:
        for index, group in enumerate(groups):
            if element in group:
                routing[element] = ((index, recovery),)
                break
    return routing


def _lot_mass(elements: Elements, mode: str, value: float) -> float:
    total = _conserved_sum(elements)
    if mode == "reo":
        base = _reo(elements) / value
    elif mode == "re":
        base = total / value
    else:
        base = value
    return round(max(base, total + 0.002), 3)


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2
    h += math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 12742.0 * math.asin(math.sqrt(h))


class Simulation:
    """Iterate over exactly ``n_events`` deterministic events for ``seed``.

    ``live_lots`` and ``peak_live_lots`` report the simulation's inventory (lots it still
    tracks, including those in transit); it stays bounded however long the stream runs.
    """

    def __init__(self, n_events: int, *, seed: int = 2025, world: World | None = None) -> None:
        if n_events < MIN_EVENTS:
            raise ValueError(
                f"n_events must be at least {MIN_EVENTS} so every kind of event appears;"
                f" got {n_events}"
            )
        self.n_events = n_events
        self.world = world or load_world()
        self.rng = random.Random(seed)
        self._random = self.rng.random
        self.live: dict[str, _Lot] = {}
        self.peak_live_lots = 0
        self.shipments = 0
        self.discrepancies = 0
        self._discrepancy_due = 0
        self._pools: dict[tuple[str, str], list[_Lot]] = {}
        self._recycle_pending = False
        self._eol_pending = False
        self._eol_campaigns = 0
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0
        self._now = 0.0
        self._out: deque[Event] = deque()
        self._emit: Callable[[Event], None] = self._out.append
        self._operators = {f.id: f.operator for f in self.world.facilities.values()}
        self._lot_counter = 0
        self._transit: dict[tuple[str, str], float] = {}
        self._route_flip = 0
        for offset, feed in enumerate(self.world.feeds.values()):
            self._at(offset * 3.0, self._tick, feed)

    def _tick(self, feed: Feed) -> None:
        """One production cycle of a feed: what happens is the flows' business."""
        raise NotImplementedError

    @property
    def live_lots(self) -> int:
        """Lots the simulation currently tracks."""
        return len(self.live)

    def __iter__(self) -> Iterator[Event]:
        step = _YEAR_SECONDS / self.n_events
        day = [time.strftime("%Y-%m-%dT", time.gmtime(_YEAR_START + d * 86400)) for d in range(365)]
        minute = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
        second = [f"{s:02d}Z" for s in range(60)]
        for i in range(self.n_events):
            event = self._next_event()
            at = int(i * step)
            event["id"] = f"E{i + 1:07d}"
            event["time"] = day[at // 86400] + minute[at % 86400 // 60] + second[at % 60]
            yield event

    # -- simulation core ----------------------------------------------------------------------

    def _next_event(self) -> Event:
        while not self._out:
            self._now, _, task, args = heapq.heappop(self._heap)
            task(*args)
        return self._out.popleft()

    def _at(self, delay_hours: float, task: Callable[..., None], *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (self._now + delay_hours, self._seq, task, args))

    def _later(self, task: Callable[..., None], *args: Any) -> None:
        """Run ``task`` after a processing delay of half a day to two days."""
        self._seq += 1
        when = self._now + 12.0 + 36.0 * self._random()
        heapq.heappush(self._heap, (when, self._seq, task, args))

    def _operator(self, facility: str) -> str:
        return self._operators[facility]

    def _new_lot(self, facility: str, form: str, elements: Elements, mass: float) -> _Lot:
        self._lot_counter += 1
        if form in _WITH_OTHER:
            other = round(mass - _conserved_sum(elements) - 0.001, 3)
            if other > 0:
                elements["other"] = other
        lot = _Lot(f"{facility}-L{self._lot_counter:07d}", form, mass, elements, facility)
        live = self.live
        live[lot.id] = lot
        if len(live) > self.peak_live_lots:
            self.peak_live_lots = len(live)
        return lot

    def _drop(self, lot: _Lot) -> None:
        """Forget a finished lot: it stays in stock in the ledger; the simulation is done."""
        self.live.pop(lot.id, None)

    def _recovery(self, stage: str) -> float:
        return self.rng.uniform(*self.world.recoveries[stage])

    # -- events -------------------------------------------------------------------------------

    def _output(self, lot: _Lot) -> Event:
        return {"lot": lot.id, "form": lot.form, "mass_kg": lot.mass, "elements_kg": lot.elements}

    def _consume(self, takes: Sequence[tuple[_Lot, float | None]]) -> tuple[Elements, list[Event]]:
        consumed: Elements = {}
        inputs: list[Event] = []
        for lot, mass in takes:
            if mass is None or mass >= lot.mass:
                mass, part = lot.mass, lot.elements
                self.live.pop(lot.id, None)
            else:
                part = _scaled(lot, mass / lot.mass)
                lot.elements = _scaled(lot, (lot.mass - mass) / lot.mass)
                lot.mass -= mass
            inputs.append({"lot": lot.id, "mass_kg": mass})
            if not consumed:
                consumed = dict(part)
                consumed.pop("other", None)
                continue
            for element, kg in part.items():
                if element != "other":
                    consumed[element] = consumed.get(element, 0.0) + kg
        return consumed, inputs

    def _transform(
        self, process: str, facility: str, takes: Sequence[tuple[_Lot, float | None]],
        routing: _AnyRouting | Callable[[Elements], Routing], specs: Sequence[Spec],
    ) -> list[_Lot | None]:  # fmt: skip
        """Consume ``takes``, route their elements to ``specs`` outputs, emit one transform."""
        consumed, inputs = self._consume(takes)
        table = routing(consumed) if callable(routing) else routing
        outs, losses = _partition(consumed, table, len(specs))
        lots: list[_Lot | None] = []
        for elements, (form, mode, value) in zip(outs, specs, strict=True):
            mass = _lot_mass(elements, mode, value)
            lots.append(self._new_lot(facility, form, elements, mass) if elements else None)
        self._emit({
            "id": "", "type": "transform", "process": process, "time": "",
            "actor": self._operator(facility), "facility": facility, "inputs": inputs,
            "outputs": [self._output(lot) for lot in lots if lot is not None],
            "losses_kg": losses,
        })  # fmt: skip
        return lots

    def _extract(self, facility: str, form: str, elements: Elements, mass: float) -> _Lot:
        lot = self._new_lot(facility, form, elements, round(mass, 3))
        self._emit({
            "id": "", "type": "extract", "time": "", "actor": self._operator(facility),
            "facility": facility, "outputs": [self._output(lot)],
        })  # fmt: skip
        return lot

    def _adjust(self, lot: _Lot, delta: float, reason: str) -> None:
        self._emit({
            "id": "", "type": "adjust", "time": "", "actor": self._operator(lot.facility),
            "lot": lot.id, "mass_kg": -delta, "reason": reason,
        })  # fmt: skip
        if delta >= lot.mass:
            self._drop(lot)
        else:
            lot.elements = _scaled(lot, (lot.mass - delta) / lot.mass)
            lot.mass -= delta

    def _claim(self, lot: _Lot, scheme: str, share: float) -> None:
        """The lot's custodian claims ``share`` of its material under ``scheme``."""
        self._emit({
            "id": "", "type": "claim", "time": "", "actor": self._operator(lot.facility),
            "lot": lot.id, "scheme": scheme, "share": share,
        })  # fmt: skip

    # -- movement -----------------------------------------------------------------------------

    def _transit_hours(self, origin: str, destination: str) -> float:
        key = (origin, destination)
        if key not in self._transit:
            a, b = self.world.facilities[origin], self.world.facilities[destination]
            self._transit[key] = 6.0 + _haversine_km((a.lat, a.lon), (b.lat, b.lon)) / 30.0
        return self._transit[key]

    def _send(self, lot: _Lot, path: tuple[str, ...], then: Callable[[_Lot], None]) -> None:
        """Ship ``lot`` along ``path`` (ports re-ship it) and call ``then`` on final arrival."""
        origin, destination = lot.facility, path[0]
        self._emit({
            "id": "", "type": "ship", "time": "", "actor": self._operator(origin), "lot": lot.id,
            "from": origin, "to": destination, "consignee": self._operator(destination),
        })  # fmt: skip
        lot.facility = ""
        received = self._received_mass(lot.mass)
        hours = self._transit_hours(origin, destination) * self.rng.uniform(1.0, 1.3)
        self._at(hours, self._arrive, lot, destination, received, path[1:], then)

    def _received_mass(self, shipped: float) -> float:
        self.shipments += 1
        if self.shipments % DISCREPANCY_EVERY == 0:
            self._discrepancy_due += 1
        rng = self.rng
        if self._discrepancy_due and shipped >= 10.0:
            self._discrepancy_due -= 1
            self.discrepancies += 1
            gain = self.discrepancies % 5 == 0
            factor = 1 + rng.uniform(0.01, 0.02) if gain else 1 - rng.uniform(0.01, 0.03)
        else:
            draw = rng.random()
            factor = 1.0 if draw < 0.5 else 1 - 0.003 * (draw - 0.5)
        received = round(shipped * factor, 3)
        return received if received > 0 else shipped

    def _arrive(
        self, lot: _Lot, facility: str, mass: float, rest: tuple[str, ...],
        then: Callable[[_Lot], None],
    ) -> None:  # fmt: skip
        self._emit({
            "id": "", "type": "receive", "time": "", "actor": self._operator(facility),
            "lot": lot.id, "facility": facility, "mass_kg": mass,
        })  # fmt: skip
        if mass != lot.mass:
            lot.elements = _scaled(lot, mass / lot.mass)
            lot.mass = mass
        lot.facility = facility
        if rest:
            self._at(self.rng.uniform(24.0, 96.0), self._send, lot, rest, then)
        else:
            then(lot)

    # -- sources and upstream -----------------------------------------------------------------


def _scaled(lot: _Lot, factor: float) -> Elements:
    return {e: kg * factor for e, kg in lot.elements.items()}
