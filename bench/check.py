"""Benchmark: `raretrace check` of magnet lots (all packs) on a demo ledger, the routes per
element per lot, and the demo stream's ingest rate with routes.

    python bench/check.py [--events 1000000] [--checks 500] [--db PATH] [--profile]

Builds an unsigned demo ledger of ``--events`` events (the rate is printed as
INGEST_EVENTS_PER_S with the CPU per event, to compare with bench/ingest.py's figure in
docs/architecture.md), or reuses ``--db`` if it already holds a ledger (then nothing is
ingested). Then prints:

- ROUTES_PER_ELEMENT: over every lot and every element it holds, how many routes its mass
  took (p50, p99, max), and the lot with the most;
- CHECK_MS: `check` of random magnet lots, all packs, as of 2027-02-01 (what the command
  runs: read the registry, walk the lineage into the evidence, run the packs), p50 and p99,
  with the same split into registry / evidence / packs, and the CPU time per check (steadier
  than wall time on a shared machine). Target: p50 <= 5 ms.

``--profile`` adds the top functions (cProfile, cumulative) of 50 checks. Benchmarks print;
tests never assert timings.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from signed_ingest import cpu_line, cpu_seconds  # bench/ is on the path when run as a script

from raretrace.compliance.adapter import lot_evidence
from raretrace.compliance.context import CheckContext
from raretrace.compliance.packs import run_packs
from raretrace.compliance.service import check_lot
from raretrace.demo.generate import write_demo
from raretrace.ledger import service
from raretrace.store.store import Store

AS_OF = date(2027, 2, 1)


def _build(events: int, work: Path, db: str, batch: int) -> None:
    t0 = time.perf_counter()
    registry_path, events_path = write_demo(work, events)
    print(f"generated {events:,} events in {time.perf_counter() - t0:.1f} s at {work}")
    service.init_ledger(db, require_signatures=False, log_dir=work / "log")
    ledger = service.open_ledger(db)
    service.load_registry(ledger, registry_path)
    cpu_before = cpu_seconds()
    t0 = time.perf_counter()
    report = ledger.ingest(service.numbered_lines(events_path), batch_size=batch)
    elapsed = time.perf_counter() - t0
    ledger.close()  # ends the workers, so their CPU time is counted
    print(f"ingest: {report.accepted:,} accepted, {report.rejected:,} rejected in {elapsed:.1f} s")
    print(f"INGEST_EVENTS_PER_S {report.accepted / elapsed:,.0f}")
    print(cpu_line(cpu_before, cpu_seconds(), report.accepted))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q) - 1))]


def _routes(store: Store) -> None:
    t0 = time.perf_counter()
    counts: list[float] = []
    most = (0, "", "")
    for lot in store.lots(limit=None):
        for element, routes in lot.provenance.routes.items():
            counts.append(len(routes))
            if len(routes) > most[0]:
                most = (len(routes), lot.id, element)
    print(
        f"ROUTES_PER_ELEMENT over {len(counts):,} (lot, element) pairs: p50"
        f" {statistics.median(counts):.0f}, p99 {_pct(counts, 0.99):.0f}, max {most[0]:,}"
        f" ({most[2]} of lot {most[1]}); read in {time.perf_counter() - t0:.1f} s"
    )


def _checks(store: Store, n: int) -> list[str]:
    magnets = [lot.id for lot in store.lots(form="magnet", limit=None) if lot.mass_kg > 0]
    picks = random.Random(7).choices(magnets, k=n)
    check_lot(store, picks[0], as_of=AS_OF)  # warm: facts files, imports
    total, cpu, parts = [], [], {"registry": [], "evidence": [], "packs": []}
    for lot_id in picks:
        t0, c0 = time.perf_counter(), time.process_time()
        check_lot(store, lot_id, as_of=AS_OF)
        total.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    for lot_id in picks[: min(n, 200)]:  # the same work, step by step
        t0 = time.perf_counter()
        registry = store.registry()
        t1 = time.perf_counter()
        evidence = lot_evidence(store, lot_id, registry)
        t2 = time.perf_counter()
        run_packs(CheckContext(evidence, registry, AS_OF))
        t3 = time.perf_counter()
        for key, spent in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            parts[key].append(spent * 1000)
    split = ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in parts.items())
    print(
        f"CHECK_MS over {n:,} magnet lots (of {len(magnets):,}), all packs, as of {AS_OF}:"
        f" p50 {statistics.median(total):.2f}, p99 {_pct(total, 0.99):.2f}, max"
        f" {max(total):.2f} (medians: {split}); CPU p50 {statistics.median(cpu):.2f},"
        f" p99 {_pct(cpu, 0.99):.2f}"
    )
    return picks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--db", help="a ledger to reuse, or where to build one")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="raretrace-bench-check-"))
    db = args.db or str(work / "bench.db")
    if not Path(db).exists():
        _build(args.events, work, db, args.batch)
    store = Store.open(db, access="read")
    print(f"ledger {db}: {store.size():,} events")
    _routes(store)
    picks = _checks(store, args.checks)
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for lot_id in picks[:50]:
            check_lot(store, lot_id, as_of=AS_OF)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    store.close()


if __name__ == "__main__":
    main()
