"""Benchmark: `analytics flows` and `analytics concentration` over a large demo ledger.

    python bench/analytics.py [--events 1000000] [--db PATH] [--runs 3] [--recompute]

Builds the demo stream into an unsigned SQLite ledger but its last --append events (not
timed; or reuses --db if it already holds a ledger, upgrading its schema). Then times, with
the CPU time of the process: filling the aggregate cache from the first event (`raretrace
analytics cache --rebuild`: what the first analytics run on a ledger pays); the service calls
the commands make from the filled cache (warm: best of --runs) over the whole ledger, one
quarter and one element; the run after the held-back events are appended (it folds them in);
and with --recompute the full recomputation from the events that the cache replaces.
Target: ≤ 2 s each at 1,000,000 events (2-core machine, SQLite). Recorded in
docs/architecture.md#performance and docs/analytics.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from raretrace.analytics import service
from raretrace.analytics.period import parse_period
from raretrace.analytics.settings import load_settings
from raretrace.demo.generate import write_demo
from raretrace.ledger import service as ledger_service
from raretrace.store.store import Store


def _build(db: str, events: int, work: Path, held_back: int) -> list[str]:
    """Build the ledger of the demo stream but its last ``held_back`` lines (returned)."""
    t0 = time.perf_counter()
    registry_path, events_path = write_demo(work, events)
    ledger_service.init_ledger(db, require_signatures=False, log_dir=work / "log")
    ledger = ledger_service.open_ledger(db)
    ledger_service.load_registry(ledger, registry_path)
    lines = events_path.read_text(encoding="utf-8").splitlines()
    cut = len(lines) - held_back
    report = ledger.ingest(enumerate(lines[:cut], 1))
    ledger.close()
    print(f"built {report.accepted:,} events in {time.perf_counter() - t0:.0f} s at {db}")
    return lines[cut:]


def _append(db: str, lines: list[str]) -> None:
    ledger = ledger_service.open_ledger(db)
    report = ledger.ingest(enumerate(lines, 1))
    ledger.close()
    print(f"appended {report.accepted:,} more events of the stream")


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
    parser.add_argument(
        "--recompute", action="store_true", help="also time the full recomputation once"
    )
    parser.add_argument(
        "--append",
        type=int,
        default=2000,
        help="when building: hold back the stream's last N events, append them after the"
        " warm runs and time the run that folds them in",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="raretrace-bench-analytics-"))
    db = args.db or str(work / "bench.db")
    later: list[str] = []
    if not os.path.exists(db):
        later = _build(db, args.events, work, args.append)
    Store.open(db, access="write").upgrade()  # a ledger built by an older raretrace
    store = Store.open(db, access="read")
    store.require_ready()
    print(f"ledger: {store.size():,} events")
    cpu0, t0 = time.process_time(), time.perf_counter()
    done = service.refresh_cache(store, rebuild=True)
    print(
        f"cache filled from the first event: {done.events:,} material events in {done.commits}"
        f" commits, {time.perf_counter() - t0:.1f} s wall, {time.process_time() - cpu0:.1f} s CPU"
    )
    _report_cache(db)
    everything = parse_period(None, None)
    quarter = parse_period("2025-04-01", "2025-06-30")
    runs = args.runs
    _time("flows (all elements, whole ledger)", lambda: service.flows(store, everything), runs)
    _time("concentration (whole ledger)", lambda: service.concentration(store, everything), runs)
    _time("flows (2025-04-01 to 2025-06-30)", lambda: service.flows(store, quarter), runs)
    _time("flows --element Dy (whole ledger)", lambda: service.flows(store, everything, "Dy"), runs)
    _time(
        "concentration (2025-04-01 to 2025-06-30)",
        lambda: service.concentration(store, quarter),
        runs,
    )
    _time(
        "warnings (as of 2025-12-31)",
        lambda: service.warnings(store, date(2025, 12, 31), load_settings()),
        runs,
    )
    if later:
        _append(db, later)
        _time(f"flows after {len(later):,} new events (folds them)",
              lambda: service.flows(store, everything), 1)  # fmt: skip
    if args.recompute:

        def full_flows() -> object:
            return service.flows(store, everything, recompute=True)

        def full_concentration() -> object:
            return service.concentration(store, everything, recompute=True)

        _time("flows recomputed from the events", full_flows, 1)
        _time("concentration recomputed from the events", full_concentration, 1)
    store.close()


def _report_cache(db: str) -> None:
    """Rows per aggregate table, so the docs can say what a query adds up."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    for table in ("analytics_nodes", "analytics_links", "analytics_outputs", "analytics_lots"):
        counts = dict(conn.execute(
            f"SELECT grain, count(*) FROM {table} GROUP BY grain" if table != "analytics_lots"
            else f"SELECT 'lots', count(*) FROM {table}"
        ).fetchall())  # fmt: skip
        print(f"  {table}: {counts}")
    conn.close()


if __name__ == "__main__":
    main()
