"""The ``raretrace`` command line: parse, call one service function, render.

Every expected failure is a RaretraceError, shown as one line (with a traceback only under
``--verbose``) and an exit code: 1 for rejected input or failed verification, 2 for usage,
configuration or missing things.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from raretrace.cli import render
from raretrace.domain.errors import ConfigError, NotFound, RaretraceError
from raretrace.domain.model import (
    ACTIVE,
    CONSUMED,
    FORMS,
    IN_TRANSIT,
    WRITTEN_OFF,
    Tolerance,
)
from raretrace.ledger.settings import LedgerSettings
from raretrace.service import ingest as ingesting
from raretrace.service import ledger as service
from raretrace.service import reads
from raretrace.service.ledgers import (
    ENV_VAR,
    Store,
    describe_unusable,
    dispose_engines,
    open_store,
    resolve_db,
)

#: Help as plain text (click's formatter), for every command group. Typer's Rich help reads
#: "[...]" in help text as markup and drops it, and from Typer 0.27 it shows types as
#: ``<str>`` (0.29: after flags too, ``--json <bool>``); plain help with a metavar on every
#: option that takes a value reads the same on every Typer that pyproject.toml allows.
PLAIN_HELP: dict[str, Any] = {
    "rich_markup_mode": None,
    "context_settings": {"max_content_width": 100},
}

app = typer.Typer(
    name="raretrace",
    help="Chain of custody for rare earths, from mine to magnet.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    **PLAIN_HELP,
)
registry_app = typer.Typer(help="Participants and facilities.", no_args_is_help=True, **PLAIN_HELP)
app.add_typer(registry_app, name="registry")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_state: dict[str, Any] = {"db": None, "verbose": False}

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="FILE|URL",
        help=f"SQLite file or postgresql:// URL [env: {ENV_VAR}; default: raretrace.db]",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON Lines, one object a line.")]
FromOption = Annotated[
    str | None,
    typer.Option("--from", metavar="YYYY-MM-DD", help="First day of the period (included)."),
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", metavar="YYYY-MM-DD", help="Last day of the period (included)."),
]


def _version(shown: bool) -> None:
    if shown:
        try:
            number = metadata.version("raretrace")
        except metadata.PackageNotFoundError:  # running from a source tree, not installed
            from raretrace import __version__ as number
        print(f"raretrace {number}")
        raise typer.Exit()


@app.callback()
def _root(
    db: DbOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_version,
                     is_eager=True),
    ] = False,
) -> None:  # fmt: skip
    _state["db"], _state["verbose"] = db, verbose


def _db(local: str | None) -> str:
    _state["used_db"] = db = resolve_db(local or _state["db"])
    return db


def _store(db: str | None, *, write: bool = False) -> Store:
    """The ledger a command reads (or, with ``write``, changes), checked to be initialised.

    A reading command opens it read-only: it never creates the file nor leaves files beside
    it. ``main()`` closes it as the command ends, so SQLite can remove its ``-wal``/``-shm``.
    """
    return open_store(_db(db), write=write)


@app.command()
def init(
    db: DbOption = None,
    tolerance_relative: Annotated[
        float,
        typer.Option(
            metavar="FRACTION", help="Allowed mass-balance difference, relative to the input."
        ),
    ] = 0.005,
    tolerance_absolute_kg: Annotated[
        float, typer.Option(metavar="KG", help="Smallest allowed difference, in kg.")
    ] = 0.001,
    allow_unsigned: Annotated[
        bool,
        typer.Option(
            "--allow-unsigned",
            help="Accept events without a participant signature (trials only).",
        ),
    ] = False,
    log_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Directory for the Merkle log's tiles and keys [default: beside the db]",
        ),
    ] = None,
    log_origin: Annotated[
        str | None, typer.Option(metavar="TEXT", help="The log's origin line in its checkpoints.")
    ] = None,
) -> None:
    """Create the ledger database and its log (or upgrade the schema)."""
    target = _db(db)
    tol = Tolerance(relative=tolerance_relative, absolute_kg=tolerance_absolute_kg)
    store = service.init_ledger(
        target, tolerance=tol, require_signatures=not allow_unsigned, log_dir=log_dir,
        log_origin=log_origin,
    )  # fmt: skip
    settings = LedgerSettings.from_meta(store.meta())
    out.print(
        f"ledger ready at {target} (schema {store.schema_revision()}, tolerance "
        f"{settings.tolerance.relative:.4%} or {render.kg(settings.tolerance.absolute_kg)} kg,"
        f" signatures "
        f"{'required' if settings.require_signatures else 'optional'}); log in "
        f"{settings.log.directory} as {settings.log.origin!r}"
    )


@app.command()
def keygen(
    participant: Annotated[
        str, typer.Option(metavar="ID", help="The participant the key belongs to.")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Private key file to create (0600).")
    ],
    kid: Annotated[
        str | None, typer.Option(metavar="KID", help="Key id [default: participant-<hash>]")
    ] = None,
    valid_from: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="RFC 3339 time the key is valid from [default: now]"),
    ] = None,
) -> None:
    """Make a signing key; prints the registry entry (add it to the participant's "keys")."""
    entry = service.keygen(participant, out_file, kid=kid, valid_from=valid_from)
    print(json.dumps(entry))


@app.command()
def sign(
    events: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="Events (JSON Lines) to sign; '-' for stdin."),
    ],
    key: Annotated[
        list[Path],
        typer.Option("--key", metavar="FILE", help="A participant's key file; repeat."),
    ],
) -> None:
    """Sign each event with its actor's key; signed events go to standard output."""
    keys = service.load_signing_keys(key)
    failed = 0
    stream = sys.stdin if str(events) == "-" else _open_text(events)
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                print(service.sign_line(line, keys))
            except RaretraceError as exc:
                failed += 1
                err.print(f"line {number}: {exc.message}", markup=False)
    if failed:
        err.print(f"{failed} events not signed")
        raise typer.Exit(1)


def _open_text(path: Path) -> Any:
    try:
        return path.open(encoding="utf-8")
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None


@registry_app.command("load")
def registry_load(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Registry JSON (participants, facilities).")
    ],
    db: DbOption = None,
) -> None:
    """Add or update participants and facilities from a registry file."""
    _check_input(file)
    with service.open_ledger(_db(db)) as ledger:
        report = service.load_registry(ledger, file)
        out.print(
            f"registry: {report.accepted} records added or changed, "
            f"{len(ledger.registry.participants)} participants, "
            f"{len(ledger.registry.facilities)} facilities"
        )


def _check_input(path: Path) -> None:
    """NotFound unless ``path`` is a file this process can read."""
    if not path.is_file():
        problem = "is a folder" if path.is_dir() else "does not exist"
        raise NotFound(f"cannot read {path}: it {problem}; give the path of a file")
    if not os.access(path, os.R_OK):
        raise NotFound(f"cannot read {path}: permission denied")


def _check_output(path: Path, what: str) -> None:
    """ConfigError unless ``path`` can be written, checked without creating it."""
    folder = path.parent
    if path.is_dir():
        problem = f"{path} is a folder"
    elif not folder.is_dir():
        problem = f"folder {folder} does not exist"
    elif not os.access(path if path.exists() else folder, os.W_OK):
        problem = "permission denied"
    else:
        return
    raise ConfigError(f"cannot write {what} {path}: {problem}; give a writable path")


def _byte_lines(path: Path, progress: Progress, task: Any) -> Iterator[tuple[int, str]]:
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None
    pending = 0
    with fh:
        for number, raw in enumerate(fh, start=1):
            pending += len(raw)
            if pending > 1 << 20:  # the bar costs more than a line; update it per MiB
                progress.advance(task, pending)
                pending = 0
            if raw.strip():
                yield number, raw.decode("utf-8", errors="replace")
    progress.advance(task, pending)


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Events, one JSON object a line.")],
    db: DbOption = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Write each rejected line's number and reason here (JSON Lines)."
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(metavar="N", help="Events per transaction.", min=1)
    ] = 2000,
) -> None:
    """Append events from a JSON Lines file; exit code 1 if any line was rejected."""
    _check_input(file)  # both before the ledger opens: a bad path changes nothing
    if rejects:
        _check_output(rejects, "the rejects file")
    target, size = _db(db), file.stat().st_size

    def show(r: ingesting.Rejection) -> None:
        err.print(f"line {r.line}: {r.error.message}", markup=False)

    columns = (
        TextColumn("ingest"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task("ingest", total=size)
            done = ingesting.ingest(
                target, _byte_lines(file, bar, task), batch_size=batch_size, rejects=rejects,
                show=show,
            )  # fmt: skip
    except ingesting.IngestInterrupted as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(130) from None
    if done.unshown:
        err.print(f"... {done.unshown} more rejections; use --rejects FILE to keep them all")
    report = done.report
    out.print(
        f"accepted {report.accepted}, rejected {report.rejected}, "
        f"discrepancies {report.discrepancies}, already present {report.duplicates}"
    )
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def trace(
    lot: Annotated[str, typer.Argument(metavar="LOT", help="Lot id.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a lot's composition, origin shares, the path its material took and the
    discrepancies in its lineage."""
    view = reads.trace(_store(db), lot)
    if as_json:
        out.print_json(data=view) if out.is_terminal else print(json.dumps(view, indent=2))
        return
    render.trace_text(out, view)


STATUSES = (ACTIVE, IN_TRANSIT, CONSUMED, WRITTEN_OFF)


def _one_of(choices: tuple[str, ...]) -> Callable[[str | None], str | None]:
    """An option callback refusing (exit 2, with the usage) a value not among ``choices``."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of: {', '.join(choices)}")
        return value

    return check


@app.command()
def lots(
    db: DbOption = None,
    facility: Annotated[
        str | None, typer.Option(metavar="FACILITY", help="Only lots at this facility.")
    ] = None,
    form: Annotated[
        str | None,
        typer.Option(
            metavar="FORM", help=f"Only this form: {', '.join(FORMS)}.", callback=_one_of(FORMS)
        ),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            metavar="STATUS",
            help=f"Only this status: {', '.join(STATUSES)}.",
            callback=_one_of(STATUSES),
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(metavar="N", help="At most this many (0: all).", min=0)
    ] = 100,
    as_json: JsonFlag = False,
) -> None:
    """List lots, in id order; with --json, one JSON object a line (the lot fields of
    `trace --json`)."""
    where = reads.LotFilter(facility=facility, form=form, status=status)
    page = reads.lots(_store(db), where, limit=limit or None)
    if as_json:
        for lot in page.lots:
            print(json.dumps(reads.lot_json(lot)))
    else:
        render.print_table(out, render.lots_table(list(page.lots)))
    if page.cut and page.total is not None:
        err.print(render.shown_of(limit, page.total, "lots"), markup=False)


@app.command()
def facilities(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """List registered facilities, in id order; with --json, one JSON object a line."""
    found = reads.facilities(_store(db))
    if as_json:
        for f in found:
            print(json.dumps(reads.facility_json(f)))
        return
    render.print_table(out, render.facilities_table(found))


@app.command()
def discrepancies(
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Receipts whose measured mass differed from the shipped mass beyond tolerance."""
    rows = reads.discrepancies(_store(db))
    if as_json:
        for d in rows:
            print(json.dumps(d.to_json()))
        return
    render.print_table(out, render.discrepancies_table(rows))
    out.print(f"{len(rows):,} discrepancies")


def _usage_error_class() -> type[Exception]:
    # Older Typer releases raise click's ClickException; newer ones vendor click (typer._click),
    # with no click installed. Both are bases of the public ``typer.BadParameter``: find it there.
    for cls in typer.BadParameter.__mro__:
        if cls.__name__ == "ClickException":
            return cls
    return typer.BadParameter  # pragma: no cover - every Typer release has ClickException


_USAGE_ERROR = _usage_error_class()


def full_app() -> typer.Typer:
    """The app with every command registered (tests walk it to reach every command)."""
    # Importing these modules registers their commands on ``app``.
    from raretrace.cli import (  # noqa: F401
        analyticscmd,
        auditcmd,
        bundlecmd,
        certifycmd,
        checkcmd,
        clearinghousecmd,
        credentialcmd,
        demo,
        interopcmd,
        logcmd,
        scenariocmd,
        servecmd,
        tokencmd,
    )

    return app


def main() -> None:
    """Console-script entry point: run the app and turn expected errors into one line."""
    full_app()
    try:
        code = _run()
    finally:
        dispose_engines()  # lets SQLite remove its -wal/-shm files, even after an error
    sys.exit(code)


def _run() -> int:
    """Run the app; the exit code, with every expected failure reported in one line."""
    try:
        code = app(standalone_mode=False, prog_name="raretrace")
    except RaretraceError as exc:
        if _state["verbose"]:
            raise
        err.print(f"error: {exc.message}", markup=False)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        return 130
    except _USAGE_ERROR as exc:  # a usage error (unknown option, missing argument, ...)
        usage: Any = exc
        usage.show()
        return int(usage.exit_code)
    except Exception as exc:
        message = _unusable(exc)
        if message is None or _state["verbose"]:
            raise
        err.print(f"error: {message} (--verbose shows the full error)", markup=False)
        return 2
    return code if isinstance(code, int) else 0


def _unusable(exc: Exception) -> str | None:
    """One line for a database the command cannot use (see ``unusable_database``: server
    down, file locked, not a database) or a file it cannot read or write; None for any other
    error, which is a bug and keeps its traceback."""
    database = describe_unusable(_state.get("used_db") or resolve_db(_state["db"]), exc)
    if database is not None:
        return database
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot use {exc.filename}: {exc.strerror}"
    if isinstance(exc, UnicodeDecodeError):  # a file read as text that is not UTF-8
        return (
            f"a file given is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset"
            f" {exc.start}); raretrace reads text files as UTF-8"
        )
    return None
