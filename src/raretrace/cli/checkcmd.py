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


@app.command()
def portfolio(
    lot: Annotated[
        list[str] | None,
        typer.Option("--lot", metavar="LOT", help="A lot of the portfolio (repeatable)."),
    ] = None,
    received_by: Annotated[
        str | None,
        typer.Option(
            "--received-by",
            metavar="PARTICIPANT",
            help="Instead of --lot: every lot this participant received in the period.",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", metavar="YYYY-MM-DD", help="First day of the period (included)."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", metavar="YYYY-MM-DD", help="Last day of the period (included)."),
    ] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """EU CRMA: no third country above the limit at any stage, on a set of lots; exit 1 on fail."""
    query = service.portfolio_query(lot or [], received_by, start, end)
    report = service.portfolio(_store(db), query)
    if as_json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        _render_portfolio(report)
    if report.failed:
        raise typer.Exit(1)


def _render_portfolio(report: service.PortfolioReport) -> None:
    q, result = report.query, report.result
    what = f"received by {q.received_by} from {q.start} to {q.end}" if q.received_by else "given"
    out.print(f"portfolio: {len(report.lots):,} lot(s) {what}", markup=False)
    if report.elements_kg:
        weights = ", ".join(f"{e} {render.kg(kg)}" for e, kg in report.elements_kg.items())
        out.print(f"strategic rare earths in it (kg): {weights}", markup=False)
    rows = render.table("element", "stage", "status", "countries (share of the element)",
                        ids=("element", "stage", "status"))  # fmt: skip
    for v in report.stages:
        above = f" — above the limit: {', '.join(v.above)}" if v.above else ""
        rows.add_row(v.element, v.stage, v.status, render.join_shares(v.shares) + above)
    if report.stages:
        render.print_table(out, rows)
    if report.recycled_share is not None:
        out.print(
            f"recycled share of the strategic rare earths: {render.share(report.recycled_share)}"
            f" (benchmark {render.share(report.recycling_benchmark)})",
            markup=False,
        )
    out.print(f"{result.pack} — {result.rule}: {result.status}", markup=False)
    out.print(f"  {result.summary}", markup=False)
    out.print(f"facts last reviewed {result.facts_reviewed} (docs/compliance.md)", markup=False)
