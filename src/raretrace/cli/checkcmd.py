"""``raretrace check LOT``: the compliance packs' answers for one lot as of a date."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer

from raretrace.cli import render
from raretrace.cli.main import DbOption, _store, app, out
from raretrace.compliance import service
from raretrace.compliance.packs import PACKS
from raretrace.domain.errors import ConfigError

__all__ = ["app"]


@app.command()
def check(
    lot: Annotated[str, typer.Argument(metavar="LOT", help="Lot id.")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="YYYY-MM-DD", help="Judge as of this date [default: today, UTC]."
        ),
    ] = None,
    pack: Annotated[
        list[str] | None,
        typer.Option(
            "--pack",
            metavar="PACK",
            help=f"A pack to run (repeatable): {', '.join(PACKS)} [default: all].",
        ),
    ] = None,
    declared_value_usd: Annotated[
        str | None,
        typer.Option(
            "--declared-value-usd",
            metavar="USD",
            help="The lot's declared value (cn-mofcom's 0.1% test).",
        ),
    ] = None,
    prices: Annotated[
        Path | None,
        typer.Option(
            "--prices",
            metavar="FILE",
            help='JSON {"Dy": 300.0, ...}: USD per kg of element, replacing the reference prices.',
        ),
    ] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run the compliance packs on a lot; exit code 1 when any result is `fail`."""
    report = service.check_lot(
        _store(db), lot,
        as_of=service.parse_as_of(as_of), packs=service.check_packs(pack or []),
        declared_value_usd=service.check_value(_amount(declared_value_usd)),
        prices=service.read_prices(prices),
    )  # fmt: skip
    if as_json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        _render(report)
    if report.failed:
        raise typer.Exit(1)


def _amount(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ConfigError(
            f"--declared-value-usd {text!r} is not an amount; give a number of USD >= 0"
        )
    return value


def _render(report: service.CheckReport) -> None:
    out.print(f"lot {report.lot} as of {report.as_of}", markup=False)
    rows = render.table("pack", "status", "rule", "summary", ids=("pack", "status"))
    for r in report.results:
        rows.add_row(r.pack, r.status, r.rule, r.summary)
    render.print_table(out, rows)
    for r in report.results:
        if r.reasons:
            out.print(f"{r.pack} — {r.rule} ({r.status}):", markup=False)
            for reason in r.reasons:
                out.print(f"  - {reason}", markup=False)
    reviewed = sorted({r.facts_reviewed for r in report.results if r.facts_reviewed})
    if reviewed:
        out.print(f"facts last reviewed {', '.join(reviewed)} (docs/compliance.md)", markup=False)
