"""The dashboard's charts (Plotly), as ``<div>`` fragments drawn by the page's own
``plotly.min.js`` (served from the Plotly wheel, ``/ui/vendor/plotly.min.js``); the world map's
outlines are fetched from this application (``topojsonURL``), never from Plotly's CDN."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
import plotly.io as pio  # type: ignore[import-untyped]
from markupsafe import Markup

from raretrace.analytics.plots import concentration_bars, sankey
from raretrace.analytics.scenario import ScenarioReport
from raretrace.analytics.scenario_plot import binding_figure, shortfall_figure
from raretrace.domain.elements import RARE_EARTHS
from raretrace.service.dashboard import TreeSize
from raretrace.web.overview import LicenceStatus, Overview

TOPOJSON_URL = "/ui/vendor/topojson/"
CONFIG: dict[str, Any] = {"topojsonURL": TOPOJSON_URL, "displaylogo": False, "responsive": True}
STAGE_COLOURS = {
    "mine": "#8c564b", "concentrator": "#bcbd22", "cracking": "#e377c2", "separation": "#1f77b4",
    "reduction": "#17becf", "alloying": "#9467bd", "magnet": "#d62728", "recycling": "#2ca02c",
    "warehouse": "#7f7f7f",
}  # fmt: skip
LICENCE_SYMBOLS = {"licensed": "circle", "expiring": "diamond", "expired": "x",
                   "none": "circle-open"}  # fmt: skip


def div(fig: go.Figure, div_id: str, *, height: int = 480) -> Markup:
    """``fig`` as a ``<div>`` and the inline script that draws it (no plotly.js inside)."""
    fig.update_layout(height=height, margin={"l": 40, "r": 20, "t": 60, "b": 40},
                      autosize=True)  # fmt: skip
    text = pio.to_html(fig, full_html=False, include_plotlyjs=False, config=CONFIG,
                       div_id=div_id, default_width="100%")  # fmt: skip
    return Markup(f'<div class="chart" role="img" aria-labelledby="{div_id}-caption">{text}</div>')


def flows_sankey(o: Overview) -> Markup:
    return div(sankey(o.flows), "flows-sankey", height=560)


def concentration(o: Overview) -> Markup:
    return div(concentration_bars(o.concentration), "concentration-bars", height=480)


def facilities_map(o: Overview) -> Markup:
    """Every facility with coordinates (colour: stage; symbol: licence status) and the
    lanes between them (width: kg of rare earths shipped)."""
    fig = go.Figure()
    where = {s.facility.id: s.facility for s in o.licences}
    totals = [(lane, sum(kg for e, kg in lane.kg.items() if e in RARE_EARTHS))
              for lane in o.flows.lanes]  # fmt: skip
    heaviest = max((kg for _, kg in totals), default=0.0) or 1.0
    for lane, kg in totals:
        a, b = where.get(lane.source), where.get(lane.target)
        if a is None or b is None or None in (a.lat, a.lon, b.lat, b.lon):
            continue
        fig.add_trace(go.Scattergeo(
            lon=[a.lon, b.lon], lat=[a.lat, b.lat], mode="lines", showlegend=False,
            line={"width": 1 + 6 * kg / heaviest, "color": "#d62728"}, opacity=0.5,
            hoverinfo="text", text=f"{a.id} → {b.id}: {kg:,.1f} kg of rare earths",
        ))  # fmt: skip
    for stage, colour in STAGE_COLOURS.items():
        shown = [s for s in o.licences if s.facility.stage == stage and s.facility.lat is not None]
        if shown:
            fig.add_trace(_markers(stage, colour, shown))
    fig.update_geos(showcountries=True, showland=True, landcolor="#eeeeee",
                    fitbounds="locations", projection_type="natural earth")  # fmt: skip
    fig.update_layout(title="Facilities (colour: stage; symbol: licence) and lanes",
                      legend={"orientation": "h"})  # fmt: skip
    return div(fig, "facilities-map", height=520)


def _markers(stage: str, colour: str, shown: Sequence[LicenceStatus]) -> go.Scattergeo:
    return go.Scattergeo(
        name=stage, lon=[s.facility.lon for s in shown], lat=[s.facility.lat for s in shown],
        mode="markers", marker={"size": 10, "color": colour,
                                "symbol": [LICENCE_SYMBOLS[s.status] for s in shown]},
        text=[f"{s.facility.id} ({stage}, {s.facility.country}): licence {s.status}"
              for s in shown], hoverinfo="text",
    )  # fmt: skip


def route_shares(routes: Mapping[str, Sequence[Mapping[str, Any]]]) -> Markup:
    """Per element, the share of the lot's content that took each route (stacked, 100 %)."""
    fig = go.Figure()
    labels: dict[str, dict[str, float]] = {}
    for element, taken in routes.items():
        for route in taken:
            label = " → ".join(f"{s['stage']} {s['country']}" for s in route["steps"])
            labels.setdefault(label, {})[element] = route["share"]
    elements = list(routes)
    for label, by_element in labels.items():
        fig.add_trace(go.Bar(
            name=label, x=elements, y=[100 * by_element.get(e, 0.0) for e in elements],
            hovertemplate="%{x}: %{y:.1f} % by " + label.replace("%", "%%") + "<extra></extra>",
        ))  # fmt: skip
    fig.update_layout(barmode="stack", title="Route shares per element (%)",
                      yaxis={"title": "% of the element", "range": [0, 100]},
                      showlegend=len(labels) <= 6, legend={"orientation": "h"})  # fmt: skip
    return div(fig, "route-shares", height=380)


def origin_bars(by_country: Mapping[str, Mapping[str, float]]) -> Markup:
    """Per element, the share of its content mined in each country."""
    countries = sorted({c for shares in by_country.values() for c in shares})
    elements = list(by_country)
    fig = go.Figure([
        go.Bar(name=c, x=elements, y=[100 * by_country[e].get(c, 0.0) for e in elements],
               hovertemplate=f"{c}: %{{y:.1f}} %<extra>%{{x}}</extra>")
        for c in countries
    ])  # fmt: skip
    fig.update_layout(barmode="stack", title="Origin by country (% of each element)",
                      yaxis={"range": [0, 100], "title": "%"})  # fmt: skip
    return div(fig, "origin-bars", height=340)


def lineage_graph(nodes: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]]
                  ) -> Markup:  # fmt: skip
    """The lineage as a flow graph: lots and events as nodes, kg along the links, upstream
    (mines) on the left; hover a node or link for its kg, drag nodes to untangle."""
    index = {n["id"]: i for i, n in enumerate(nodes)}
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat=",.1f", valuesuffix=" kg",
        node={"label": [n["label"] for n in nodes], "color": [n["colour"] for n in nodes],
              "pad": 10, "thickness": 14},
        link={"source": [index[link["from"]] for link in links],
              "target": [index[link["to"]] for link in links],
              "value": [max(link["kg"], 1e-6) for link in links]},
    ))  # fmt: skip
    fig.update_layout(title="Lineage: lots (grey) and events (coloured by type), upstream left")
    return div(fig, "lineage-graph", height=max(360, min(900, 26 * len(nodes))))


def scenario_charts(report: ScenarioReport) -> Markup:
    return div(shortfall_figure(report), "scenario-unmet", height=420) + div(
        binding_figure(report), "scenario-binding", height=420
    )


def tree_size_chart(sizes: Sequence[TreeSize]) -> Markup:
    """The log's tree size at each stored checkpoint (thinned), over the time it was signed."""
    fig = go.Figure(go.Scatter(
        x=[s.time for s in sizes], y=[s.size for s in sizes], mode="lines+markers",
        line={"shape": "hv", "color": "#1f77b4"}, marker={"size": 4},
        hovertemplate="%{y:,} entries<br>%{x} UTC<extra></extra>",
    ))  # fmt: skip
    fig.update_layout(title="Tree size over time (entries; checkpoint times in UTC)",
                      xaxis_title="checkpoint signed (UTC)", yaxis_title="entries",
                      yaxis={"rangemode": "tozero", "tickformat": ","})  # fmt: skip
    return div(fig, "tree-size", height=360)
