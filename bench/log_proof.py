"""Benchmark the tile log: append rate, and inclusion proof time from tiles on disk.

Builds (or reuses) a tlog-tiles directory of ``--leaves`` synthetic leaves, then times
``inclusion_proof`` from a :class:`TileReader` over random leaves, and its verification.

    PYTHONPATH=src python bench/log_proof.py /var/tmp/raretrace-bench-log
    PYTHONPATH=src python bench/log_proof.py --leaves 1000000 --no-fsync

The directory is kept, so a second run reuses the tree (and appends if it is shorter).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from raretrace.log.merkle import consistency_proof, inclusion_proof, leaf_hash, verify_inclusion
from raretrace.log.tiles import TileReader, TileWriter


def synthetic_leaf(i: int) -> bytes:
    """A small deterministic entry, about the size of an event digest record."""
    return b"raretrace bench event %010d" % i


def _leaves(start: int, stop: int) -> Iterator[bytes]:
    return (synthetic_leaf(i) for i in range(start, stop))


def build(directory: Path, leaves: int, *, fsync: bool, batch: int) -> tuple[float, int]:
    """Append until the log holds ``leaves`` entries; return (seconds, leaves appended)."""
    writer = TileWriter(directory, fsync=fsync)
    start_size = writer.size
    started = time.perf_counter()
    while writer.size < leaves:
        stop = min(leaves, writer.size + batch)
        writer.append(_leaves(writer.size, stop))
        writer.flush()  # one "checkpoint" per batch, as the ledger would do
        rate = (writer.size - start_size) / (time.perf_counter() - started)
        print(f"  {writer.size:>12,} leaves  ({rate:,.0f} leaves/s)", flush=True)
    return time.perf_counter() - started, writer.size - start_size


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered) * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms"


def time_proofs(directory: Path, size: int, count: int, *, fresh_reader: bool) -> None:
    """Time proof generation from the tiles and verification, over random leaves."""
    rng = random.Random(1)
    reader = TileReader(directory, size)
    root = reader.root()
    prove: list[float] = []
    verify: list[float] = []
    for _ in range(count):
        index = rng.randrange(size)
        if fresh_reader:
            reader = TileReader(directory, size)
        t0 = time.perf_counter()
        proof = inclusion_proof(reader, index=index, size=size)
        t1 = time.perf_counter()
        verify_inclusion(
            leaf_hash=leaf_hash(synthetic_leaf(index)),
            index=index,
            size=size,
            proof=proof,
            root=root,
        )
        t2 = time.perf_counter()
        prove.append(t1 - t0)
        verify.append(t2 - t1)
    label = "new reader per proof" if fresh_reader else "one reader, 64-tile cache"
    print(f"inclusion proof from tiles ({label}): {_percentiles(prove)}")
    print(f"inclusion proof verification:              {_percentiles(verify)}")


def time_consistency(directory: Path, size: int, count: int) -> None:
    """Time consistency proof generation from random older sizes to ``size``."""
    rng = random.Random(2)
    reader = TileReader(directory, size)
    samples = []
    for _ in range(count):
        old = rng.randrange(1, size)
        t0 = time.perf_counter()
        consistency_proof(reader, old_size=old, new_size=size)
        samples.append(time.perf_counter() - t0)
    print(f"consistency proof from tiles:              {_percentiles(samples)}")


def main() -> None:
    """Parse arguments, build or reuse the tree, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, help="tile directory (kept)")
    parser.add_argument("--leaves", type=int, default=10_000_000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1_000_000, help="leaves per flush")
    parser.add_argument("--no-fsync", action="store_true", help="skip fsync while building")
    args = parser.parse_args()
    directory = args.directory or Path(tempfile.gettempdir()) / "raretrace-bench-log"
    directory.mkdir(parents=True, exist_ok=True)
    print(f"tile directory: {directory}")
    seconds, appended = build(directory, args.leaves, fsync=not args.no_fsync, batch=args.batch)
    if appended:
        fsync = "without" if args.no_fsync else "with"
        print(
            f"append: {appended:,} leaves in {seconds:.1f} s = {appended / seconds:,.0f} "
            f"leaves/s ({fsync} fsync)"
        )
    else:
        print(f"append: reused the existing tree of {args.leaves:,} leaves")
    size = TileWriter(directory, fsync=False).size
    time_proofs(directory, size, args.proofs, fresh_reader=False)
    time_proofs(directory, size, args.proofs, fresh_reader=True)
    time_consistency(directory, size, args.proofs)


if __name__ == "__main__":
    main()
