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
    FromOption,
    ToOption,
    _check_input,
    _check_output,
    _db,
    _store,
    app,
    out,
    registry_app,
)
from raretrace.credentials.files import read_issuer_key
from raretrace.credentials.securing import FORMATS, Format
from raretrace.domain.errors import ConfigError
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
app.add_typer(untp_app, name="untp")
app.add_typer(amrt_app, name="amrt")

LotOption = Annotated[
    str | None,
    typer.Option("--lot", metavar="LOT", help="The lot's lineage (its upstream events)."),
]


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


@registry_app.command("import")
def registry_import(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="A .csv (UTF-8) or .xlsx sheet, one record a row."),
    ],
    kind: Annotated[
        str,
        typer.Option(
            metavar="KIND",
            help="facilities, participants, accreditations, licences or audits.",
        ),
    ],
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Load the good rows even if some are refused.")
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Write each refused row, column and reason (JSON Lines)."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Load registry records from a spreadsheet whose header names the registry fields;
    nothing is loaded unless every row is good (or --skip-bad --rejects FILE)."""
    _check_input(file)
    if rejects is not None:
        _check_output(rejects, "the rejects file")
    done = service.import_registry(_db(db), file, kind=kind, skip_bad=skip_bad, rejects=rejects)
    for error in done.refused:
        out.print(f"refused {error.line()}", markup=False)
    if done.refusal is not None:
        raise done.refusal
    out.print(
        f"registry import: {done.rows} rows of {done.kind}, {done.changed} records added or"
        f" changed, {len(done.refused)} refused, {done.empty_rows} empty rows skipped",
        markup=False,
    )


@registry_app.command("export")
def registry_export(
    geojson_file: Annotated[
        Path,
        typer.Option(
            "--geojson", metavar="FILE", help="Write the facilities as a GeoJSON FeatureCollection."
        ),
    ],
    db: DbOption = None,
) -> None:
    """Write the registry's facilities as GeoJSON (stage, country, operator, capacity,
    licence status), for any GIS."""
    _check_output(geojson_file, "the GeoJSON file")
    count = service.export_geojson(_store(db), geojson_file, now=datetime.now(UTC))
    out.print(f"{count} facilities → {geojson_file}", markup=False)


@untp_app.command("dte")
def untp_dte(
    issuer_key: Annotated[
        Path, typer.Option("--issuer-key", metavar="FILE", help="The issuer's key file.")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="The signed credential to write.")
    ],
    lot: LotOption = None,
    start: FromOption = None,
    end: ToOption = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", metavar="FORMAT", help="jose (VC-JOSE JWS) or di (eddsa-jcs-2022)."
        ),
    ] = "jose",
    db: DbOption = None,
) -> None:
    """Issue a UNTP Digital Traceability Event credential (VC 2.0) of a lot's lineage, a
    period's custody events, or (with neither) every one."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    period = service.parse_period(start, end)
    _check_output(out_file, "the credential")
    chosen: Format = "jose" if fmt == "jose" else "di"
    done = service.issue_dte(
        _store(db), lot=lot, period=period, issuer=read_issuer_key(issuer_key), fmt=chosen,
        out=out_file, now=datetime.now(UTC),
    )  # fmt: skip
    out.print(
        f"UNTP Digital Traceability Event credential {done.credential_id}: {done.events} events,"
        f" secured as {done.fmt} → {done.path}",
        markup=False,
    )


@amrt_app.command("export")
def amrt_export(
    participant: Annotated[
        str, typer.Option(metavar="ID", help="The company whose deliveries are declared.")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", metavar="FILE.xlsx", help="The workbook to write.")
    ],
    start: FromOption = None,
    end: ToOption = None,
    db: DbOption = None,
) -> None:
    """Write the RMI AMRT (Rare Earth Elements) of a participant's deliveries: declaration,
    the smelters and refiners in their lineage, mines and countries of origin with shares."""
    period = service.parse_period(start, end)
    _check_output(out_file, "the AMRT workbook")
    done = service.export_amrt(
        _store(db), participant=participant, period=period, out=out_file, now=datetime.now(UTC)
    )
    a = done.amrt
    out.print(
        f"AMRT for {a.declaration['company_name']}: {a.info['deliveries']} deliveries,"
        f" {len(a.smelters)} smelters/refiners, {len(a.mines)} mines, {len(a.countries)}"
        f" countries of origin → {done.path}",
        markup=False,
    )


@amrt_app.command("import")
def amrt_import(
    file: Annotated[Path, typer.Argument(metavar="FILE.xlsx", help="An AMRT workbook.")],
) -> None:
    """Read an AMRT workbook (as `amrt export` writes it) and print its content as JSON."""
    _check_input(file)
    print(json.dumps(service.import_amrt(file).to_json(), indent=2, ensure_ascii=False))
