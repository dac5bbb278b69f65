"""Benchmark: ingest rate of the demo stream, trace latency, and memory against ledger size.

    python bench/ingest.py [--events 1000000] [--db PATH_OR_URL] [--batch 2000]

Prints events/s for ingesting the generated demo stream from a JSON Lines file (generation
and file writing are not timed), trace latency p50/p99 over random lots of the finished
ledger, and the process's peak resident memory sampled as the ledger grows: flat memory means
the samples stay level while the event count climbs. Targets (2-core machine, SQLite):
≥ 20,000 events/s, trace p50 ≤ 2 ms, memory flat in ledger size.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from signed_ingest import cpu_line, cpu_seconds  # bench/ is on the path when run as a script

from raretrace.demo.generate import write_demo
from raretrace.ledger import service
from raretrace.ledger.append import IngestReport
from raretrace.store.store import Store


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", help="ledger location (default: a SQLite file in a temp dir)")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--traces", type=int, default=2000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="raretrace-bench-"))
    t0 = time.perf_counter()
    registry_path, events_path = write_demo(work, args.events)
    print(f"generated {args.events:,} events in {time.perf_counter() - t0:.1f} s "
          f"({events_path.stat().st_size / 2**20:,.0f} MiB) at {work}")  # fmt: skip

    db = args.db or str(work / "bench.db")
    # The ledger core's rate: events are not signed here (bench/signed_ingest.py measures the
    # signed path); rules, provenance, storage and the Merkle log all run.
    service.init_ledger(db, require_signatures=False, log_dir=work / "log")
    ledger = service.open_ledger(db)
    service.load_registry(ledger, registry_path)

    samples: list[tuple[int, float]] = []
    next_sample = max(args.events // 10, 1)

    def sample(report: IngestReport) -> None:
        nonlocal next_sample
        done = report.accepted + report.rejected + report.duplicates
        if done >= next_sample:
            samples.append((done, _rss_mib()))
            next_sample += max(args.events // 10, 1)
        report.rejections.clear()

    rss_before = _rss_mib()
    cpu_before = cpu_seconds()
    t0 = time.perf_counter()
    report = ledger.ingest(
        service.numbered_lines(events_path), batch_size=args.batch, on_batch=sample
    )
    elapsed = time.perf_counter() - t0
    ledger.close()  # ends the workers, so their CPU time is counted
    cpu_after = cpu_seconds()
    rss_ingest = _rss_mib()
    print(f"ingest: {report.accepted:,} accepted, {report.rejected:,} rejected, "
          f"{report.discrepancies:,} discrepancies in {elapsed:.1f} s")  # fmt: skip
    print(f"INGEST_EVENTS_PER_S {report.accepted / elapsed:,.0f}")
    print(cpu_line(cpu_before, cpu_after, report.accepted))
    print(
        f"memory: peak RSS {rss_before:,.0f} MiB before ingest; by events ingested: "
        + ", ".join(f"{n:,}: {m:,.0f} MiB" for n, m in samples)
    )

    store = Store.open(db)
    ids = [lot.id for lot in store.lots(limit=None)]
    rng = random.Random(7)
    picks = [rng.choice(ids) for _ in range(args.traces)]
    timings = []
    for lot_id in picks:
        t = time.perf_counter()
        json.dumps(service.trace(store, lot_id))
        timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(f"trace over {len(ids):,} lots: p50 {statistics.median(timings):.3f} ms, "
          f"p99 {p99:.3f} ms")  # fmt: skip
    print(
        f"PEAK_RSS_MIB {rss_ingest:,.0f} through the ingest ({_rss_mib():,.0f} after the trace"
        " timing, which holds every lot id in this script)"
    )


if __name__ == "__main__":
    main()
