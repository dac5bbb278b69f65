"""Benchmark: the web dashboard's pages (docs/dashboard.md) — per-page p95 server time.

    python bench/web.py [--events 20000] [--db LEDGER] [--requests 30] [--deep-lot LOT]

Builds a demo ledger of ``--events`` events (or uses ``--db``, a demo ledger: ``bench/
analytics.py``'s 10^6-event one will do; its council is ``council.asean``), serves it with
``raretrace serve`` on a free 127.0.0.1 port, signs in as the council, an operator and an auditor,
waits for the overview's first figures (printed: what the first view after a start waits
for, shown as progress), opens each page once, then requests each ``--requests`` times in
turn and prints p50/p95/max of the server's time (its ``Server-Timing`` header: request to
response, the page rendered) and the p95 the client saw (loopback included). The lot pages
are asked for a magnet and for the lot with the deepest lineage among a sample (or
``--deep-lot``). Target (issue 15): p95 ≤ 300 ms server time on a 1,000,000-event ledger.
Nothing is asserted: benches print.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "api"))
from service_support import DemoLedger, build_demo, ok, serving


def pages(magnet: str, deep: str, after: str) -> list[tuple[str, str]]:
    """(who, path) of every page the bench times."""
    council = [
        "/ui/", "/ui/registry", "/ui/facilities/MY-LYNAS-LAMP", "/ui/log", "/ui/verify",
        "/ui/lots", f"/ui/lots?after={after}", "/ui/lots?form=magnet",
        "/ui/lots?facility=MY-LYNAS-LAMP", "/ui/lots?status=active",
        f"/ui/lots/{magnet}", f"/ui/lots/{magnet}/check?as_of=2027-01-01",
        f"/ui/lots/{deep}", f"/ui/lots/{deep}/events?skip=500",
        f"/ui/lots/{deep}/check?as_of=2027-01-01", "/ui/scenarios", "/ui/licences",
        "/ui/agreements", "/ui/disputes",
    ]  # fmt: skip
    scoped = [("operator", "/ui/"), ("operator", "/ui/lots"), ("operator", "/ui/lots?form=magnet"),
              ("operator", "/ui/facilities/MY-LYNAS-LAMP"), ("auditor", "/ui/lots"),
              ("auditor", "/ui/lots?status=active"), ("auditor", "/ui/registry")]  # fmt: skip
    return [("council", p) for p in council] + scoped


def _deepest(ledger: DemoLedger, folder: Path, sample: int = 60) -> str:
    """The lot with the most lineage events among a sample of late magnets and alloys."""
    from raretrace.service.access import Principal
    from raretrace.service.dashboard import lineage_page
    from raretrace.service.ledgers import open_store

    store = open_store(ledger.db)
    council = Principal("council", "council.asean")
    best, most = "", -1
    try:
        for form in ("alloy", "metal", "magnet"):
            out = ok("--db", ledger.db, "lots", "--form", form, "--limit", str(sample), "--json",
                     cwd=folder)  # fmt: skip
            for line in out.splitlines():
                lot = json.loads(line)["lot"]
                found = lineage_page(store, council, lot, skip=0, take=200)
                size = len(found.events) + (1000 if found.more else 0)
                if size > most:
                    best, most = lot, size
    finally:
        store.close()
    return best


def _server_ms(response: httpx.Response) -> float:
    timing = response.headers.get("server-timing", "")
    return float(timing.split("dur=", 1)[1]) if "dur=" in timing else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--deep-lot", default=None)
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
        tokens = {"council": ledger.token("council.asean", "council"),
                  "operator": ledger.token("lynas-my", "operator"),
                  "auditor": ledger.token("sgs", "auditor")}  # fmt: skip
        out = ok("--db", ledger.db, "lots", "--form", "magnet", "--limit", "2", "--json",
                 cwd=folder)  # fmt: skip
        first_two = [json.loads(line)["lot"] for line in out.splitlines()]
        deep = args.deep_lot or _deepest(ledger, folder)
        todo = pages(first_two[0], deep, first_two[-1])
        with serving(ledger) as server:
            clients = {who: httpx.Client(base_url=server.url, timeout=600) for who in tokens}
            for who, client in clients.items():
                client.post("/ui/signin", data={"token": tokens[who]})
            t0 = time.perf_counter()
            while clients["council"].get("/ui/overview/ready").status_code == 204:
                time.sleep(0.2)
            print(f"the overview's first figures: {time.perf_counter() - t0:,.1f} s after the"
                  " first view (shown as progress meanwhile)")  # fmt: skip
            for who, path in todo:
                t0 = time.perf_counter()
                status = clients[who].get(path).status_code
                print(f"first view {who} {path}: {1000 * (time.perf_counter() - t0):,.0f} ms"
                      f" ({status})")  # fmt: skip
            server_ms: dict[tuple[str, str], list[float]] = {p: [] for p in todo}
            client_ms: dict[tuple[str, str], list[float]] = {p: [] for p in todo}
            for _ in range(args.requests):
                for who, path in todo:
                    t0 = time.perf_counter()
                    response = clients[who].get(path)
                    response.raise_for_status()
                    client_ms[(who, path)].append(1000 * (time.perf_counter() - t0))
                    server_ms[(who, path)].append(_server_ms(response))
        print(f"\nledger of {size:,} events; {args.requests} requests per page, one at a time;"
              f" deep lot {deep}")  # fmt: skip
        print(
            f"{'who':<9}{'page':<62} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'client p95':>10}"
        )
        for key, ms in server_ms.items():
            print(f"{key[0]:<9}{key[1][:61]:<62} {statistics.median(ms):7.1f} {_p95(ms):7.1f}"
                  f" {max(ms):7.1f} {_p95(client_ms[key]):10.1f}")  # fmt: skip


def _p95(ms: list[float]) -> float:
    return statistics.quantiles(ms, n=20, method="inclusive")[18] if len(ms) >= 2 else ms[0]


if __name__ == "__main__":
    main()
