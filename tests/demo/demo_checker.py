"""An independent, compact replay of the ledger rules, to check the demo generator's stream.

It deliberately shares no code with ``raretrace.domain`` or ``raretrace.ledger``: it is a
second reading of the rules in the brief, so a bug in one is not hidden by the other.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

REES = (
    "Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb",
    "Lu",
)  # fmt: skip
CONSERVED = frozenset([*REES, "Th", "U"])
KEYS = CONSERVED | {"other"}
FORMS = frozenset(
    {"ore", "concentrate", "intermediate", "oxide", "metal", "alloy", "magnet", "scrap", "residue"}
)
STAGES = frozenset({
    "mine", "concentrator", "cracking", "separation", "reduction", "alloying", "magnet",
    "recycling", "warehouse",
})  # fmt: skip
PROCESS_STAGE = {p: p for p in ("separation", "reduction", "alloying", "magnet", "recycling")}
TIME = re.compile(r"^2025-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
FIELDS = {
    "extract": {"id", "type", "time", "actor", "facility", "outputs"},
    "ship": {"id", "type", "time", "actor", "lot", "from", "to", "consignee"},
    "receive": {"id", "type", "time", "actor", "lot", "facility", "mass_kg"},
    "transform": {"id", "type", "process", "time", "actor", "facility", "inputs", "outputs",
                  "losses_kg"},
    "adjust": {"id", "type", "time", "actor", "lot", "mass_kg", "reason"},
    "claim": {"id", "type", "time", "actor", "lot", "scheme", "share"},
}  # fmt: skip


def tolerance(kg: float) -> float:
    """The ledger's tolerance: max(0.5% of the amount, 1 g)."""
    return max(0.005 * abs(kg), 0.001)


@dataclass
class LotState:
    mass: float
    elements: dict[str, float]
    facility: str
    custodian: str
    form: str
    status: str = "active"  # active | transit | consumed | written_off
    last_time: str = ""
    pending: tuple[str, str, float] | None = None  # (to, consignee, shipped mass)
    claimed: dict[str, dict[str, float]] = field(default_factory=dict)  # scheme -> el -> share


@dataclass
class Replay:
    """Replays events, asserting every rule; collects counts for the tests."""

    registry: Mapping[str, Any]
    lots: dict[str, LotState] = field(default_factory=dict)
    seen_ids: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    discrepancies: list[float] = field(default_factory=list)
    last_time: str = ""

    def __post_init__(self) -> None:
        self.participants = {p["id"] for p in self.registry["participants"]}
        self.facilities = {f["id"]: f for f in self.registry["facilities"]}

    def stages(self, facility: str) -> set[str]:
        stage = self.facilities[facility]["stage"]
        return {stage} if isinstance(stage, str) else set(stage)

    def run(self, events: Iterable[Mapping[str, Any]]) -> Replay:
        for event in events:
            try:
                self.apply(event)
            except AssertionError as exc:
                raise AssertionError(f"event {event.get('id')}: {exc}\n{event}") from exc
        return self

    def apply(self, event: Mapping[str, Any]) -> None:
        kind = event["type"]
        assert set(event) == FIELDS[kind], f"fields {sorted(event)}"
        assert event["id"] not in self.seen_ids, "duplicate event id"
        self.seen_ids.add(event["id"])
        assert TIME.match(event["time"]), "time format"
        assert event["time"] >= self.last_time, "time goes backwards"
        self.last_time = event["time"]
        assert event["actor"] in self.participants, "unknown actor"
        self.counts[kind if kind != "transform" else f"transform:{event['process']}"] += 1
        getattr(self, f"_{kind}")(event)

    # -- helpers -----------------------------------------------------------------------------

    def usable(self, lot_id: str, event: Mapping[str, Any]) -> LotState:
        assert lot_id in self.lots, f"unknown lot {lot_id}"
        lot = self.lots[lot_id]
        assert lot.status == "active", f"lot {lot_id} is {lot.status}"
        assert lot.custodian == event["actor"], f"actor is not custodian of {lot_id}"
        assert event["time"] >= lot.last_time, f"event before last event of {lot_id}"
        return lot

    def new_lots(self, event: Mapping[str, Any]) -> list[tuple[str, LotState]]:
        made = []
        for out in event["outputs"]:
            assert out["lot"] not in self.lots, f"output lot {out['lot']} exists"
            assert out["form"] in FORMS, "form"
            mass, elements = out["mass_kg"], out["elements_kg"]
            assert isinstance(mass, float | int) and math.isfinite(mass) and mass > 0, "mass"
            assert set(elements) <= KEYS, f"element keys {set(elements) - KEYS}"
            assert all(math.isfinite(v) and v > 0 for v in elements.values()), "element values"
            assert math.fsum(elements.values()) <= mass, f"elements outweigh lot {out['lot']}"
            lot = LotState(mass, dict(elements), event["facility"], event["actor"], out["form"],
                           last_time=event["time"])  # fmt: skip
            made.append((out["lot"], lot))
        ids = [lot_id for lot_id, _ in made]
        assert len(set(ids)) == len(ids), "repeated output lot"
        return made

    @staticmethod
    def scale(lot: LotState, new_mass: float) -> None:
        factor = new_mass / lot.mass
        lot.elements = {e: kg * factor for e, kg in lot.elements.items()}
        lot.mass = new_mass

    # -- event types -------------------------------------------------------------------------

    def _extract(self, event: Mapping[str, Any]) -> None:
        facility = event["facility"]
        assert facility in self.facilities, "unknown facility"
        assert self.facilities[facility]["operator"] == event["actor"], "extract by non-operator"
        stages = self.stages(facility)
        for out in event["outputs"]:
            ok = "mine" in stages or ("recycling" in stages and out["form"] == "scrap")
            assert ok, f"extract of {out['form']} at {facility} ({stages})"
        for lot_id, lot in self.new_lots(event):
            self.lots[lot_id] = lot

    def _ship(self, event: Mapping[str, Any]) -> None:
        lot = self.usable(event["lot"], event)
        assert lot.facility == event["from"], "ship from a facility the lot is not at"
        assert event["to"] in self.facilities and event["to"] != event["from"], "ship to"
        assert event["consignee"] in self.participants, "unknown consignee"
        lot.status, lot.last_time = "transit", event["time"]
        lot.pending = (event["to"], event["consignee"], lot.mass)
        self.counts["shipments"] += 1

    def _receive(self, event: Mapping[str, Any]) -> None:
        lot = self.lots.get(event["lot"])
        assert lot is not None and lot.status == "transit" and lot.pending, "not in transit"
        to, consignee, shipped = lot.pending
        assert event["facility"] == to, "received at a facility it was not shipped to"
        assert event["actor"] == consignee, "receiver is not the consignee"
        assert event["time"] >= lot.last_time, "receive before ship"
        mass = event["mass_kg"]
        assert math.isfinite(mass) and mass > 0, "receive mass"
        if abs(mass - shipped) > tolerance(shipped):
            self.discrepancies.append(mass / shipped - 1)
        else:
            assert abs(mass - shipped) <= max(0.002 * shipped, 0.001), "receive off by > 0.2%"
        self.scale(lot, mass)
        lot.status, lot.facility, lot.custodian = "active", to, consignee
        lot.last_time, lot.pending = event["time"], None

    def _transform(self, event: Mapping[str, Any]) -> None:
        facility, process = event["facility"], event["process"]
        assert facility in self.facilities, "unknown facility"
        stages = self.stages(facility)
        if process in PROCESS_STAGE:
            assert PROCESS_STAGE[process] in stages, f"{process} at {facility} ({stages})"
        else:
            assert process in ("split", "merge", "other"), f"process {process}"
            assert process != "other" or stages != {"warehouse"}, "other at a warehouse"
        consumed: Counter[str] = Counter()
        claimed_kg: dict[str, Counter[str]] = {}
        used = set()
        for item in event["inputs"]:
            assert item["lot"] not in used, "lot used twice in one transform"
            used.add(item["lot"])
            lot = self.usable(item["lot"], event)
            assert lot.facility == facility, "input not at the transform's facility"
            take = item["mass_kg"]
            assert math.isfinite(take) and take > 0, "input mass"
            assert take <= lot.mass * (1 + 1e-9), f"takes {take} of {lot.mass}"
            for element, kg in lot.elements.items():
                if element in CONSERVED:
                    consumed[element] += kg * take / lot.mass
                    for scheme, shares in lot.claimed.items():
                        part = shares.get(element, 0.0) * kg * take / lot.mass
                        claimed_kg.setdefault(scheme, Counter())[element] += part
            if take >= lot.mass * (1 - 1e-9):
                lot.status = "consumed"
            else:
                self.scale(lot, lot.mass - take)
            lot.last_time = event["time"]
        self.balance(event, consumed)
        for lot_id, lot in self.new_lots(event):
            lot.claimed = {  # mass-balance mixing: every output carries the inputs' mix
                scheme: {e: kg[e] / consumed[e] for e in lot.elements if kg[e] > 0}
                for scheme, kg in claimed_kg.items()
            }
            self.lots[lot_id] = lot

    def balance(self, event: Mapping[str, Any], consumed: Counter[str]) -> None:
        losses = event["losses_kg"]
        assert set(losses) <= KEYS and all(v >= 0 for v in losses.values()), "losses"
        produced: Counter[str] = Counter()
        for out in event["outputs"]:
            for element, kg in out["elements_kg"].items():
                if element in CONSERVED:
                    assert element in consumed, f"{element} appears from nowhere"
                    produced[element] += kg
        for element in set(consumed) | set(produced) | (set(losses) & CONSERVED):
            made = produced[element] + losses.get(element, 0.0)
            gap = abs(made - consumed[element])
            assert gap <= tolerance(consumed[element]), f"{element}: in {consumed[element]}"
            self.counts["max_gap_ppm"] = max(
                self.counts["max_gap_ppm"], int(1e6 * gap / max(consumed[element], 1e-9))
            )

    def _adjust(self, event: Mapping[str, Any]) -> None:
        lot = self.usable(event["lot"], event)
        delta = event["mass_kg"]
        assert math.isfinite(delta) and delta < 0, "adjust must be negative"
        assert -delta <= lot.mass * (1 + 1e-9), "adjust more than the lot holds"
        assert event["reason"], "adjust needs a reason"
        if -delta >= lot.mass * (1 - 1e-9):
            lot.status = "written_off"
            self.counts["write_offs"] += 1
        else:
            self.scale(lot, lot.mass + delta)
        lot.last_time = event["time"]

    def _claim(self, event: Mapping[str, Any]) -> None:
        lot = self.usable(event["lot"], event)
        scheme, share = event["scheme"], event["share"]
        assert isinstance(scheme, str) and scheme, "claim scheme"
        assert isinstance(share, float | int) and 0 < share <= 1, f"claim share {share}"
        held = [e for e, kg in lot.elements.items() if e in CONSERVED and kg > 0]
        assert held, "claim on a lot without rare earths, Th or U"
        shares = lot.claimed.setdefault(scheme, {})
        for element in held:
            total = shares.get(element, 0.0) + share
            assert total <= 1 + 1e-9, f"double claim: {element} claimed {total} for {scheme}"
            shares[element] = min(total, 1.0)
        lot.last_time = event["time"]
        self.counts[f"claim:{scheme}"] += 1
