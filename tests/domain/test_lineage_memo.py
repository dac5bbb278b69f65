"""``lineage.Recomputation``: one memo per verification, each event of a lineage replayed once.

A verifier asks for the state of every transform's inputs just before it, every receipt's lot
just before it, and the lot now. On a deep chain that also draws on one shared lot (recycled
oxide blended into every step), a fresh walk per question replays the whole chain again each
time: quadratic. These tests count the reads a real in-memory event source serves (plain
values, no database): a walk reads each lot's events once and each event's facility record
once, however many questions it answers, and its answers are the fresh walks' answers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from raretrace.domain import lineage
from raretrace.domain.errors import NotFound
from raretrace.domain.model import Facility, Tolerance

Row = tuple[int, str, Mapping[str, Any]]

MINE = Facility("mine", "Mine", "op", "AU", ("mine",), "AU")
PLANT = Facility("plant", "Plant", "op", "MY", ("separation",), "MY")
DEPTH = 120


class CountingSource:
    """Events indexed by lot, optionally cut before an event number; counts every read."""

    def __init__(self, events: list[Mapping[str, Any]], cutoff: float = math.inf) -> None:
        self.events, self.cutoff = events, cutoff
        self.rows: dict[str, list[Row]] = {}
        for seq, body in enumerate(events):
            for lot, role in lineage.lot_roles(body):
                self.rows.setdefault(lot, []).append((seq, role, body))
        self.lot_reads: Counter[str] = Counter()
        self.facility_reads: Counter[int] = Counter()

    def until(self, cutoff: int) -> CountingSource:
        cut = CountingSource(self.events, cutoff)
        cut.lot_reads, cut.facility_reads = self.lot_reads, self.facility_reads  # one tally
        return cut

    def events_of(self, lot_id: str) -> list[Row]:
        self.lot_reads[lot_id] += 1
        return [r for r in self.rows.get(lot_id, []) if r[0] < self.cutoff]

    def facility(self, facility_id: str, before: int) -> Facility:
        self.facility_reads[before] += 1
        return {"mine": MINE, "plant": PLANT}[facility_id]


def _time(i: int) -> str:
    return f"2025-01-01T00:{i // 60:02d}:{i % 60:02d}Z"


def deep_chain(depth: int = DEPTH) -> list[Mapping[str, Any]]:
    """Ore and oxide extracted; then ``depth`` transforms, each taking the previous step's
    whole output and 10 kg of the one oxide lot."""
    ore, nd = {"Nd": 100.0}, {"Nd": 100_000.0}
    events: list[Mapping[str, Any]] = [
        {"type": "extract", "id": "e0", "facility": "mine", "actor": "miner", "time": _time(0),
         "outputs": [{"lot": "C0", "form": "ore", "mass_kg": 1000.0, "elements_kg": ore}]},
        {"type": "extract", "id": "e1", "facility": "mine", "actor": "miner", "time": _time(1),
         "outputs": [{"lot": "OX", "form": "ore", "mass_kg": 100_000.0, "elements_kg": nd}]},
    ]  # fmt: skip
    mass, kg_nd = 1000.0, 100.0
    for i in range(1, depth + 1):
        kg_nd += 10.0
        mass += 10.0
        events.append({
            "type": "transform", "id": f"t{i}", "facility": "plant", "actor": "miner",
            "time": _time(i + 1), "process": "separation",
            "inputs": [{"lot": f"C{i - 1}", "mass_kg": mass - 10.0},
                       {"lot": "OX", "mass_kg": 10.0}],
            "outputs": [{"lot": f"C{i}", "form": "oxide", "mass_kg": mass,
                         "elements_kg": {"Nd": kg_nd}}],
        })  # fmt: skip
    return events


def _questions(source: CountingSource) -> list[tuple[str, int]]:
    """What a bundle verification asks: each transform's inputs just before it."""
    return [
        (item["lot"], seq)
        for seq, body in enumerate(source.events)
        if body["type"] == "transform"
        for item in body["inputs"]
    ]


def test_one_walk_reads_each_event_once_however_many_questions() -> None:
    source = CountingSource(deep_chain())
    walk = lineage.Recomputation(source, Tolerance())
    for lot, seq in _questions(source):
        walk.before(lot, seq)
    walk.lot(f"C{DEPTH}")
    walk.lot("OX")
    assert max(source.lot_reads.values()) == 1
    assert set(source.lot_reads) == {f"C{i}" for i in range(DEPTH + 1)} | {"OX"}
    # Each creating event's facility is read once: its lot is created once.
    assert max(source.facility_reads.values()) == 1
    assert len(source.facility_reads) == len(source.events)


def test_fresh_walks_per_question_replay_the_chain_again() -> None:
    """The counters see the quadratic walk this module replaces (so the test above can fail)."""
    source = CountingSource(deep_chain())
    for lot, seq in _questions(source):
        lineage.recompute_lot(source.until(seq), lot, Tolerance())
    assert source.facility_reads[0] == DEPTH  # the first lot, rebuilt for every transform
    assert sum(source.facility_reads.values()) > DEPTH * DEPTH // 4


def test_the_walk_answers_what_fresh_walks_answer() -> None:
    source = CountingSource(deep_chain())
    walk = lineage.Recomputation(source, Tolerance())
    for lot, seq in _questions(source):
        assert walk.before(lot, seq) == lineage.recompute_lot(source.until(seq), lot, Tolerance())
    final = walk.lot(f"C{DEPTH}")
    assert final == lineage.recompute_lot(source, f"C{DEPTH}", Tolerance())
    assert final.elements_kg == {"Nd": pytest.approx(100.0 + 10.0 * DEPTH)}
    assert walk.lot("OX").mass_kg == pytest.approx(100_000.0 - 10.0 * DEPTH)


def test_a_lot_asked_for_before_it_exists_is_not_found() -> None:
    walk = lineage.Recomputation(CountingSource(deep_chain()), Tolerance())
    with pytest.raises(NotFound, match="'C5' has no creating event"):
        walk.before("C5", 3)
    with pytest.raises(NotFound, match="'nowhere' has no creating event"):
        walk.lot("nowhere")
