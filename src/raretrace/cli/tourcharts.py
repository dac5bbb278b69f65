"""The demo tour's analytics: one chart of each kind (flows with their map, concentration, a
supply-shock scenario) written beside the demo ledger through the same functions
``raretrace analytics flows|concentration|scenario --plot`` use, a line about each, and the
commands that make them again."""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from raretrace.analytics import service
from raretrace.analytics.concentration import LIMIT, ConcentrationReport
from raretrace.analytics.flows import FlowReport
from raretrace.analytics.network_file import read_scenario
from raretrace.analytics.period import parse_period
from raretrace.analytics.scenario import ScenarioReport, run_scenario
from raretrace.analytics.scenario_files import packaged_path
from raretrace.cli import render
from raretrace.service.ledgers import Store

__all__ = ["CHART_ELEMENT", "CORRIDOR", "SCENARIO", "TourCharts", "charts_folder", "commands",
           "show", "write_charts"]  # fmt: skip

#: The packaged scenario the tour runs (Lynas Malaysia down three months, a Chinese Dy/Tb
#: export ban) and the corridor plan it suggests; both are copied into the charts folder so
#: the suggested commands run there, and can be edited and run again.
SCENARIO, CORRIDOR = "demo-tour", "corridor-asean-2030"
#: The element the tour's summary of flows (and its suggested one-element chart) follows.
CHART_ELEMENT = "Dy"


@dataclass(frozen=True, slots=True)
class TourCharts:
    """What the tour wrote (in ``folder``) and one line about each chart."""

    folder: Path
    flows: Path
    concentration: Path
    scenario: Path
    scenario_file: Path
    corridor_file: Path
    lines: tuple[str, ...]


def charts_folder(db: str) -> Path:
    """``raretrace-demo-charts`` beside a demo ledger file (in the working folder for a URL)."""
    if "://" in db:
        return Path("raretrace-demo-charts")
    path = Path(db)
    return path.with_name(f"{path.stem}-charts")


def write_charts(store: Store, folder: Path) -> TourCharts:
    """Write flows.html (Sankey and map), concentration.html and scenario.html to ``folder``,
    with the scenario files they and the suggested commands use."""
    from raretrace.analytics.plots import concentration_html, flows_html
    from raretrace.analytics.scenario_plot import scenario_html
    from raretrace.cli.analyticscmd import write_text_file

    folder.mkdir(parents=True, exist_ok=True)
    scenario_file, corridor_file = folder / f"{SCENARIO}.json", folder / f"{CORRIDOR}.json"
    for name, target in ((SCENARIO, scenario_file), (CORRIDOR, corridor_file)):
        shutil.copyfile(packaged_path(name), target)
    period = parse_period(None, None)
    flows = service.flows(store, period, None)
    write_text_file(folder / "flows.html", flows_html(flows, store.registry().facilities))
    concentration = service.concentration(store, period)
    write_text_file(folder / "concentration.html", concentration_html(concentration))
    scenario = run_scenario(read_scenario(scenario_file))
    write_text_file(folder / "scenario.html", scenario_html(scenario))
    lines = (_flows_line(flows), _concentration_line(concentration), _scenario_line(scenario))
    return TourCharts(
        folder, folder / "flows.html", folder / "concentration.html", folder / "scenario.html",
        scenario_file, corridor_file, lines,
    )  # fmt: skip


def _flows_line(report: FlowReport) -> str:
    what = (
        "flows.html: a Sankey of each element's kg between (stage, country) pairs, and a map"
        " of the lanes"
    )
    flows = report.elements.get(CHART_ELEMENT)
    if flows is None or not flows.links:
        return f"{what}; no {CHART_ELEMENT} moved"
    top = max(flows.links, key=lambda link: link.kg)
    return (
        f"{what}; {CHART_ELEMENT}: {render.kg(flows.totals['entered_kg'])} kg entered, the"
        f" largest flow {' '.join(top.source)} → {' '.join(top.target)}"
        f" {render.kg(top.kg)} kg ({top.kind})"
    )


def _concentration_line(report: ConcentrationReport) -> str:
    """The most concentrated stage of a magnet element (recycling left out: one recycler)."""
    rows = [
        (c.top_share, c.total_kg, element, stage, c)
        for element, stages in report.elements.items() if element in render.MAGNET_ELEMENTS
        for stage, c in stages.items() if stage != "recycling" and c.total_kg > 0
    ]  # fmt: skip
    if not rows:
        return "concentration.html: output by country per element and stage; none yet"
    share, kg, element, stage, c = max(rows, key=lambda r: r[:2])
    limit = "above" if share > LIMIT else "within"
    return (
        "concentration.html: output by country per element and stage, with HHI; the most"
        f" concentrated: {element} {stage}, {c.top_country} {render.share(share)} of"
        f" {render.kg(kg)} kg (HHI {c.hhi:,.0f}), {limit} the EU CRMA's 65% limit"
    )


def _scenario_line(report: ScenarioReport) -> str:
    hit = report.shocked
    worst = max(hit.deliveries, key=lambda d: d.unmet_t / d.demand_t if d.demand_t else 0.0)
    line = (
        f"scenario.html: {report.title} (an LP): unmet demand"
        f" {report.baseline.unmet_t:,.1f} t a year at baseline, {hit.unmet_t:,.1f} t shocked"
    )
    if worst.unmet_t > 0:
        line += (
            f"; worst: {worst.region} {worst.element}, {worst.unmet_t:,.1f} of"
            f" {worst.demand_t:,.1f} t unmet ({worst.unmet_t / worst.demand_t:.0%})"
        )
    return line


def show(out: Console, charts: TourCharts) -> None:
    out.print(
        "\n[bold]Analytics[/] (raretrace analytics, docs/analytics.md): charts written to"
        f" {charts.folder}/, one HTML file each that opens offline in a browser:"
    )
    for line in charts.lines:
        out.print(f"  {line}", markup=False)


def commands(ledger: str, charts: TourCharts) -> list[tuple[str, str]]:
    """The analytics commands to try next, as they run from the tour's working folder."""

    def q(path: Path) -> str:
        return shlex.quote(str(path))

    return [
        (
            f"{ledger} analytics flows --element {CHART_ELEMENT} --plot"
            f" {q(charts.folder / f'flows-{CHART_ELEMENT}.html')}",
            f"{CHART_ELEMENT}'s flows alone, with its chart (--from/--to for a period, --json)",
        ),
        (
            f"{ledger} analytics concentration --from 2025-07-01 --to 2025-12-31",
            "output by country per element and stage in the second half of 2025",
        ),
        (
            f"raretrace analytics scenario {q(charts.scenario_file)} --plot {q(charts.scenario)}",
            "the supply-shock scenario of scenario.html: edit its shocks and run it again",
        ),
        (
            f"raretrace analytics corridor {q(charts.corridor_file)}",
            "the ASEAN corridor plan (a MIP): which capacity to build where to make magnets"
            " without Chinese Dy/Tb, and the shortfall if any one plant, port or country fails",
        ),
    ]
