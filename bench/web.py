"""Benchmark: the web dashboard's pages (docs/dashboard.md) — per-page p95 server time.

    python bench/web.py [--events 20000] [--db LEDGER] [--requests 30]

Builds a demo ledger of ``--events`` events (or uses ``--db``, which must be a demo ledger:
its council is ``council.asean``), serves it with ``raretrace serve`` on a free 127.0.0.1 port,
signs in as the council, opens each page once (the overview's figures are computed on its
first view after the ledger grows, and that first time is printed separately), then requests
each page ``--requests`` times in turn and prints p50/p95/max of the time from request to the
last byte, measured by the client on the same machine (so it includes the loopback round trip,
well under a millisecond). Target (issue 15): p95 ≤ 300 ms on a 1,000,000-event ledger.
Nothing is asserted: benches print.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "api"))
from service_support import DemoLedger, build_demo, ok, serving


def pages(magnet: str) -> list[str]:
    return ["/ui/", "/ui/registry", "/ui/facilities/MY-LYNAS-LAMP", "/ui/log", "/ui/verify",
            "/ui/lots", f"/ui/lots/{magnet}", f"/ui/lots/{magnet}/check?as_of=2027-01-01",
            "/ui/scenarios"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        if args.db:
            ledger = DemoLedger(str(Path(args.db).resolve()), folder)
        else:
            ledger = build_demo(folder, str(folder / "ledger.db"), events=args.events)
            print(f"demo ledger of {args.events:,} events built in"
                  f" {time.perf_counter() - started:,.0f} s")  # fmt: skip
        size = ledger.size()
        token = ledger.token("council.asean", "council")
        out = ok("--db", ledger.db, "lots", "--form", "magnet", "--limit", "1", "--json",
                 cwd=folder)  # fmt: skip
        magnet = out.splitlines()[0].split('"lot": "')[1].split('"')[0]
        with serving(ledger) as server, httpx.Client(base_url=server.url, timeout=600) as http:
            http.post("/ui/signin", data={"token": token})
            for path in pages(magnet):
                t0 = time.perf_counter()
                status = http.get(path).status_code
                print(f"first view {path}: {1000 * (time.perf_counter() - t0):,.0f} ms ({status})")
            times: dict[str, list[float]] = {p: [] for p in pages(magnet)}
            for _ in range(args.requests):
                for path in times:
                    t0 = time.perf_counter()
                    http.get(path).raise_for_status()
                    times[path].append(1000 * (time.perf_counter() - t0))
        print(f"\nledger of {size:,} events; {args.requests} requests per page, one at a time")
        print(f"{'page':<58} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for path, ms in times.items():
            p95 = statistics.quantiles(ms, n=20, method="inclusive")[18] if len(ms) >= 2 else ms[0]
            print(f"{path:<58} {statistics.median(ms):8.1f} {p95:8.1f} {max(ms):8.1f}")


if __name__ == "__main__":
    main()
