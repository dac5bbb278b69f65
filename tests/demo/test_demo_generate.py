"""The demo event stream: every event obeys the ledger rules, deterministically, bounded."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from demo_checker import Replay

from raretrace.demo.generate import (
    DISCREPANCY_EVERY,
    MIN_EVENTS,
    EventStream,
    generate_events,
    write_demo,
)
from raretrace.demo.world import load_world, registry

N = 20_000


def _digest(events: Iterable[dict[str, Any]]) -> str:
    sha = hashlib.sha256()
    for event in events:
        sha.update(json.dumps(event, separators=(",", ":")).encode())
        sha.update(b"\n")
    return sha.hexdigest()


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return list(generate_events(N))


@pytest.fixture(scope="module")
def replay(events: list[dict[str, Any]]) -> Replay:
    return Replay(registry(load_world())).run(events)


def test_exact_count_and_ids(events: list[dict[str, Any]]) -> None:
    assert len(events) == N
    assert events[0]["id"] == "E0000001" and events[-1]["id"] == f"E{N:07d}"


def test_times_span_2025_in_order(events: list[dict[str, Any]]) -> None:
    times = [e["time"] for e in events]
    assert times == sorted(times)
    assert times[0].startswith("2025-01-01") and times[-1].startswith("2025-12-31")


@pytest.mark.parametrize("n", [MIN_EVENTS, 51, 997])
def test_small_streams_span_the_year_and_obey_the_rules(n: int) -> None:
    events = list(generate_events(n, seed=7))
    assert len(events) == n
    assert events[-1]["time"] >= "2025-12-"
    Replay(registry(load_world())).run(events)


def test_too_few_events_is_refused() -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_EVENTS}"):
        generate_events(MIN_EVENTS - 1)


def test_every_event_obeys_the_ledger_rules(replay: Replay) -> None:
    # Replay asserts each rule as it goes; getting here means all N events were accepted.
    assert sum(v for k, v in replay.counts.items() if k.startswith(("transform", "ship"))) > N / 2
    assert replay.counts["max_gap_ppm"] <= 1  # conservation is exact, not just in tolerance


def test_every_kind_of_event_appears(replay: Replay) -> None:
    kinds = {"extract", "ship", "receive", "adjust", "write_offs", "claim"} | {
        f"transform:{p}"
        for p in ("separation", "reduction", "alloying", "magnet", "recycling", "split", "merge",
                  "other")
    }  # fmt: skip
    missing = {k for k in kinds if replay.counts[k] == 0}
    assert not missing


def test_discrepancies_at_the_intended_rate(replay: Replay) -> None:
    shipments = replay.counts["shipments"]
    rate = len(replay.discrepancies) / shipments
    assert 0.6 / DISCREPANCY_EVERY <= rate <= 1.2 / DISCREPANCY_EVERY
    losses = [d for d in replay.discrepancies if d < 0]
    gains = [d for d in replay.discrepancies if d > 0]
    assert losses and gains and len(gains) < len(losses)
    assert all(-0.031 <= d <= -0.0099 for d in losses)


def test_flows_cover_the_world(events: list[dict[str, Any]]) -> None:
    sites = Counter(e.get("facility") or e.get("to") for e in events)
    for facility in ("AU-LYNAS-MTWELD", "AU-LYNAS-KAL", "MY-LYNAS-LAMP", "MY-LYNAS-HRE1",
                     "MY-JSLINK-KUANTAN", "VN-SMMV-HAIPHONG", "VN-VTRE-HANOI", "VN-DONGPAO",
                     "VN-YENPHU", "VN-YENBAI-SEP", "MM-KACHIN-SR1", "CN-GANZHOU-SEP", "CN-BAYANOBO",
                     "CN-BAOTOU-SEP", "CN-BAOTOU-MAGNET", "US-MP-MTNPASS", "US-MP-INDEPENDENCE",
                     "MY-RECYCLE-KUANTAN", "PORT-MY-KUANTAN", "PORT-VN-HAIPHONG",
                     "PORT-VN-DANANG"):  # fmt: skip
        assert sites[facility] > 0, facility


def _outputs(events: list[dict[str, Any]], form: str) -> list[dict[str, Any]]:
    return [o for e in events for o in e.get("outputs", ()) if o["form"] == form]


def test_residues_keep_thorium(events: list[dict[str, Any]]) -> None:
    residues = _outputs(events, "residue")
    assert residues and all("Th" in r["elements_kg"] for r in residues)
    for event in events:
        if event.get("process") == "separation":
            products = [o for o in event["outputs"] if o["form"] != "residue"]
            assert not any("Th" in o["elements_kg"] or "U" in o["elements_kg"] for o in products)


def test_magnets_follow_the_reference_composition(events: list[dict[str, Any]]) -> None:
    magnets = _outputs(events, "magnet")
    assert magnets
    for magnet in magnets:
        elements, mass = magnet["elements_kg"], magnet["mass_kg"]
        rare_earths = sum(v for k, v in elements.items() if k != "other")
        assert 0.285 <= rare_earths / mass <= 0.33
        assert elements["other"] / mass >= 0.66  # Fe, B and additives
    dy_pct = [100 * m["elements_kg"].get("Dy", 0) / m["mass_kg"] for m in magnets]
    assert max(dy_pct) <= 1.3 and sum(1 for d in dy_pct if d >= 0.5) > len(dy_pct) / 4


def test_metal_has_no_other(events: list[dict[str, Any]]) -> None:
    assert all("other" not in m["elements_kg"] for m in _outputs(events, "metal"))


def test_deterministic_for_a_seed() -> None:
    first = _digest(islice(generate_events(N), 5_000))
    assert first == _digest(islice(generate_events(N), 5_000))
    assert first != _digest(islice(generate_events(N, seed=1), 5_000))


def test_inventory_stays_bounded() -> None:
    peaks = []
    for n in (5_000, 50_000):
        stream = EventStream(n)
        for _ in stream:
            pass
        peaks.append(stream.peak_live_lots)
        assert stream.live_lots <= stream.peak_live_lots
    assert max(peaks) < 400
    assert peaks[1] < 2 * peaks[0]  # ten times the events, not ten times the inventory


def test_write_demo(tmp_path: Path) -> None:
    registry_path, events_path = write_demo(tmp_path / "demo", 500)
    assert json.loads(registry_path.read_text()) == registry(load_world())
    lines = events_path.read_text().splitlines()
    assert len(lines) == 500 and ": " not in lines[0]
    assert [json.loads(line) for line in lines] == list(generate_events(500))
