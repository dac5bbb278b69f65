"""Benchmark: `analytics flows` and `analytics concentration` over a large demo ledger.

    python bench/analytics.py [--events 1000000] [--db PATH] [--runs 3]

Builds the demo stream into an unsigned SQLite ledger (not timed; or reuses --db if it
already holds a ledger), then times the two service calls the commands make, over the whole
ledger (open period), best of --runs, with the CPU time of the process. Target: ≤ 2 s each at
1,000,000 events (2-core machine, SQLite). Recorded in docs/architecture.md#performance.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from raretrace.analytics import reading, service
from raretrace.analytics.period import parse_period
from raretrace.demo.generate import write_demo
from raretrace.ledger import service as ledger_service
from raretrace.store.store import Store


def _build(db: str, events: int, work: Path) -> None:
    t0 = time.perf_counter()
    registry_path, events_path = write_demo(work, events)
    ledger_service.init_ledger(db, require_signatures=False, log_dir=work / "log")
    ledger = ledger_service.open_ledger(db)
    ledger_service.load_registry(ledger, registry_path)
    with events_path.open(encoding="utf-8") as fh:
        report = ledger.ingest(enumerate(fh, 1))
    ledger.close()
    print(f"built {report.accepted:,} events in {time.perf_counter() - t0:.0f} s at {db}")


def _time(label: str, call: object, runs: int) -> None:
    best_wall = best_cpu = float("inf")
    for _ in range(runs):
        cpu0, t0 = time.process_time(), time.perf_counter()
        call()  # type: ignore[operator]
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - cpu0)
    print(f"{label}: {best_wall:.2f} s wall, {best_cpu:.2f} s CPU (best of {runs})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", help="a SQLite ledger to reuse or build (default: a temp dir)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="raretrace-bench-analytics-"))
    db = args.db or str(work / "bench.db")
    if not os.path.exists(db):
        _build(db, args.events, work)
    store = Store.open(db, access="read")
    store.require_ready()
    size = store.size()
    flow_events = sum(1 for _ in reading.events(store, reading.FLOW_TYPES))
    print(f"ledger: {size:,} events, {flow_events:,} of them material events")
    everything = parse_period(None, None)
    _time("flows (all elements, whole ledger)", lambda: service.flows(store, everything), args.runs)
    _time(
        "concentration (whole ledger)", lambda: service.concentration(store, everything), args.runs
    )
    _time(
        "events read and parsed alone",
        lambda: sum(1 for _ in reading.events(store, reading.FLOW_TYPES)),
        args.runs,
    )
    store.close()


if __name__ == "__main__":
    main()
