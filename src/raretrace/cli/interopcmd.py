"""Interchange commands (docs/interchange.md): ``epcis export|import``, ``untp dte``,
``amrt export|import``, ``registry import|export``. Each parses, calls one function of
``raretrace.interop.service`` and renders."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from raretrace.cli.main import (
    PLAIN_HELP,
    DbOption,
    _check_input,
    _check_output,
    _db,
    _store,
    app,
    err,
    out,
    registry_app,
)
from raretrace.interop import service
from raretrace.interop.epcis_import import Imported

__all__ = ["amrt_app", "epcis_app", "untp_app"]

epcis_app = typer.Typer(
    help="GS1 EPCIS 2.0 documents (JSON-LD) in and out.", no_args_is_help=True, **PLAIN_HELP
)
untp_app = typer.Typer(
    help="UN Transparency Protocol traceability events.", no_args_is_help=True, **PLAIN_HELP
)
amrt_app = typer.Typer(
    help="RMI Additional Minerals Reporting Template (Rare Earth Elements), as Excel.",
    no_args_is_help=True,
    **PLAIN_HELP,
)
app.add_typer(epcis_app, name="epcis")

LotOption = Annotated[
    str | None,
    typer.Option("--lot", metavar="LOT", help="The lot's lineage (its upstream events)."),
]
FromOption = Annotated[
    str | None,
    typer.Option("--from", metavar="YYYY-MM-DD", help="First day of the period (included)."),
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", metavar="YYYY-MM-DD", help="Last day of the period (included)."),
]


def _out_option(metavar: str, what: str) -> object:
    return typer.Option("--out", metavar=metavar, help=what)


@epcis_app.command("export")
def epcis_export(
    out_file: Annotated[
        Path, typer.Option("--out", metavar="FILE.jsonld", help="The EPCIS document to write.")
    ],
    lot: LotOption = None,
    start: FromOption = None,
    end: ToOption = None,
    db: DbOption = None,
) -> None:
    """Write custody events as an EPCIS 2.0 document: a lot's lineage, a period's events, or
    (with neither) every custody event."""
    period = service.parse_period(start, end)
    _check_output(out_file, "the EPCIS document")
    done = service.export_epcis(
        _store(db), lot=lot, period=period, out=out_file, now=datetime.now(UTC)
    )
    out.print(
        f"{done.events} EPCIS events ({done.lots} lots) → {done.path}; checked against the"
        " EPCIS 2.0 JSON Schema",
        markup=False,
    )


@epcis_app.command("import")
def epcis_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="EPCIS 2.0 document (JSON-LD).")],
    out_file: Annotated[
        Path,
        typer.Option("--out", metavar="FILE.jsonl", help="raretrace events to write (JSON Lines)."),
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--map", metavar="FILE", help="Mapping of EPCIS URIs to lots, facilities, parties."
        ),
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Write the events that map even if some cannot.")
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Write each skipped or refused event and why (JSON Lines)."
        ),
    ] = None,
) -> None:
    """Turn an EPCIS 2.0 capture document into raretrace events, ready to sign and ingest."""
    _check_input(file)
    if mapping is not None:
        _check_input(mapping)
    _check_output(out_file, "the events file")
    if rejects is not None:
        _check_output(rejects, "the rejects file")
    done = service.import_epcis(
        file, mapping=mapping, out=out_file, skip_bad=skip_bad, rejects=rejects
    )
    _render_import(done.imported, out_file if done.refusal is None else None)
    if done.refusal is not None:
        raise done.refusal


def _render_import(imported: Imported, out_file: Path | None) -> None:
    for o in imported.outcomes:
        if o.status != "mapped":
            out.print(f"event {o.index} ({o.epcis_type} {o.biz_step}): {o.status}: {o.reason}",
                      markup=False)  # fmt: skip
    if out_file is None:
        return
    out.print(
        f"{imported.count('mapped')} EPCIS events mapped to {len(imported.events)} raretrace"
        f" events → {out_file}; {imported.count('skipped')} skipped,"
        f" {imported.count('refused')} refused. Sign them (`raretrace sign`) and ingest them",
        markup=False,
    )


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


_ = (err, registry_app, _db, _out_option, _print_json)
