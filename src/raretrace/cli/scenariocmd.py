"""``raretrace analytics scenario`` and ``raretrace analytics corridor``: supply-shock
scenarios (LP) and the corridor plan (MIP), both with HiGHS (docs/analytics.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from raretrace.analytics.corridor import CorridorReport, plan_corridor
from raretrace.analytics.network import CONSTRAINTS
from raretrace.analytics.network_file import read_scenario
from raretrace.analytics.network_template import Site, demo_sites, template_document
from raretrace.analytics.scenario import ScenarioReport, run_scenario
from raretrace.analytics.scenario_files import names, packaged_text
from raretrace.cli import render
from raretrace.cli.analyticscmd import JsonOption, PlotOption, analytics_app, write_text_file
from raretrace.cli.main import DbOption, _check_output, _state, _store, out
from raretrace.domain.errors import ConfigError

__all__ = ["corridor", "scenario"]

FileArgument = Annotated[
    Path | None,
    typer.Argument(metavar="FILE", help="Scenario file (JSON or YAML; docs/analytics.md)."),
]


@analytics_app.command()
def scenario(
    file: FileArgument = None,
    template: Annotated[
        Path | None,
        typer.Option(
            "--template",
            metavar="OUT",
            help="Write a scenario file instead: the default network (from --db's registry, "
            "else the demo world) and the packaged reference data; .yaml/.yml for YAML.",
        ),
    ] = None,
    example: Annotated[
        str | None,
        typer.Option(
            "--example",
            metavar="NAME",
            help=f"With --template: write a packaged scenario ({', '.join(names())}).",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    plot: PlotOption = None,
) -> None:
    """Solve the allocation that meets the most demand at least cost, baseline and shocked."""
    if template is not None:
        _write_template(template, file, example, db)
        return
    if example is not None or db is not None:
        given = "--example" if example is not None else "--db"
        raise ConfigError(f"{given} goes with --template OUT (it chooses what the template "
                          "is built from); a scenario FILE carries its own network")  # fmt: skip
    if file is None:
        raise ConfigError("give a scenario FILE, or --template OUT to write one")
    if plot is not None:
        _check_output(plot, "the chart")
    report = run_scenario(read_scenario(file))
    if plot is not None:
        from raretrace.analytics.scenario_plot import scenario_html

        write_text_file(plot, scenario_html(report))
    if as_json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        _render_scenario(report)
    if plot is not None and not as_json:
        out.print(f"chart written to {plot}", markup=False)


@analytics_app.command()
def corridor(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Scenario file with a corridor.")],
    enable: Annotated[
        list[str] | None,
        typer.Option("--enable", metavar="NAME", help=f"Switch on ({', '.join(CONSTRAINTS)})."),
    ] = None,
    disable: Annotated[
        list[str] | None,
        typer.Option("--disable", metavar="NAME", help="Switch off a constraint the file has on."),
    ] = None,
    no_resilience: Annotated[
        bool, typer.Option("--no-resilience", help="Skip the single-failure runs.")
    ] = False,
    as_json: JsonOption = False,
    plot: PlotOption = None,
) -> None:
    """Which capacity to add, where and through which hubs to meet the targets at least cost
    (a MIP), and the shortfall when any one plant, port or country fails."""
    if plot is not None:
        _check_output(plot, "the chart")
    report = plan_corridor(read_scenario(file), enable=enable or (), disable=disable or (),
                           resilience=not no_resilience)  # fmt: skip
    if plot is not None:
        from raretrace.analytics.scenario_plot import corridor_html

        write_text_file(plot, corridor_html(report))
    if as_json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        _render_corridor(report)
    if plot is not None and not as_json:
        out.print(f"chart written to {plot}", markup=False)


def _write_template(target: Path, file: Path | None, example: str | None, db: str | None) -> None:
    if file is not None:
        raise ConfigError("give FILE or --template OUT, not both")
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} exists; --template never overwrites: give a new file name")
    _check_output(target, "the scenario file")
    if example is not None:
        doc: dict[str, Any] = json.loads(packaged_text(example))
    elif db is not None or _state["db"] is not None:
        facilities = _store(db).registry().facilities.values()
        sites = [Site(f.id, f.name, f.country, f.stages, f.lat, f.lon) for f in facilities]
        doc = template_document(sites, origin="the ledger's registry")
    else:
        doc = template_document(demo_sites())
    if target.suffix.lower() in (".yaml", ".yml"):
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    else:
        text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    write_text_file(target, text)
    out.print(f"scenario file written to {target}: add shocks, then run "
              f"`raretrace analytics scenario {target}`", markup=False)  # fmt: skip


def _t(value: float) -> str:
    return f"{value:,.1f}"


def _render_scenario(report: ScenarioReport) -> None:
    out.print(f"{report.title or 'scenario'} — {report.year}", markup=False)
    for shock in report.shocks or ("no shocks",):
        out.print(f"  shock: {shock}", markup=False)
    base, hit = report.baseline, report.shocked
    out.print(f"cost: baseline US${base.cost_usd:,.0f}, shocked US${hit.cost_usd:,.0f}; "
              f"unmet: baseline {_t(base.unmet_t)} t, shocked {_t(hit.unmet_t)} t",
              markup=False)  # fmt: skip
    rows = render.table("region", "element", "demand t/y", "met (baseline)", "met (shocked)",
                        "unmet (shocked)", ids=["region"],
                        numbers=["demand t/y", "met (baseline)", "met (shocked)",
                                 "unmet (shocked)"])  # fmt: skip
    for b, s in zip(base.deliveries, hit.deliveries, strict=True):
        unmet = f"{_t(s.unmet_t)} ({s.unmet_t / s.demand_t:.0%})" if s.demand_t else "0.0"
        rows.add_row(s.region, s.element, _t(s.demand_t), _t(b.met_t), _t(s.met_t), unmet)
    render.print_table(out, rows)
    binding = render.table("binding after the shocks", "capacity t/y", "t unmet avoided per t",
                           "US$ saved per t", "from", ids=["binding after the shocks"],
                           numbers=["capacity t/y", "t unmet avoided per t",
                                    "US$ saved per t"])  # fmt: skip
    for c in hit.binding[:15]:
        binding.add_row(f"{c.kind} {c.id}", _t(c.capacity_t), f"{c.shortage_t_per_t:.3f}",
                        f"{c.shadow_usd_per_t:,.0f}", ", ".join(c.periods))  # fmt: skip
    render.print_table(out, binding)
    moved = render.table("lane", "element", "baseline t", "shocked t", "change t", ids=["lane"],
                         numbers=["baseline t", "shocked t", "change t"])  # fmt: skip
    for r in report.reroutes[:15]:
        moved.add_row(r.lane, r.element, _t(r.baseline_t), _t(r.shocked_t),
                      f"{r.shocked_t - r.baseline_t:+,.1f}")  # fmt: skip
    render.print_table(out, moved)
    if len(report.reroutes) > 15:
        out.print(render.shown_of(15, len(report.reroutes), "re-routed lanes"), markup=False)
    _render_shares(report)
    for line in (*hit.reasons, *report.notes):
        out.print(f"  {line}", markup=False)


def _render_shares(report: ScenarioReport) -> None:
    shares = render.table("element", "stage", "country shares (baseline)",
                          "country shares (shocked)", ids=["element"])  # fmt: skip
    for element in report.elements:
        base = report.baseline.stage_shares.get(element, {})
        hit = report.shocked.stage_shares.get(element, {})
        for stage in [s for s in base if s in hit] + [s for s in hit if s not in base]:
            shares.add_row(element, stage, render.join_shares(dict(base.get(stage, {}))),
                           render.join_shares(dict(hit.get(stage, {}))))  # fmt: skip
    render.print_table(out, shares)


def _render_corridor(report: CorridorReport) -> None:
    switched = ", ".join(report.constraints) or "none"
    out.print(f"{report.title or 'corridor plan'} — {report.year}; constraints on: {switched}",
              markup=False)  # fmt: skip
    plan = render.table("build", "site", "country", "capacity t/y", "US$ a year", ids=["build"],
                        numbers=["capacity t/y", "US$ a year"])  # fmt: skip
    for b in report.built:
        plan.add_row(b.option, b.site, b.country, _t(b.capacity_t), f"{b.annual_cost_usd:,.0f}")
    render.print_table(out, plan)
    total = report.build_cost_usd + report.operating_cost_usd
    out.print(f"cost a year: build US${report.build_cost_usd:,.0f} + operate "
              f"US${report.operating_cost_usd:,.0f} = US${total:,.0f}", markup=False)  # fmt: skip
    for t in report.targets:
        out.print(f"target {t.id}: {_t(t.achieved_t)} of {_t(t.required_t)} t/y", markup=False)
    hubs = render.table("hub", "country", "t/y through", "capacity t/y", ids=["hub"],
                        numbers=["t/y through", "capacity t/y"])  # fmt: skip
    for h in report.hubs:
        hubs.add_row(h.port, h.country, _t(h.t), "no limit" if h.capacity_t is None else
                     _t(h.capacity_t))  # fmt: skip
    render.print_table(out, hubs)
    failures = render.table("failure", "target shortfall t/y", "of the targets",
                            "others' extra shortfall t/y", ids=["failure"],
                            numbers=["target shortfall t/y", "of the targets",
                                     "others' extra shortfall t/y"])  # fmt: skip
    for f in report.resilience[:20]:
        failures.add_row(f"{f.kind} {f.id}", _t(f.target_shortfall_t), f"{f.share:.0%}",
                         _t(f.other_shortfall_t))  # fmt: skip
    if report.resilience:
        render.print_table(out, failures)
