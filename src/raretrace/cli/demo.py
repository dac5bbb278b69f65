"""``raretrace demo``: build the demo world, ingest a year of flows, and show a short tour."""

from __future__ import annotations

import itertools
import shutil
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from raretrace.cli.main import app, err, out
from raretrace.domain.errors import ConfigError
from raretrace.domain.model import STAGES, Lot
from raretrace.ledger import service
from raretrace.ledger.append import IngestReport
from raretrace.store import schema
from raretrace.store.store import Store

DEMO_DB = "raretrace-demo.db"
DEMO_MARK = "demo"


def _fresh_demo_db(db: str) -> None:
    """Remove a previous demo ledger; refuse to touch anything that is not one."""
    if "://" in db:
        store = Store.open(db)
        if store.schema_revision() is not None and store.meta().get("made_by") != DEMO_MARK:
            raise ConfigError(f"{db!r} holds a ledger that the demo did not make; use another --db")
        if store.schema_revision() is not None:
            raise ConfigError(f"{db!r} already holds a demo ledger; drop that database first")
        store.close()
        return
    path = Path(db)
    if not path.exists():
        return
    store = Store.open(db)
    meta = store.meta() if store.schema_revision() else {}
    store.close()
    if meta.get("made_by") != DEMO_MARK:
        raise ConfigError(f"{db} exists and is not a demo ledger; choose another --db")
    log_dir = Path(meta.get("log_dir", ""))
    if meta.get("log_dir") and (log_dir / "log.key").exists():
        shutil.rmtree(log_dir)  # the demo's own log: tiles and demo keys
    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)


@app.command()
def demo(
    db: Annotated[str, typer.Option("--db", help="Where to build the demo ledger.")] = DEMO_DB,
    events: Annotated[int, typer.Option(help="How many events of flows to generate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same world).")] = 2025,
    write: Annotated[
        Path | None,
        typer.Option(help="Also write registry.json, signed events.jsonl and keys/ here."),
    ] = None,
    log_dir: Annotated[
        Path | None, typer.Option(help="The demo log's directory [default: beside the db]")
    ] = None,
) -> None:
    """Build the ASEAN demo world on embedded SQLite and tour it."""
    from raretrace.demo.signing import signed_events, signed_world, write_signed_demo

    _fresh_demo_db(db)
    store = service.init_ledger(db, log_dir=log_dir)
    with store.engine.begin() as conn:
        conn.execute(schema.meta.insert().values(key="made_by", value=DEMO_MARK))
    ledger = service.open_ledger(db)
    world, keys = signed_world(seed)
    signer = service.registry_signer(ledger)
    ledger.ingest(enumerate(service.registry_events(world, ledger.registry, signer=signer), 1))
    if write is not None:
        reg_path, ev_path = write_signed_demo(write, events, seed=seed)
        out.print(f"wrote {reg_path}, {ev_path} and the demo participants' keys in {write}/keys")
    started = time.perf_counter()
    columns = (TextColumn("flows"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("flows", total=events)

        def tick(report: IngestReport) -> None:
            bar.update(task, completed=report.accepted + report.rejected + report.duplicates)

        stream = zip(itertools.count(1), signed_events(events, seed=seed, keys=keys))
        with ledger:
            report = ledger.ingest(stream, on_batch=tick)
    elapsed = time.perf_counter() - started
    _tour(store, report, elapsed)


def _showcase_magnet(store: Store) -> Lot | None:
    """A magnet lot worth showing: made in Malaysia if any, from the most source mines."""
    best: tuple[int, int, str] | None = None
    chosen = None
    for lot in store.lots(form="magnet", limit=5000):
        mines = {m for shares in lot.provenance.by_mine.values() for m in shares}
        score = (int(lot.provenance.path[-1].country == "MY"), len(mines), lot.id)
        if best is None or score > best:
            best, chosen = score, lot
    return chosen


def _tour(store: Store, report: IngestReport, elapsed: float) -> None:
    counts = store.counts()
    out.print(
        f"[bold]raretrace demo[/] — {report.accepted:,} events in {elapsed:.1f} s "
        f"({report.accepted / max(elapsed, 1e-9):,.0f} events/s), "
        f"{report.rejected} rejected, {report.discrepancies} discrepancies"
    )
    out.print("events: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts["events"].items())))
    out.print("lots: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts["lots"].items())))
    if report.rejections:
        first = report.rejections[0]
        out.print(f"[red]first rejection[/] line {first.line}: {first.error.message}")
    showcase = _showcase_magnet(store)
    if showcase is not None:
        view = service.trace(store, showcase.id)
        out.print(f"\n[bold]Trace of magnet lot {view['lot']}[/] ({view['mass_kg']:,} kg):")
        for element in ("Nd", "Pr", "Dy", "Tb"):
            shares = view["origin"]["by_country"].get(element)
            if shares:
                mix = ", ".join(
                    f"{k} {v:.1%}" for k, v in sorted(shares.items(), key=lambda i: -i[1])
                )
                out.print(f"  {element}: {view['elements_kg'][element]:,.3f} kg from {mix}")
        out.print("  passed through, by stage:")
        for stage in STAGES:
            places = [
                f"{s['facility']} ({s['country']})" for s in view["path"] if s["stage"] == stage
            ]
            if places:
                out.print(f"    {stage}: {', '.join(places)}")
        out.print(f"  (full view: raretrace --db {store.url} trace {view['lot']} --json)")
    found = store.discrepancies(limit=1)
    if found:
        d = found[0]
        out.print(
            f"\n[bold]Leakage flagged[/]: lot {d.lot} left {d.origin} weighing "
            f"{d.shipped_kg:,.3f} kg and arrived at {d.destination} weighing "
            f"{d.received_kg:,.3f} kg ({d.delta_kg:+,.3f} kg, "
            f"{d.delta_kg / d.shipped_kg:+.2%}); all: raretrace --db {store.url} discrepancies"
        )
