"""A deterministic stream of ledger events over the demo world: one year of mine-to-magnet flows.

A small discrete-event simulation moves lots through the real routes of the demo world
(Mount Weld → Kalgoorlie → Kuantan → LAMP → JS Link; Vietnam; Myanmar → China; Bayan Obo;
Mountain Pass; recycling). Every transform conserves each element exactly (the last share of
an element is the remainder). Memory is bounded: the simulation keeps only lots it will still
use, and forgets finished products (they stay in stock in the ledger). Event ``i`` of ``n`` is
stamped ``2025-01-01 + i/n`` of the year, so any ``n`` spans 2025 with non-decreasing times.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raretrace.demo.world import Feed, World, load_world, registry
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


class EventStream:
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

    def _tick(self, feed: Feed) -> None:
        self._at(feed.every_days * 24.0 * self.rng.uniform(0.8, 1.2), self._tick, feed)
        if feed.form == "scrap":
            self._pool_scrap(self._extract_scrap(feed))
        elif feed.form == "ore":
            ore = self._extract_primary(feed, float(feed.ore_treo_pct or 0.0))
            self._later(self._beneficiate, ore, feed)
        else:
            conc = self._extract_primary(feed, float(feed.concentrate_treo_pct or 0.0))
            self._later(self._send, conc, ("CN-GANZHOU-SEP",), self._at_ganzhou)

    def _extract_primary(self, feed: Feed, treo_pct: float) -> _Lot:
        mass = self.rng.uniform(*feed.lot_t) * 1000.0
        treo = mass * treo_pct / 100.0
        composition = feed.composition or {}
        elements = {e: round(treo * s / OXIDE_FACTOR[e], 6) for e, s in composition.items()}
        for element, per_t in (("Th", feed.th_kg_per_t_treo), ("U", feed.u_kg_per_t_treo)):
            if per_t > 0:
                elements[element] = round(treo / 1000.0 * per_t, 6)
        return self._extract(feed.facility, feed.form, elements, mass)

    def _extract_scrap(self, feed: Feed) -> _Lot:
        rng, wt = self.rng, self.world.magnet_wt_pct
        mass = rng.uniform(*feed.lot_t) * 1000.0
        rare_earths = mass * rng.uniform(*wt["Nd_or_total_RE"]) / 100.0
        dy = mass * rng.uniform(*wt["Dy"]) / 100.0
        ndpr = rare_earths - dy
        elements = {"Nd": round(ndpr * 0.8, 6), "Pr": round(ndpr * 0.2, 6), "Dy": round(dy, 6)}
        return self._extract(feed.facility, "scrap", elements, mass)

    def _beneficiate(self, ore: _Lot, feed: Feed) -> None:
        recovery = self._recovery("beneficiation")
        routing = {e: ((0, recovery),) for e in ore.elements if e != "other"}
        grade = float(feed.concentrate_treo_pct or 50.0) / 100.0
        (conc,) = self._transform("other", feed.facility, [(ore, None)], routing,
                                  [("concentrate", "reo", grade)])  # fmt: skip
        if conc is not None:
            self._later(self._dispatch_concentrate, conc)

    def _dispatch_concentrate(self, conc: _Lot) -> None:
        site = conc.facility
        if site == "AU-LYNAS-MTWELD":
            if self.rng.random() < 0.7:
                self._send(conc, ("AU-LYNAS-KAL",), self._crack_then_lamp)
            else:
                self._send(conc, (_KUANTAN, _LAMP), self._crack_then_lamp)
        elif site == "CN-BAYANOBO":
            self._send(conc, ("CN-BAOTOU-SEP",), self._separate_light)
        elif site == "VN-DONGPAO":
            self._send(conc, ("VN-VTRE-HANOI",), self._separate_light)
        elif site == "VN-YENPHU":
            self._send(conc, (_SMMV,), self._separate_light)
        else:
            self._later(self._separate_light, conc)

    def _crack_then_lamp(self, conc: _Lot) -> None:
        """Cracking and leaching: MREC intermediate plus a Th/U-bearing (WLP-type) residue."""
        recovery, reo_in = self._recovery("cracking"), _reo(conc.elements)
        routing: Routing = {e: ((0, recovery),) for e in conc.elements if e in _REE}
        routing.update({e: ((1, 0.97), (0, -1.0)) for e in conc.elements if e in _RADIO})
        wlp = self._wlp_t_per_t_reo() * reo_in
        mrec, residue = self._transform(
            "other",
            conc.facility,
            [(conc, None)],
            routing,
            [("intermediate", "reo", 0.55), ("residue", "fixed", wlp)],
        )
        for lot in (residue,):
            if lot is not None:
                self._drop(lot)
        if mrec is None:
            return
        if mrec.facility == _LAMP:
            self._later(self._separate_light, mrec)
        else:
            self._later(self._send, mrec, (_KUANTAN, _LAMP), self._separate_light)

    def _wlp_t_per_t_reo(self) -> float:
        return float(self.world.raw["residues"]["lynas_wlp"]["generation_t_per_t_REO"]["WLP"])

    # -- separation ---------------------------------------------------------------------------

    def _separate_light(self, feed: _Lot) -> None:
        """Solvent extraction: NdPr oxide, La/Ce, SEG/HRE, and a residue keeping all Th and U."""
        site, recovery = feed.facility, self._recovery("separation")
        groups = [_GROUPS["NdPr"], _GROUPS["LaCe"], _GROUPS["SEG"]]
        residue_ratio = self._wlp_t_per_t_reo() if feed.form == "concentrate" else 0.05
        residue_mass = residue_ratio * _reo(feed.elements)

        def routing(consumed: Elements) -> Routing:
            table = _routing(consumed, groups, recovery)
            table.update({e: ((3, -1.0),) for e in consumed if e in _RADIO})
            return table

        specs = [("oxide", "reo", 1.0), ("intermediate", "reo", 0.6),
                 ("intermediate", "reo", 0.9), ("residue", "fixed", residue_mass)]  # fmt: skip
        ndpr, lace, seg, residue = self._transform(
            "separation", site, [(feed, None)], routing, specs
        )
        for lot in (lace, seg, residue):
            if lot is not None:
                self._after_separation(lot, lot is seg)
        if ndpr is not None:
            self._sample(ndpr)
            self._later(self._route_ndpr, ndpr)

    def _after_separation(self, lot: _Lot, is_seg: bool) -> None:
        site = lot.facility
        if lot.form == "residue":
            self._drop(lot)
        elif is_seg and site == _LAMP:
            self._later(self._send, lot, (_HRE,), self._separate_heavy)
        elif is_seg and site == "VN-VTRE-HANOI":
            self._later(self._send, lot, (_DANANG, _KUANTAN, _HRE), self._separate_heavy)
        elif not is_seg and site in (_LAMP, "VN-VTRE-HANOI", _SMMV):
            port = _KUANTAN if site == _LAMP else _HAIPHONG
            self._later(self._send, lot, (port,), self._drop)
        else:
            self._drop(lot)

    def _sample(self, lot: _Lot) -> None:
        if lot.mass > 50.0 and self.rng.random() < 0.15:
            self._adjust(lot, round(self.rng.uniform(0.2, 2.0), 3), "sampling: assay sample")

    def _route_ndpr(self, ndpr: _Lot) -> None:
        site = ndpr.facility
        if site == _LAMP:
            to_js, to_vn = self._split(ndpr, (0.75, 0.25))
            self._send(to_js, (_JSLINK,), self._magnet_line)
            self._send(to_vn, (_KUANTAN, _HAIPHONG, _SMMV), self._magnet_line)
        elif site in _PLANTS:
            self._magnet_line(ndpr)
        else:
            plant = {
                "CN-BAOTOU-SEP": _BAOTOU_MAG,
                "VN-VTRE-HANOI": _SMMV,
                "US-MP-MTNPASS": "US-MP-INDEPENDENCE",
                "CN-GANZHOU-SEP": _BAOTOU_MAG,
            }[site]
            self._send(ndpr, (plant,), self._magnet_line)

    def _split(self, lot: _Lot, shares: Sequence[float]) -> list[_Lot]:
        last = len(shares) - 1
        routing: Routing = {
            e: tuple((i, -1.0 if i == last else s) for i, s in enumerate(shares))
            for e in lot.elements if e != "other"
        }  # fmt: skip
        specs = [(lot.form, "fixed", round(lot.mass * s, 3)) for s in shares]
        parts = self._transform("split", lot.facility, [(lot, None)], routing, specs)
        return [p for p in parts if p is not None]

    def _separate_heavy(self, seg: _Lot) -> None:
        """The Lynas heavy rare earth circuit: Dy oxide, Tb oxide and a mixed remainder."""
        recovery = self._recovery("separation")
        groups = [_GROUPS["Dy"], _GROUPS["Tb"], _REE]
        specs = [("oxide", "reo", 1.0), ("oxide", "reo", 1.0), ("intermediate", "reo", 0.9)]
        dy, tb, rest = self._transform("separation", seg.facility, [(seg, None)],
                                       lambda c: _routing(c, groups, recovery), specs)  # fmt: skip
        for lot in (dy, tb):
            if lot is not None:
                self._later(self._send, lot, (_JSLINK,), self._pool_heavy)
        if rest is not None:
            if self.rng.random() < 0.2:
                self._adjust(rest, rest.mass, "write-off: off-spec drums, disposed under licence")
            else:
                self._drop(rest)

    def _at_ganzhou(self, feed: _Lot) -> None:
        """Ionic-clay feed: Dy, Tb, Y and NdPr oxides, and a mixed remainder."""
        recovery = self._recovery("separation")
        groups = [_GROUPS[k] for k in ("Dy", "Tb", "Y", "NdPr")] + [_REE]
        oxide = ("oxide", "reo", 1.0)
        specs = [oxide, oxide, oxide, oxide, ("intermediate", "reo", 0.9)]
        dy, tb, y, ndpr, rest = self._transform(
            "separation",
            feed.facility,
            [(feed, None)],
            lambda c: _routing(c, groups, recovery),
            specs,
        )
        self._route_flip += 1
        if dy is not None:
            path = (_BAOTOU_MAG,) if self._route_flip % 2 else (_HAIPHONG, _SMMV)
            self._later(self._send, dy, path, self._pool_heavy)
        if tb is not None:
            self._later(self._send, tb, (_BAOTOU_MAG,), self._pool_heavy)
        if ndpr is not None:
            self._later(self._route_ndpr, ndpr)
        for lot in (y, rest):
            if lot is not None:
                self._drop(lot)

    # -- pools, metal, alloy, magnet ----------------------------------------------------------

    def _pool(self, lot: _Lot, kind: str) -> list[_Lot]:
        pool = self._pools.setdefault((lot.facility, kind), [])
        pool.append(lot)
        if len(pool) > _POOL_CAP:
            self._drop(pool.pop(0))
        return pool

    def _pool_heavy(self, lot: _Lot) -> None:
        self._pool(lot, "heavy")

    def _heavy_takes(self, plant: str, need_kg: float) -> list[tuple[_Lot, float | None]]:
        """Partial draws on the plant's Dy/Tb oxide pool to put ``need_kg`` of Dy+Tb in a batch."""
        takes: list[tuple[_Lot, float | None]] = []
        pool = self._pools.get((plant, "heavy"), [])
        while pool and need_kg > 0.01:
            lot = pool[0]
            content = lot.elements.get("Dy", 0.0) + lot.elements.get("Tb", 0.0)
            want = need_kg * lot.mass / content
            if want >= 0.98 * lot.mass:
                takes.append((pool.pop(0), None))
                need_kg -= content
            else:
                takes.append((lot, round(want, 3)))
                break
        return takes

    def _magnet_line(self, ndpr: _Lot) -> None:
        """Reduction: NdPr oxide + recycled oxide + Dy/Tb oxide → NdPr(Dy) metal."""
        plant, wt = ndpr.facility, self.world.magnet_wt_pct
        re_pct = self.rng.uniform(*wt["Nd_or_total_RE"])  # magnet grade, kept for alloying
        share = self.rng.uniform(*wt["Dy"]) / re_pct
        takes: list[tuple[_Lot, float | None]] = [(ndpr, None)]
        takes += [(lot, None) for lot in self._pools.pop((plant, "recycled"), [])]
        base = [lot.elements for lot, _ in takes]
        heavy = sum(e.get("Dy", 0.0) + e.get("Tb", 0.0) for e in base)  # recycled Dy counts
        light = sum(_conserved_sum(e) for e in base) - heavy
        takes += self._heavy_takes(plant, light * share / (1 - share) - heavy)
        recovery = self._recovery("reduction")
        (metal,) = self._transform(
            "reduction",
            plant,
            takes,
            lambda c: _routing(c, [_REE], recovery),
            [("metal", "re", 1.0)],
        )
        if metal is not None:
            self._later(self._alloy, metal, re_pct / 100.0)

    def _alloy(self, metal: _Lot, re_share: float) -> None:
        """Strip casting: RE metal plus Fe and B (``other``) → NdFeB alloy at magnet RE grade."""
        recovery = self._recovery("alloying")
        (alloy,) = self._transform("alloying", metal.facility, [(metal, None)],
                                   lambda c: _routing(c, [_REE], recovery),
                                   [("alloy", "re", re_share)])  # fmt: skip
        if alloy is not None:
            self._later(self._make_magnets, alloy)

    def _make_magnets(self, alloy: _Lot) -> None:
        """Sintering and machining: finished magnets plus recyclable swarf (``scrap``)."""
        plant, finished = alloy.facility, self._recovery("magnet")
        re_share = _conserved_sum(alloy.elements) / alloy.mass
        routing = {e: ((0, finished), (1, (1 - finished) * 0.9)) for e in alloy.elements
                   if e in _REE}  # fmt: skip
        magnet, swarf = self._transform(
            "magnet",
            plant,
            [(alloy, None)],
            routing,
            [("magnet", "re", re_share), ("scrap", "re", re_share)],
        )
        export, swarf_path = _PLANTS[plant]
        if magnet is not None:
            if export and magnet.mass > 100.0:
                for part in self._split(magnet, (0.4, 0.35, 0.25)):
                    self._later(self._send, part, export, self._drop)
            else:
                self._drop(magnet)
        if swarf is not None:
            if swarf_path:
                self._later(self._send, swarf, swarf_path, self._pool_scrap)
            else:
                self._drop(swarf)

    # -- recycling ----------------------------------------------------------------------------

    def _pool_scrap(self, lot: _Lot) -> None:
        pool = self._pool(lot, "scrap")
        if len(pool) >= 3 and not self._recycle_pending:
            self._recycle_pending = True
            self._later(self._recycle)

    def _recycle(self) -> None:
        """Merge collected scrap into a campaign lot, then recover mixed RE oxide."""
        self._recycle_pending = False
        scrap = self._pools.pop((_RECYCLER, "scrap"), [])
        if not scrap:
            return
        campaign = scrap[0]
        if len(scrap) > 1:
            total = sum(lot.mass for lot in scrap)
            merged = {e: ((0, -1.0),) for lot in scrap for e in lot.elements if e != "other"}
            (campaign_lot,) = self._transform(
                "merge",
                _RECYCLER,
                [(lot, None) for lot in scrap],
                merged,
                [("scrap", "fixed", total)],
            )
            campaign = campaign_lot or campaign
        recovery = self._recovery("recycling")
        (oxide,) = self._transform(
            "recycling",
            _RECYCLER,
            [(campaign, None)],
            lambda c: _routing(c, [_REE], recovery),
            [("oxide", "reo", 1.0)],
        )
        if oxide is not None:
            self._later(self._send, oxide, (_JSLINK,), self._pool_recycled)

    def _pool_recycled(self, lot: _Lot) -> None:
        self._pool(lot, "recycled")


def _scaled(lot: _Lot, factor: float) -> Elements:
    return {e: kg * factor for e, kg in lot.elements.items()}


def generate_events(n_events: int, *, seed: int = 2025) -> Iterator[dict[str, Any]]:
    """Exactly ``n_events`` ledger events (JSON-ready dicts) spanning 2025, same for same seed."""
    return iter(EventStream(n_events, seed=seed))


def write_demo(directory: Path, n_events: int, *, seed: int = 2025) -> tuple[Path, Path]:
    """Write ``registry.json`` and ``events.jsonl`` (one compact event a line) to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    stream = EventStream(n_events, seed=seed)
    registry_path = directory / "registry.json"
    document = json.dumps(registry(stream.world), indent=2, ensure_ascii=False)
    registry_path.write_text(document + "\n", encoding="utf-8")
    events_path = directory / "events.jsonl"
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    with events_path.open("w", encoding="utf-8") as out:
        for event in stream:
            out.write(encode(event))
            out.write("\n")
    return registry_path, events_path
