"""``raretrace demo``: build the demo world, ingest a year of flows, and show a short tour."""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from raretrace.clearinghouse.demoworld import record_demo_casework
from raretrace.cli import tour, tourcharts
from raretrace.cli.democerts import issue_demo_certificates
from raretrace.cli.main import app, err, out
from raretrace.demo.simulation import MIN_EVENTS
from raretrace.domain.errors import ConfigError
from raretrace.service import ledger as service
from raretrace.service.ingest import IngestReport
from raretrace.service.ledgers import DEMO_MARK, drop_ledger, fresh_demo_db, mark_made_by

DEMO_DB = "raretrace-demo.db"


def demo_log_dir(db: str) -> Path:
    """Where the demo keeps its log, whose folder holds the log's and the registry
    authority's private keys: under the user's data folder (``$XDG_DATA_HOME``, else
    ``~/.local/share``), in ``raretrace/demo-logs/<hash of the ledger's path>/``, never in
    the working tree, so ``git add .`` or a copied project folder cannot carry them along.
    The last part keeps the usual name (``raretrace-demo-log``): it is the log's origin."""
    data = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data) if Path(data).is_absolute() else Path.home() / ".local" / "share"
    where = db if "://" in db else str(Path(db).expanduser().resolve())
    digest = hashlib.sha256(where.encode()).hexdigest()[:16]
    return base / "raretrace" / "demo-logs" / digest / service.default_log_dir(db).name


@app.command()
def demo(
    db: Annotated[
        str, typer.Option("--db", metavar="FILE", help="Where to build the demo ledger.")
    ] = DEMO_DB,
    events: Annotated[
        int, typer.Option(metavar="N", help="How many events of flows to generate.", min=MIN_EVENTS)
    ] = 20_000,
    seed: Annotated[
        int, typer.Option(metavar="N", help="Random seed (same seed, same world).")
    ] = 2025,
    write: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="Also write registry.json, signed events.jsonl and keys/ here."
        ),
    ] = None,
    log_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="The demo log's directory [default: raretrace/demo-logs/… in the user's"
            " data folder]",
        ),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Then serve it with the web dashboard and print"
                           " a link signed in as the council.")
    ] = False,
    port: Annotated[
        int, typer.Option(metavar="PORT", min=1, max=65535, help="With --serve: the port.")
    ] = 8080,
) -> None:  # fmt: skip
    """Build the ASEAN demo world on embedded SQLite and tour it."""
    from raretrace.demo.signing import signed_events, signed_world, write_signed_demo

    for folder, option in ((write, "--write"), (log_dir, "--log-dir")):
        if folder is not None and folder.exists() and not folder.is_dir():
            raise ConfigError(f"{option} {folder} is a file; give a folder (new or existing)")
    fresh_demo_db(db)
    directory = log_dir or demo_log_dir(db)
    if log_dir is None and (directory / "log.key").exists():
        shutil.rmtree(directory)  # left by a demo whose ledger was deleted: ours to replace
    with _removed_on_failure(db, directory, write):
        store = service.init_ledger(db, log_dir=directory)
        mark_made_by(store, DEMO_MARK)
        ledger = service.open_ledger(db)
        world, keys = signed_world(seed)
        signer = service.registry_signer(ledger)
        ledger.ingest(enumerate(service.registry_events(world, ledger.registry, signer=signer), 1))
        if write is not None:
            reg_path, ev_path = write_signed_demo(write, events, seed=seed)
            out.print(
                f"wrote {reg_path}, {ev_path} and the demo participants' keys in {write}/keys"
            )
        out.print(
            f"demo ledger {db}; its log, with the log's and registry's private keys, is in"
            f" {directory}" + ("" if log_dir else " (outside this folder, so git never sees it)"),
            markup=False,
        )
        started = time.perf_counter()
        columns = (TextColumn("flows"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task("flows", total=events)

            def tick(report: IngestReport) -> None:
                bar.update(task, completed=report.accepted + report.rejected + report.duplicates)

            stream = zip(itertools.count(1), signed_events(events, seed=seed, keys=keys))
            with ledger:
                report = ledger.ingest(stream, on_batch=tick)
                record_demo_casework(ledger, keys)  # the clearinghouse's year
        elapsed = time.perf_counter() - started
        certificates = issue_demo_certificates(db, store, directory, as_of=tour.LATER, seed=seed)
    try:
        charts = tourcharts.write_charts(store, tourcharts.charts_folder(db))
        tour.show(out, store, report, elapsed, certificates=certificates, charts=charts)
    finally:
        store.close()
    if serve:
        from raretrace.cli.demoserve import serve_dashboard

        serve_dashboard(db, port=port)


@contextmanager
def _removed_on_failure(db: str, log_dir: Path, write: Path | None) -> Iterator[None]:
    """Remove what a demo build made if it fails or is interrupted midway: a half-built
    demo ledger is worse than none (the next run would refuse or trust it)."""
    made = [_first_missing(p) for p in (log_dir, write) if p is not None and not p.exists()]
    try:
        yield
    except BaseException as exc:
        drop_ledger(db)
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, KeyboardInterrupt):
            err.print("interrupted: the half-built demo ledger and its log were removed")
        raise


def _first_missing(path: Path) -> Path:
    """The outermost folder of ``path`` that does not exist yet (what mkdir -p would make)."""
    path = path.absolute()
    while not path.parent.exists():
        path = path.parent
    return path
