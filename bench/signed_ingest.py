"""Benchmark: signed-event ingest rate against this machine's raw Ed25519 verify rate.

    python bench/signed_ingest.py [--events 100000] [--db PATH_OR_URL]

Prints, in one run: the raw single-core Ed25519 verify rate (cryptography/OpenSSL, on event-
sized messages), the rate of ingesting the signed demo stream into a ledger that requires
signatures (each event verified, applied, stored and appended to the Merkle log with a signed
checkpoint per batch), and their ratio. Target: ratio ≥ 1.0 (verification spread over both
cores); below 0.5 is a defect. Generation and signing of the stream are not timed.

The raw rate varies by a quarter from minute to minute on a shared machine, so it is sampled
three times before and three times after the ingest, and the ratio uses the best sample: the
ratio is never flattered by a slow moment of the raw measurement.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from raretrace.demo.signing import write_signed_demo
from raretrace.ledger import service


def raw_verify_rate(sample: bytes, n: int = 10_000) -> float:
    """Single-core Ed25519 verifications per second of ``sample``-sized messages."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    signature = key.sign(sample)
    start = time.perf_counter()
    for _ in range(n):
        public.verify(signature, sample)
    return n / (time.perf_counter() - start)


def cpu_seconds() -> tuple[float, float]:
    """CPU time (user + system) of this process and of its ended children (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def cpu_line(before: tuple[float, float], after: tuple[float, float], events: int) -> str:
    """CPU per event in the main process and in the workers: steadier than rates here,
    since a busy neighbour slows the wall clock far more than it changes the CPU spent."""
    main_us = (after[0] - before[0]) / events * 1e6
    workers_us = (after[1] - before[1]) / events * 1e6
    return (
        f"CPU_US_PER_EVENT main {main_us:.0f} + workers {workers_us:.0f}"
        f" = {main_us + workers_us:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--db", help="ledger location (default: a SQLite file in a temp dir)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="raretrace-signed-bench-"))
    t0 = time.perf_counter()
    registry_path, events_path = write_signed_demo(work, args.events, seed=2025)
    print(f"generated and signed {args.events:,} events in {time.perf_counter() - t0:.1f} s")
    with events_path.open() as fh:
        sample = json.dumps(json.loads(fh.readline())).encode()

    before = [raw_verify_rate(sample) for _ in range(3)]
    db = args.db or str(work / "bench.db")
    service.init_ledger(db, log_dir=work / "log")
    ledger = service.open_ledger(db)
    service.load_registry(ledger, registry_path)
    cpu_before = cpu_seconds()
    start = time.perf_counter()
    report = ledger.ingest(service.numbered_lines(events_path))
    elapsed = time.perf_counter() - start
    ledger.close()  # ends the workers, so their CPU time is counted
    cpu_after = cpu_seconds()
    assert report.rejected == 0, report.rejections[:3]
    ingest_rate = report.accepted / elapsed
    samples = before + [raw_verify_rate(sample) for _ in range(3)]
    verify_rate = max(samples)
    print(f"RAW_VERIFY_PER_S_ONE_CORE {verify_rate:,.0f} (best of "
          + ", ".join(f"{r:,.0f}" for r in samples) + ")")  # fmt: skip
    print(f"SIGNED_INGEST_EVENTS_PER_S {ingest_rate:,.0f}", end=" ")
    print(f"({report.accepted:,} events in {elapsed:.1f} s)")
    print(f"RATIO {ingest_rate / verify_rate:.2f} (target >= 1.0; < 0.5 is a defect)")
    print(cpu_line(cpu_before, cpu_after, report.accepted), end="; ")
    print(f"one raw verification {1e6 / verify_rate:.0f}")


if __name__ == "__main__":
    main()
