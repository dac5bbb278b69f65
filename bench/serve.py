"""Benchmark: `raretrace serve --workers 2` — trace reads and event submissions over HTTP.

    python bench/serve.py [--events 5000] [--read-events 20000] [--seconds 20]
                          [--concurrency 32] [--single 1500] [--read-db LEDGER]
                          [--part all|reads|submissions]

Prints, in one run on this machine:

- **Trace reads**: a signed demo ledger (``raretrace demo``) served by ``raretrace serve
  --workers 2`` on a free 127.0.0.1 port; ``--concurrency`` aiohttp clients read
  ``GET /v1/lots/{lot}`` (``trace --json``) with a council token over random lots for
  ``--seconds`` after a short warm-up: reads/s, p50/p99 latency (target ≥ 1,000 reads/s with
  p99 ≤ 50 ms). An operator token's scoped reads are measured the same way, shorter.
  ``--read-db`` serves an existing demo ledger instead (the same one before and after a
  change; note that a process keeps the views of lots it has read, so a second run's server
  starts cold again but the ledger's pages are warm in the OS cache).
- **Submissions**: the demo's signed event stream (``demo --write``) replayed into fresh ledgers
  that hold only its registry: ``raretrace ingest`` of the stream (the CLI rate, process start
  included), ``POST /v1/events/batch`` (each run of consecutive events by one actor is one
  batch under that actor's token, sent in stream order, since a receipt needs its shipment
  first), ``POST /v1/events`` one at a time (the first ``--single`` events), and ``POST
  /v1/events`` from ``--concurrency`` clients at once (many writers: each event is sent as
  soon as every earlier event that names one of its lots has been answered, so the ledger
  ends the same as after ``ingest``). Rates and the ratio to ingest (target: submissions ≥
  50% of ingest).

Generation and signing of the demo, ledger set-up and token issue are not timed. Nothing is
asserted: benches print.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp

from raretrace.service.ledgers import open_store
from raretrace.service.tokens import issue


def run_cli(*args: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RARETRACE_")}
    done = subprocess.run(
        [sys.executable, "-m", "raretrace", *args], cwd=cwd, env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"raretrace {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def tokens(db: str, who: list[tuple[str, str]]) -> dict[str, str]:
    """Bearer tokens (participant -> token) issued through the service function the CLI uses."""
    store = open_store(db, write=True)
    try:
        return {p: issue(store, participant=p, role=r, expires=None).bearer for p, r in who}
    finally:
        store.close()


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by process ``root`` and its descendants (the
    Uvicorn supervisor and its workers), from /proc."""
    parent, cpu = {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(name)] = int(fields[1])
            cpu[int(name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {root}, [root]
    while frontier:
        kids = [c for c, p in parent.items() if p == frontier[-1]]
        frontier.pop()
        tree.update(kids)
        frontier.extend(kids)
    return sum(cpu.get(p, 0.0) for p in tree)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


#: The process id of the server ``serving`` runs now (for its CPU time).
SERVER: dict[str, int] = {}


@contextmanager
def serving(db: str, cwd: Path, workers: int = 2) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RARETRACE_")}
    log = (cwd / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "raretrace", "--db", db, "serve", "--port", str(port),
         "--workers", str(workers)],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    SERVER["pid"] = process.pid
    try:
        asyncio.run(_wait_ready(url, process))
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit("serve exited before it was ready")
            try:
                async with session.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("serve did not come up in 120 s")


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def read_load(
    url: str, token: str, lots: list[str], seconds: float, concurrency: int, warmup: float
) -> tuple[int, int, list[float], float]:
    """(ok, failed, latencies in s of the timed window, window length) of trace reads; the
    server's CPU time per read (warm-up included) is printed."""
    cpu0 = tree_cpu(SERVER["pid"])
    latencies: list[float] = []
    counts = {"ok": 0, "failed": 0, "all": 0}
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    rng = random.Random(7)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        start = time.perf_counter()
        measure_from = start + warmup
        stop = measure_from + seconds

        async def client() -> None:
            while True:
                lot = rng.choice(lots)
                t0 = time.perf_counter()
                if t0 >= stop:
                    return
                async with session.get(f"{url}/v1/lots/{lot}") as r:
                    await r.read()
                    status = r.status
                t1 = time.perf_counter()
                counts["all"] += 1
                if t0 >= measure_from:
                    latencies.append(t1 - t0)
                    counts["ok" if status == 200 else "failed"] += 1

        await asyncio.gather(*(client() for _ in range(concurrency)))
        window = time.perf_counter() - measure_from
    cpu = tree_cpu(SERVER["pid"]) - cpu0
    print(f"SERVER_CPU {cpu / max(counts['all'], 1) * 1e3:.2f} ms a read ({counts['all']:,} reads)")
    return counts["ok"], counts["failed"], sorted(latencies), window


def print_reads(label: str, result: tuple[int, int, list[float], float], conc: int) -> None:
    ok, failed, lat, window = result
    print(
        f"{label} {ok / window:,.0f} reads/s ({ok:,} ok, {failed} failed, {window:.1f} s, "
        f"concurrency {conc}); p50 {percentile(lat, 0.5) * 1e3:.1f} ms, "
        f"p99 {percentile(lat, 0.99) * 1e3:.1f} ms, max {lat[-1] * 1e3 if lat else 0:.1f} ms"
    )


def print_cpu(label: str, seconds: float, events: int) -> None:
    print(f"SERVER_CPU {label}: {seconds / max(events, 1) * 1e3:.2f} ms an event")


def actor_runs(lines: list[str]) -> list[tuple[str, list[str]]]:
    """The stream cut into runs of consecutive events by one actor, in order."""
    runs: list[tuple[str, list[str]]] = []
    for line in lines:
        actor = json.loads(line)["actor"]
        if runs and runs[-1][0] == actor:
            runs[-1][1].append(line)
        else:
            runs.append((actor, [line]))
    return runs


async def submit_batches(url: str, toks: dict[str, str], runs: list[tuple[str, list[str]]]
                         ) -> tuple[int, int, float]:  # fmt: skip
    accepted = rejected = 0
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        for actor, run in runs:
            body = ("\n".join(run) + "\n").encode()
            headers = {"Authorization": f"Bearer {toks[actor]}",
                       "Content-Type": "application/x-ndjson"}  # fmt: skip
            async with session.post(f"{url}/v1/events/batch", data=body, headers=headers) as r:
                answer = (await r.read()).decode().strip().splitlines()
            summary = json.loads(answer[-1]).get("summary", {}) if answer else {}
            accepted += summary.get("accepted", 0)
            rejected += summary.get("rejected", len(run) if r.status != 200 else 0)
        return accepted, rejected, time.perf_counter() - start


async def submit_single(url: str, toks: dict[str, str], lines: list[str]
                        ) -> tuple[int, int, float]:  # fmt: skip
    accepted = rejected = 0
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        for line in lines:
            actor = json.loads(line)["actor"]
            headers = {"Authorization": f"Bearer {toks[actor]}",
                       "Content-Type": "application/json"}  # fmt: skip
            async with session.post(f"{url}/v1/events", data=line.encode(), headers=headers) as r:
                await r.read()
                if r.status == 200:
                    accepted += 1
                else:
                    rejected += 1
        return accepted, rejected, time.perf_counter() - start


def lots_of(event: dict[str, object]) -> set[str]:
    """The lots an event names (its own, its inputs' and outputs')."""
    found = {event["lot"]} if isinstance(event.get("lot"), str) else set()
    for key in ("inputs", "outputs"):
        parts = event.get(key)
        if isinstance(parts, list):
            found.update(p["lot"] for p in parts if isinstance(p, dict) and "lot" in p)
    return {str(x) for x in found}


def dependencies(lines: list[str]) -> list[set[int]]:
    """For each event, the earlier events it must follow: the last one before it that named
    each of its lots (a receipt follows its shipment, a transform its inputs' receipts)."""
    last: dict[str, int] = {}
    deps: list[set[int]] = []
    for i, line in enumerate(lines):
        lots = lots_of(json.loads(line))
        deps.append({last[lot] for lot in lots if lot in last})
        last.update((lot, i) for lot in lots)
    return deps


async def submit_concurrent(url: str, toks: dict[str, str], lines: list[str], concurrency: int
                            ) -> tuple[int, int, float, list[float]]:  # fmt: skip
    """Many writers at once: ``concurrency`` clients each send one event at a time, an event
    as soon as the events it follows are answered. (accepted, rejected, seconds, latencies)."""
    deps = dependencies(lines)
    waiting = [len(d) for d in deps]
    followers: dict[int, list[int]] = {}
    for i, d in enumerate(deps):
        for j in d:
            followers.setdefault(j, []).append(i)
    ready: asyncio.Queue[int | None] = asyncio.Queue()
    for i, n in enumerate(waiting):
        if n == 0:
            ready.put_nowait(i)
    counts = {"accepted": 0, "rejected": 0, "left": len(lines)}
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            while (i := await ready.get()) is not None:
                line = lines[i]
                headers = {"Authorization": f"Bearer {toks[json.loads(line)['actor']]}",
                           "Content-Type": "application/json"}  # fmt: skip
                t0 = time.perf_counter()
                async with session.post(f"{url}/v1/events", data=line.encode(),
                                        headers=headers) as r:  # fmt: skip
                    await r.read()
                    counts["accepted" if r.status == 200 else "rejected"] += 1
                latencies.append(time.perf_counter() - t0)
                for k in followers.get(i, ()):
                    waiting[k] -= 1
                    if waiting[k] == 0:
                        ready.put_nowait(k)
                counts["left"] -= 1
                if counts["left"] == 0:
                    for _ in range(concurrency):
                        ready.put_nowait(None)

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        took = time.perf_counter() - start
    return counts["accepted"], counts["rejected"], took, sorted(latencies)


def fresh_ledger(work: Path, name: str, registry: Path) -> str:
    db = str(work / f"{name}.db")
    run_cli("--db", db, "init", "--log-dir", str(work / f"{name}-log"), cwd=work)
    run_cli("--db", db, "registry", "load", str(registry), cwd=work)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--read-events", type=int, default=20_000, help="demo size for reads")
    parser.add_argument("--events", type=int, default=5_000, help="stream size for submissions")
    parser.add_argument("--single", type=int, default=1_500, help="events sent one at a time")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--read-db",
        help="serve this existing demo ledger for the reads (the"
        " same ledger before and after a change) instead of building one",
    )
    parser.add_argument("--part", choices=("all", "reads", "submissions"), default="all",
                        help="measure only the trace reads or only the submissions")  # fmt: skip
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="raretrace-serve-bench-"))
    print(f"work folder {work}; {os.cpu_count()} CPUs")

    if args.part != "submissions":
        measure_reads(args, work)
    if args.part != "reads":
        measure_submissions(args, work)


def measure_reads(args: argparse.Namespace, work: Path) -> None:
    """Trace reads of a council and of an operator (scoped) on a demo ledger."""
    t0 = time.perf_counter()
    read_db = args.read_db or str(work / "read.db")
    if not args.read_db:
        run_cli("demo", "--events", str(args.read_events), "--db", read_db, "--log-dir",
                str(work / "read-log"), cwd=work)  # fmt: skip
    every = [json.loads(x) for x in run_cli(
        "--db", read_db, "lots", "--limit", "0", "--json", cwd=work
    ).splitlines()]  # fmt: skip
    lots = [lot["lot"] for lot in every]
    print(f"demo ledger {read_db}: {len(lots):,} lots, "
          f"ready in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    read_toks = tokens(read_db, [("council", "council"), ("js-link", "operator")])
    with serving(read_db, work) as url:
        own = [lot["lot"] for lot in every if lot.get("custodian") == "js-link"]
        council = asyncio.run(read_load(url, read_toks["council"], lots, args.seconds,
                                        args.concurrency, 2.0))  # fmt: skip
        print_reads("TRACE_READS council", council, args.concurrency)
        if own:
            operator = asyncio.run(read_load(url, read_toks["js-link"], own,
                                             args.seconds / 2, args.concurrency, 1.0))  # fmt: skip
            print_reads("TRACE_READS operator js-link (scoped)", operator, args.concurrency)


def measure_submissions(args: argparse.Namespace, work: Path) -> None:
    """The CLI ingest rate, and the API's batch, one-by-one and concurrent submissions."""
    inputs = work / "inputs"
    run_cli("demo", "--events", str(args.events), "--db", str(work / "stream-demo.db"),
            "--log-dir", str(work / "stream-log"), "--write", str(inputs), cwd=work)  # fmt: skip
    registry, events = inputs / "registry.json", inputs / "events.jsonl"
    lines = [x for x in events.read_text().splitlines() if x.strip()]
    actors = sorted({json.loads(x)["actor"] for x in lines})

    cli_db = fresh_ledger(work, "cli", registry)
    start = time.perf_counter()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = run_cli("--db", cli_db, "ingest", str(events), cwd=work)
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    ingest_cpu = (children1.ru_utime + children1.ru_stime - children0.ru_utime
                  - children0.ru_stime) / len(lines)  # fmt: skip
    ingest_s = time.perf_counter() - start
    ingest_rate = len(lines) / ingest_s
    print(f"CLI_INGEST {ingest_rate:,.0f} events/s ({len(lines):,} events in {ingest_s:.1f} s, "
          f"process start included; CPU {ingest_cpu * 1e3:.2f} ms an event, workers "
          f"included): {out.strip().splitlines()[-1]}")  # fmt: skip

    runs = actor_runs(lines)
    batch_db = fresh_ledger(work, "batch", registry)
    batch_toks = tokens(batch_db, [(a, "operator") for a in actors])
    with serving(batch_db, work) as url:
        cpu0 = tree_cpu(SERVER["pid"])
        acc, rej, took = asyncio.run(submit_batches(url, batch_toks, runs))
        print_cpu("batch", tree_cpu(SERVER["pid"]) - cpu0, acc)
    batch_rate = acc / took
    print(
        f"API_BATCH {batch_rate:,.0f} events/s ({acc:,} accepted, {rej} rejected, "
        f"{len(runs):,} batches of {len(lines) / len(runs):.1f} events on average, "
        f"{took:.1f} s); ratio to ingest {batch_rate / ingest_rate:.2f} (target >= 0.5)"
    )

    single_lines = lines[: args.single]
    single_db = fresh_ledger(work, "single", registry)
    single_toks = tokens(single_db, [(a, "operator") for a in actors])
    with serving(single_db, work) as url:
        cpu0 = tree_cpu(SERVER["pid"])
        acc, rej, took = asyncio.run(submit_single(url, single_toks, single_lines))
        print_cpu("single", tree_cpu(SERVER["pid"]) - cpu0, acc)
    single_rate = acc / took
    print(
        f"API_SINGLE {single_rate:,.0f} events/s ({acc:,} accepted, {rej} rejected, "
        f"{took:.1f} s, {took / max(acc, 1) * 1e3:.1f} ms an event, one client in stream "
        f"order); ratio to ingest {single_rate / ingest_rate:.2f} (target >= 0.5)"
    )

    many_db = fresh_ledger(work, "many", registry)
    many_toks = tokens(many_db, [(a, "operator") for a in actors])
    with serving(many_db, work) as url:
        cpu0 = tree_cpu(SERVER["pid"])
        acc, rej, took, lat = asyncio.run(
            submit_concurrent(url, many_toks, lines, args.concurrency)
        )
        print_cpu("concurrent", tree_cpu(SERVER["pid"]) - cpu0, acc)
    many_rate = acc / took
    print(
        f"API_CONCURRENT {many_rate:,.0f} events/s ({acc:,} accepted, {rej} rejected, "
        f"{took:.1f} s, {args.concurrency} clients, each event sent once those it follows "
        f"were answered; latency p50 {percentile(lat, 0.5) * 1e3:.1f} ms, p99 "
        f"{percentile(lat, 0.99) * 1e3:.1f} ms); ratio to ingest "
        f"{many_rate / ingest_rate:.2f} (target >= 0.5)"
    )
    print(f"CLI_INGEST accepted/rejected: {out.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
