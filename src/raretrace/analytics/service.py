"""One function per analytics command: read through ``reading.py``, compute with the pure
modules, return a report the CLI renders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from raretrace.analytics import reading
from raretrace.analytics.concentration import (
    ConcentrationReport,
    StageOutputs,
    concentration_report,
)
from raretrace.analytics.engine import FlowEngine
from raretrace.analytics.flows import BEFORE, IN, FlowReport, check_element, flow_report
from raretrace.analytics.opendata import OpenTables, bucket_by, open_tables
from raretrace.analytics.period import Period
from raretrace.analytics.settings import AnalyticsSettings
from raretrace.analytics.warnings import Inputs, WarningsReport, Windows, warnings_report
from raretrace.analytics.world import asean_members, world_supply
from raretrace.store.store import Store

__all__ = ["concentration", "flows", "open_data", "period_days", "warnings"]


def _in_or_before(period: Period) -> Callable[[str], str | None]:
    start = period.start
    if start is None:
        return lambda _time: IN
    return lambda time: IN if time >= start else BEFORE


def flows(store: Store, period: Period, element: str | None = None) -> FlowReport:
    """``analytics flows``: every material event up to the period's end, in log order."""
    element = check_element(element)
    view = reading.ledger_view(store)
    engine = FlowEngine(view.registry.facilities, view.tolerance, _in_or_before(period))
    for time, event in reading.events(store, reading.FLOW_TYPES, until=period.end):
        engine.feed(time, event)
    return flow_report(engine, period, element)


def _parse(stored: str) -> datetime:
    return datetime.fromisoformat(stored.replace("Z", "+00:00"))


def period_days(period: Period, first_time: str | None, last_time: str | None) -> float:
    """The period's length in days; an open end is the ledger's first or last event."""
    start = period.start or first_time
    end = period.end or last_time
    if start is None or end is None:
        return 0.0
    return max((_parse(end) - _parse(start)).total_seconds() / 86400.0, 0.0)


def concentration(store: Store, period: Period) -> ConcentrationReport:
    """``analytics concentration``: the outputs of extractions and transforms in the period."""
    view = reading.ledger_view(store)
    outputs = StageOutputs(view.registry.facilities, lambda _time: IN)
    for time, event in reading.events(
        store, reading.OUTPUT_TYPES, since=period.start, until=period.end
    ):
        outputs.feed(time, event)
    return concentration_report(
        outputs.kg,
        period=period,
        world=world_supply(),
        asean=asean_members(),
        days=period_days(period, view.first_time, view.last_time),
    )


def warnings(store: Store, as_of: date, settings: AnalyticsSettings) -> WarningsReport:
    """``analytics warnings``: one pass over the events up to the as-of day's end."""
    view = reading.ledger_view(store)
    win = Windows.ending(as_of, days=settings.trend.period_days, periods=settings.trend.periods)
    facilities = view.registry.facilities
    engine = FlowEngine(facilities, view.tolerance, win.bucket_of, holdings=True)
    outputs = StageOutputs(facilities, win.bucket_of)
    for time, event in reading.events(store, reading.FLOW_TYPES, until=win.end):
        engine.feed(time, event)
        if event["type"] in reading.OUTPUT_TYPES:
            outputs.feed(time, event)
    inputs = Inputs(engine, outputs, view.registry, reading.discrepancies(store))
    return warnings_report(inputs, settings, win)


def open_data(store: Store, period: Period, settings: AnalyticsSettings) -> OpenTables:
    """``open-data export``: the public tables of the period, suppressed at k."""
    view = reading.ledger_view(store)
    label = bucket_by(settings.open_data.period)
    start = period.start

    def bucket_of(time: str) -> str | None:
        return None if start is not None and time < start else label(time)

    facilities = view.registry.facilities
    engine = FlowEngine(facilities, view.tolerance, bucket_of, participants=True)
    outputs = StageOutputs(facilities, bucket_of, participants=True)
    for time, event in reading.events(store, reading.FLOW_TYPES, until=period.end):
        engine.feed(time, event)
        if event["type"] in reading.OUTPUT_TYPES:
            outputs.feed(time, event)
    k = settings.open_data.k
    return open_tables(engine, outputs, view.registry, k=k, period=settings.open_data.period)
