"""Charts of a scenario (unmet demand per region and element, baseline beside shocked; the
binding capacities) and of a corridor plan (shortfall under each failure), as one
self-contained HTML page each (``plots.page``: plotly.js embedded, nothing fetched)."""

from __future__ import annotations

import plotly.graph_objects as go  # type: ignore[import-untyped]

from raretrace.analytics.corridor import CorridorReport
from raretrace.analytics.plots import page
from raretrace.analytics.scenario import Run, ScenarioReport

__all__ = ["corridor_html", "scenario_html"]


def _unmet_bars(run: Run, name: str, colour: str) -> go.Bar:
    labels = [f"{d.region} {d.element}" for d in run.deliveries]
    shares = [d.unmet_t / d.demand_t if d.demand_t else 0.0 for d in run.deliveries]
    return go.Bar(
        name=name, x=labels, y=[d.unmet_t for d in run.deliveries], marker_color=colour,
        customdata=shares, hovertemplate="%{x}: %{y:,.1f} t unmet (%{customdata:.1%})"
        "<extra>" + name + "</extra>",
    )  # fmt: skip


def shortfall_figure(report: ScenarioReport) -> go.Figure:
    """Unmet demand per region and element, baseline and shocked."""
    fig = go.Figure([
        _unmet_bars(report.baseline, "baseline", "#7f7f7f"),
        _unmet_bars(report.shocked, "shocked", "#d62728"),
    ])  # fmt: skip
    fig.update_layout(
        title=f"Unmet demand, {report.year} (t of element a year)", barmode="group",
        yaxis_title="t unmet", xaxis_title="region and element", legend_title="allocation",
    )  # fmt: skip
    return fig


def binding_figure(report: ScenarioReport) -> go.Figure:
    """The shocked allocation's binding capacities by the unmet demand each causes."""
    rows = [b for b in report.shocked.binding if b.shortage_t_per_t > 0][:15]
    fig = go.Figure(go.Bar(
        x=[b.shortage_t_per_t for b in rows], y=[f"{b.kind} {b.id}" for b in rows],
        orientation="h", marker_color="#1f77b4",
        hovertemplate="%{y}: one more t/y of capacity, %{x:.3f} t less unmet<extra></extra>",
    ))  # fmt: skip
    fig.update_layout(
        title="Bottlenecks after the shocks: t of unmet demand avoided per t/y of capacity",
        yaxis={"autorange": "reversed"}, xaxis_title="t unmet avoided per t/y",
    )  # fmt: skip
    return fig


def scenario_html(report: ScenarioReport) -> str:
    """The scenario's charts as one HTML page."""
    title = report.title or f"Scenario {report.year}"
    return page(f"{title}: shortfalls", [shortfall_figure(report), binding_figure(report)])


def corridor_html(report: CorridorReport) -> str:
    """The corridor plan's resilience: target shortfall under each single failure."""
    rows = [f for f in report.resilience if f.target_shortfall_t > 0]
    fig = go.Figure(go.Bar(
        x=[f.share for f in rows], y=[f"{f.kind} {f.id}" for f in rows], orientation="h",
        customdata=[f.target_shortfall_t for f in rows], marker_color="#d62728",
        hovertemplate="%{y} fails: %{customdata:,.1f} t short (%{x:.1%} of the targets)"
        "<extra></extra>",
    ))  # fmt: skip
    fig.update_layout(
        title="Shortfall against the targets when one plant, port or country fails",
        xaxis={"tickformat": ".0%", "range": [0, 1]}, yaxis={"autorange": "reversed"},
    )  # fmt: skip
    title = report.title or f"Corridor plan {report.year}"
    return page(f"{title}: resilience", [fig])
