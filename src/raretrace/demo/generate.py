"""A deterministic stream of ledger events over the demo world: one year of mine-to-magnet flows.

A small discrete-event simulation moves lots through the real routes of the demo world
(Mount Weld → Kalgoorlie → Kuantan → LAMP → JS Link; Vietnam, with a separation line on
Chinese technology; Myanmar → China → Viet Nam; Bayan Obo; Mountain Pass; recycling, with
magnets of wholly recycled rare earths; the plants claim those magnets' recycled content and
half of some ASEAN magnets' origin). The registry it runs against (``world.registry``)
carries the authorities' licences and the auditors' accreditations and audits. Every
transform conserves each element exactly (the last share of an element is the remainder).
Memory is bounded: the simulation keeps only lots it will still use, and forgets finished
products (they stay in stock in the ledger). Event ``i`` of ``n`` is stamped
``2025-01-01 + i/n`` of the year, so any ``n`` spans 2025 with non-decreasing times.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from raretrace.demo.simulation import (
    _BAOTOU_MAG,
    _DANANG,
    _GROUPS,
    _HAIPHONG,
    _HRE,
    _JSLINK,
    _KUANTAN,
    _LAMP,
    _PLANTS,
    _POOL_CAP,
    _RADIO,
    _RECYCLER,
    _REE,
    _SMMV,
    _YENBAI,
    DISCREPANCY_EVERY,
    MIN_EVENTS,
    Elements,
    Routing,
    Simulation,
    _conserved_sum,
    _Lot,
    _reo,
    _routing,
)
from raretrace.demo.world import Feed, registry
from raretrace.domain.elements import OXIDE_FACTOR

__all__ = [
    "DISCREPANCY_EVERY", "MIN_EVENTS", "ORIGIN_CLAIM_EVERY", "ORIGIN_CLAIM_SHARE",
    "ORIGIN_SCHEME", "RECYCLED_SCHEME", "EventStream", "generate_events", "write_demo",
]  # fmt: skip

#: The scheme a wholly recycled magnet is claimed under (all of it), by the plant that made it.
RECYCLED_SCHEME = "eu-recycled-content"
#: The origin scheme some magnets made in ASEAN are claimed under, and how much of each.
ORIGIN_SCHEME = "asean-origin"
ORIGIN_CLAIM_SHARE = 0.5
#: One magnet in this many made from mined material at an ASEAN plant is origin-claimed.
ORIGIN_CLAIM_EVERY = 3
_ASEAN_PLANTS = frozenset({_JSLINK, _SMMV})


class EventStream(Simulation):
    """The demo world's flows: one year of mine-to-magnet events, generated lazily."""

    _asean_magnets = 0

    def _tick(self, feed: Feed) -> None:
        self._at(feed.every_days * 24.0 * self.rng.uniform(0.8, 1.2), self._tick, feed)
        if feed.form == "scrap":
            self._pool_end_of_life(self._extract_scrap(feed))
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
            self._send(conc, (_YENBAI,), self._separate_light)
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
                _YENBAI: _SMMV,
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
        self._reduce(plant, takes, re_pct)

    def _recycled_magnet_line(self, oxide: _Lot) -> None:
        """A magnet of 100% recycled rare earths: recycled oxide alone (it carries its Dy)."""
        re_pct = self.rng.uniform(*self.world.magnet_wt_pct["Nd_or_total_RE"])
        self._reduce(oxide.facility, [(oxide, None)], re_pct, recycled=True)

    def _reduce(
        self, plant: str, takes: list[tuple[_Lot, float | None]], re_pct: float, *,
        recycled: bool = False,
    ) -> None:  # fmt: skip
        recovery = self._recovery("reduction")
        (metal,) = self._transform(
            "reduction",
            plant,
            takes,
            lambda c: _routing(c, [_REE], recovery),
            [("metal", "re", 1.0)],
        )
        if metal is not None:
            self._later(self._alloy, metal, re_pct / 100.0, recycled)

    def _alloy(self, metal: _Lot, re_share: float, recycled: bool) -> None:
        """Strip casting: RE metal plus Fe and B (``other``) → NdFeB alloy at magnet RE grade."""
        recovery = self._recovery("alloying")
        (alloy,) = self._transform("alloying", metal.facility, [(metal, None)],
                                   lambda c: _routing(c, [_REE], recovery),
                                   [("alloy", "re", re_share)])  # fmt: skip
        if alloy is not None:
            self._later(self._make_magnets, alloy, recycled)

    def _make_magnets(self, alloy: _Lot, recycled: bool) -> None:
        """Sintering and machining: finished magnets plus recyclable swarf (``scrap``).

        The plant claims a wholly recycled magnet, all of it, under ``RECYCLED_SCHEME``, and
        every ``ORIGIN_CLAIM_EVERY``-th other magnet made in ASEAN half under
        ``ORIGIN_SCHEME``, before the magnet is split for export (the parts inherit it)."""
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
            self._claim_magnet(magnet, recycled)
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

    def _claim_magnet(self, magnet: _Lot, recycled: bool) -> None:
        if recycled:
            self._claim(magnet, RECYCLED_SCHEME, 1.0)
        elif magnet.facility in _ASEAN_PLANTS:
            self._asean_magnets += 1
            if self._asean_magnets % ORIGIN_CLAIM_EVERY == 1:
                self._claim(magnet, ORIGIN_SCHEME, ORIGIN_CLAIM_SHARE)

    # -- recycling ----------------------------------------------------------------------------

    def _pool_scrap(self, lot: _Lot) -> None:
        """Machining swarf (rare earths of mined origin) waits for a swarf campaign."""
        pool = self._pool(lot, "scrap")
        if len(pool) >= 3 and not self._recycle_pending:
            self._recycle_pending = True
            self._later(self._recycle)

    def _pool_end_of_life(self, lot: _Lot) -> None:
        """End-of-life magnet scrap (origin ``recycled``) is run in campaigns of its own."""
        pool = self._pool(lot, "end-of-life")
        if len(pool) >= 3 and not self._eol_pending:
            self._eol_pending = True
            self._later(self._recycle_end_of_life)

    def _recycle(self) -> None:
        """A swarf campaign: its oxide goes into JS Link's blend with primary NdPr."""
        self._recycle_pending = False
        oxide = self._campaign(self._pools.pop((_RECYCLER, "scrap"), []))
        if oxide is not None:
            self._later(self._send, oxide, (_JSLINK,), self._pool_recycled)

    def _recycle_end_of_life(self) -> None:
        """An end-of-life campaign: every other one becomes a wholly recycled magnet at JS
        Link, the others go into its blend."""
        self._eol_pending = False
        oxide = self._campaign(self._pools.pop((_RECYCLER, "end-of-life"), []))
        if oxide is None:
            return
        self._eol_campaigns += 1
        then = self._recycled_magnet_line if self._eol_campaigns % 2 else self._pool_recycled
        self._later(self._send, oxide, (_JSLINK,), then)

    def _campaign(self, scrap: list[_Lot]) -> _Lot | None:
        """Merge collected scrap into a campaign lot, then recover mixed RE oxide."""
        if not scrap:
            return None
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
        return oxide

    def _pool_recycled(self, lot: _Lot) -> None:
        self._pool(lot, "recycled")


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
