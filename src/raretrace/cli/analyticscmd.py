"""``raretrace analytics ...`` and ``raretrace open-data ...``: the council's analytics.

The sub-apps are defined here so that other command modules can register commands on
``analytics_app`` (scenario and corridor commands live in their own module).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from raretrace.cli import render
from raretrace.cli.main import (
    PLAIN_HELP,
    DbOption,
    FromOption,
    ToOption,
    _check_output,
    _store,
    app,
    out,
)
from raretrace.log.files import write_public

__all__ = ["analytics_app", "open_data_app"]

analytics_app = typer.Typer(
    help="Flows, concentration, early warning, scenarios and the corridor plan.",
    no_args_is_help=True,
    **PLAIN_HELP,
)
open_data_app = typer.Typer(
    help="Public aggregates of the ledger (Parquet, CSV, datapackage.json).",
    no_args_is_help=True,
    **PLAIN_HELP,
)
app.add_typer(analytics_app, name="analytics")
app.add_typer(open_data_app, name="open-data")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
PlotOption = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        metavar="OUT.html",
        help="Also write an interactive chart: one HTML file that needs no network.",
    ),
]


def write_text_file(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all, as a public file (the log's one public writer)."""
    write_public(path, text.encode("utf-8"), fsync=False)


def _dump(doc: dict[str, Any]) -> None:
    print(json.dumps(doc, indent=2, ensure_ascii=False))


@analytics_app.command()
def flows(
    start: FromOption = None,
    end: ToOption = None,
    element: Annotated[
        str | None,
        typer.Option("--element", metavar="EL", help="One element (Nd, Dy, ...) [default: all]."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    plot: PlotOption = None,
) -> None:
    """kg per element moving between (stage, country) pairs, and what each pair held."""
    from raretrace.analytics import service
    from raretrace.analytics.flows import check_element
    from raretrace.analytics.period import parse_period

    period, element = parse_period(start, end), check_element(element)
    if plot is not None:
        _check_output(plot, "the chart")
    store = _store(db)
    report = service.flows(store, period, element)
    if plot is not None:
        from raretrace.analytics.plots import flows_html

        write_text_file(plot, flows_html(report, store.registry().facilities))
    if as_json:
        _dump(report.to_json())
    else:
        _render_flows(report)
    if plot is not None and not as_json:
        out.print(f"chart written to {plot}", markup=False)


def _period_line(doc: dict[str, Any]) -> str:
    return f"from {doc['from'] or 'the first event'} to {doc['to'] or 'the last event'}"


def _render_flows(report: Any) -> None:
    out.print(f"flows {_period_line(report.period.to_json())} (kg of element)", markup=False)
    if not report.elements:
        out.print("no material moved in the period", markup=False)
    for e, f in report.elements.items():
        out.print(f"\n{e}", markup=False)
        links = render.table("from", "to", "by", "kg", ids=("from", "to"), numbers=("kg",))
        for link in f.links:
            links.add_row(
                " ".join(link.source), " ".join(link.target), link.kind, render.kg(link.kg)
            )
        if f.links:
            render.print_table(out, links)
        heads = ("stage", "country", "entered", "produced", "consumed", "received", "shipped",
                 "lost", "discrepant", "stock at end")  # fmt: skip
        nodes = render.table(*heads, ids=("stage", "country"), numbers=heads[2:])
        for n in f.nodes:
            nodes.add_row(
                n.place[0], n.place[1], render.kg(n.entered), render.kg(n.produced),
                render.kg(n.consumed), render.kg(n.received), render.kg(n.shipped),
                render.kg(n.lost), render.signed_kg(n.discrepant), render.kg(n.stock),
            )  # fmt: skip
        render.print_table(out, nodes)
        t = f.totals
        out.print(
            f"entered {render.kg(t['entered_kg'])}, lost {render.kg(t['lost_kg'])},"
            f" discrepant {render.signed_kg(t['discrepant_kg'])}, in stock at the end"
            f" {render.kg(t['stock_end_kg'])}, in transit {render.kg(t['in_transit_end_kg'])}",
            markup=False,
        )
    if report.unresolved_events:
        out.print(
            f"{report.unresolved_events:,} events named lots the pass did not know (event times"
            " out of log order around the period's end); their kg are not counted",
            markup=False,
        )


@analytics_app.command()
def concentration(
    start: FromOption = None,
    end: ToOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    plot: PlotOption = None,
) -> None:
    """Per element and stage: output by country, shares, HHI, the 65% limit, ASEAN, world."""
    from raretrace.analytics import service
    from raretrace.analytics.period import parse_period

    period = parse_period(start, end)
    if plot is not None:
        _check_output(plot, "the chart")
    report = service.concentration(_store(db), period)
    if plot is not None:
        from raretrace.analytics.plots import concentration_html

        write_text_file(plot, concentration_html(report))
    if as_json:
        _dump(report.to_json())
    else:
        _render_concentration(report)
    if plot is not None and not as_json:
        out.print(f"chart written to {plot}", markup=False)


def _render_concentration(report: Any) -> None:
    from raretrace.analytics.concentration import LIMIT, RECYCLING_BENCHMARK

    doc = report.to_json()
    out.print(f"stage output by country {_period_line(doc)}", markup=False)
    heads = ("element", "stage", "kg", "top", "HHI", "> 65%", "ASEAN", "countries")
    rows = render.table(*heads, ids=("element", "stage"), numbers=("kg", "top", "HHI", "ASEAN"))
    for e, stages in report.elements.items():
        for s, c in stages.items():
            rows.add_row(
                e, s, render.kg(c.total_kg), f"{c.top_country} {render.share(c.top_share)}",
                f"{c.hhi:,.0f}", "yes" if c.top_share > LIMIT else "no",
                render.share(report.asean_share[e].get(s, 0.0)), render.join_shares(c.shares),
            )  # fmt: skip
    if report.elements:
        render.print_table(out, rows)
    else:
        out.print("no stage output in the period", markup=False)
    recycled = {e: r["share"] for e, r in report.recycled.items() if r["share"] > 0}
    if report.recycled:
        out.print(
            "recycled share of mined + recycled output (benchmark"
            f" {render.share(RECYCLING_BENCHMARK)}): {render.join_shares(recycled) or 'none'}",
            markup=False,
        )
    w = doc["world"]
    ledger = w["ledger"]
    coverage = "n/a" if ledger["coverage"] is None else render.share(ledger["coverage"])
    out.print(
        f"world (USGS {w['year']}, t REO): {w['world_total_t_reo']:,.0f} t, HHI {w['hhi']:,.0f},"
        f" top {w['top_country']} {render.share(w['top_share'])}; the ledger's mines:"
        f" {sum(ledger['mine_t_reo'].values()):,.1f} t REO over {ledger['days']:,.1f} days,"
        f" {coverage} of world production a year, HHI {ledger['hhi']:,.0f}",
        markup=False,
    )


SettingsOption = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        metavar="FILE",
        help="JSON thresholds over the packaged ones (docs/analytics.md).",
    ),
]


def _settings(path: Path | None) -> Any:
    from raretrace.analytics.settings import load_settings
    from raretrace.cli.main import _check_input

    if path is not None:
        _check_input(path)
    return load_settings(path)


@analytics_app.command()
def warnings(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="YYYY-MM-DD", help="The last day looked at [default: today, UTC]."
        ),
    ] = None,
    settings: SettingsOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Early-warning indicators against their thresholds, with trend and evidence."""
    from raretrace.analytics import service
    from raretrace.analytics.period import parse_day, today

    day = parse_day(as_of, "--as-of") or today()
    loaded = _settings(settings)
    report = service.warnings(_store(db), day, loaded)
    if as_json:
        _dump(report.to_json())
        return
    _render_warnings(report)


def _value(i: Any) -> str:
    if i.value is None:
        return "n/a"
    if i.unit == "share" or i.unit.startswith("share"):
        return render.share(i.value)
    if i.unit == "outflow / capacity":
        return f"{i.value:.2f}×"
    return f"{i.value:,.1f}"


def _render_warnings(report: Any) -> None:
    doc = report.to_json()
    periods = doc["periods"]
    out.print(
        f"as of {doc['as_of']}: {doc['warnings']} warning(s) of {len(report.indicators)}"
        f" indicators; the trend is {len(periods)} periods of"
        f" {report.windows.days} days, oldest first, from {periods[0]['from']}"
        f" (settings: {doc['settings']})",
        markup=False,
    )
    rows = render.table("indicator", "subject", "value", "threshold", "trend", "evidence",
                        ids=("indicator",), numbers=("value", "threshold"))  # fmt: skip
    for i in report.warnings:
        trend = " → ".join("-" if v is None else _value(type(i)(**{**_fields(i), "value": v}))
                           for v in i.trend)  # fmt: skip
        evidence = ", ".join(f"{k} {v}" for k, v in i.evidence.items() if k not in ("forms",))
        rows.add_row(i.indicator, i.subject, _value(i), f"{i.threshold:g}", trend, evidence)
    if report.warnings:
        render.print_table(out, rows)


def _fields(i: Any) -> dict[str, Any]:
    return {name: getattr(i, name) for name in i.__dataclass_fields__}


@analytics_app.command()
def cache(
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Fold every event again, from the first.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Also compare flows and concentration from the cache with a full"
            " recomputation from the events, for the whole ledger and --from/--to (exit 1 on"
            " any difference).",
        ),
    ] = False,
    start: FromOption = None,
    end: ToOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fold new events into the aggregate cache that flows, concentration and warnings read."""
    from raretrace.analytics import service
    from raretrace.analytics.period import parse_period
    from raretrace.domain.errors import VerificationError

    period = parse_period(start, end)
    store = _store(db)
    done = service.refresh_cache(store, rebuild=rebuild)
    doc: dict[str, Any] = {
        "size": done.size, "events_read": done.events, "commits": done.commits,
        "rebuilt": done.rebuilt,
    }  # fmt: skip
    checks = []
    if check:
        extra = [] if period.first is None and period.last is None else [period]
        checks = service.check_cache(store, extra)
        doc["checks"] = [{"what": c.what, "differences": list(c.differences)} for c in checks]
    if as_json:
        _dump(doc)
    else:
        why = f" (folded again from the first event: {done.rebuilt})" if done.rebuilt else ""
        out.print(
            f"the aggregate cache covers {done.size:,} events; {done.events:,} read now in"
            f" {done.commits} commits{why}",
            markup=False,
        )
        for c in checks:
            verdict = "agree" if not c.differences else f"{len(c.differences)} differences"
            out.print(f"{c.what}: cache and recomputation {verdict}", markup=False)
            for line in c.differences[:10]:
                out.print(f"  {line}", markup=False)
    bad = [c for c in checks if c.differences]
    if bad:
        raise VerificationError(
            f"the aggregate cache differs from the recomputation in {bad[0].what}"
            f" ({bad[0].differences[0]}); rebuild it with `raretrace analytics cache"
            " --rebuild` and report the difference as a bug"
        )


@open_data_app.command("export")
def open_data_export(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="A new (or empty) folder.")],
    start: FromOption = None,
    end: ToOption = None,
    settings: SettingsOption = None,
    db: DbOption = None,
) -> None:
    """Public tables (Parquet and CSV), a data dictionary and datapackage.json; cells with
    fewer than k participants behind them are suppressed."""
    from datetime import UTC, datetime

    from raretrace.analytics import service
    from raretrace.analytics.opendata_files import check_target, write_open_data
    from raretrace.analytics.period import parse_period

    period = parse_period(start, end)
    loaded = _settings(settings)
    check_target(folder)
    data = service.open_data(_store(db), period, loaded)
    about = {**period.to_json(), "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    written = write_open_data(folder, data, about)
    hidden = sum(1 for rows in data.tables.values() for r in rows if r.get("suppressed"))
    out.print(
        f"open data written to {folder}: {len(written)} files, by {data.period};"
        f" {hidden:,} cells suppressed (k = {data.k})",
        markup=False,
    )
