"""Benchmark: ``raretrace audit`` rate on a signed demo ledger, beside the raw Ed25519 rate.

    python bench/audit.py [--events 200000] [--db PATH] [--workers N]

Builds the signed demo ledger with ``raretrace demo --events N --db PATH`` unless PATH already
holds one (building is not timed), audits it, and prints the audit's events/s, the raw
single-core Ed25519 verify rate of this machine (``cryptography``, the library the ledger
uses), the ceiling that rate puts on any audit that checks every signature on this machine's
cores, and the audit's ratio to it. Target (issue 3, 2-core machine): audit ≥ 20,000 events/s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bench/ is on the path when run as a script
from signed_ingest import cpu_line, cpu_seconds, raw_verify_rate

from raretrace.ledger.audit import audit_ledger
from raretrace.store.store import Store


def demo_ledger(db: Path, events: int) -> None:
    if db.exists():
        print(f"reusing the ledger at {db}")
        return
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "raretrace", "demo", "--events", str(events), "--db", str(db)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"raretrace demo failed: {done.stderr}")
    print(
        f"built a signed demo ledger of {events:,} events in {time.perf_counter() - started:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--db", type=Path, help="demo ledger (default: a new one in a temp dir)")
    parser.add_argument("--workers", type=int, default=None, help="signature worker processes")
    args = parser.parse_args()
    db = args.db or Path(tempfile.mkdtemp(prefix="raretrace-audit-bench-")) / "demo.db"
    demo_ledger(db, args.events)

    cpu_before = cpu_seconds()
    started = time.perf_counter()
    report = audit_ledger(Store.open(str(db)), workers=args.workers)  # ends its workers
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds()
    print(
        f"audit: {report.events:,} events, {report.lots:,} lots, {report.checkpoints:,}"
        f" checkpoints, {report.tiles:,} tiles, {report.lineage_lots} lineages;"
        f" {report.total_findings} differences; {elapsed:.1f} s in all"
    )
    rate = report.events / elapsed
    raw = max(raw_verify_rate(b"x" * 500) for _ in range(3))  # best of 3: see signed_ingest
    cores = os.cpu_count() or 1
    print(f"AUDIT_EVENTS_PER_S {rate:,.0f}")
    print(f"RAW_ED25519_VERIFY_PER_S {raw:,.0f} (one core)")
    print(
        f"ceiling for checking every signature on {cores} cores: {raw * cores:,.0f} events/s;"
        f" audit / raw single-core rate = {rate / raw:.2f}"
    )
    print(cpu_line(cpu_before, cpu_after, report.events))


if __name__ == "__main__":
    main()
