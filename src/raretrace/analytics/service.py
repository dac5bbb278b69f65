"""One function per analytics command: read through ``reading.py`` (or the aggregate cache,
``folded.py``), compute with the pure modules, return a report the CLI renders.

``flows``, ``concentration`` and ``warnings`` answer from the aggregate cache, folding the
events appended since the last run first; ``recompute=True`` (and any database the cache
cannot be written to) follows every event instead, which is what the cache is checked
against (``check_cache``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection

from raretrace.analytics import fold, folded, reading
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
from raretrace.analytics.warnings import BEFORE as EARLIER
from raretrace.analytics.warnings import Inputs, WarningsReport, Windows, warnings_report
from raretrace.analytics.world import asean_members, world_supply
from raretrace.store.aggregates import FoldState
from raretrace.store.engine import open_engine
from raretrace.store.store import Store

__all__ = [
    "CacheCheck",
    "check_cache",
    "concentration",
    "flows",
    "open_data",
    "period_days",
    "refresh_cache",
    "warnings",
]


def _in_or_before(period: Period) -> Callable[[str], str | None]:
    start = period.start
    if start is None:
        return lambda _time: IN
    return lambda time: IN if time >= start else BEFORE


def _flow_ranges(period: Period) -> folded.Ranges:
    end = None if period.last is None else period.last + timedelta(days=1)
    inside = {IN: (period.first, end)}
    return inside if period.first is None else {BEFORE: (None, period.first), **inside}


def flows(
    store: Store, period: Period, element: str | None = None, *, recompute: bool = False
) -> FlowReport:
    """``analytics flows``: the sums of every material event up to the period's end."""
    element = check_element(element)
    if not recompute:
        ranges = _flow_ranges(period)

        def read(conn: Connection, state: FoldState) -> FlowReport:
            sums = folded.read_sums(conn, state, ranges, links={IN: ranges[IN]}, element=element)
            return flow_report(sums, period, element)

        report = folded.cached(store, read)
        if report is not None:
            return report
    view = reading.ledger_view(store, span=False)
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


def concentration(store: Store, period: Period, *, recompute: bool = False) -> ConcentrationReport:
    """``analytics concentration``: the outputs of extractions and transforms in the period."""
    if not recompute:
        inside = _flow_ranges(period)[IN]

        def read(conn: Connection, state: FoldState) -> ConcentrationReport:
            view = reading.ledger_view(store, conn, span=False)
            outputs = folded.read_outputs(conn, view.registry.facilities, {IN: inside})
            return _concentration(outputs, period, state.first_time, state.last_time)

        report = folded.cached(store, read)
        if report is not None:
            return report
    view = reading.ledger_view(store)
    outputs = StageOutputs(view.registry.facilities, lambda _time: IN)
    for time, event in reading.events(
        store, reading.OUTPUT_TYPES, since=period.start, until=period.end
    ):
        outputs.feed(time, event)
    return _concentration(outputs, period, view.first_time, view.last_time)


def _concentration(
    outputs: StageOutputs, period: Period, first: str | None, last: str | None
) -> ConcentrationReport:
    return concentration_report(
        outputs.kg,
        period=period,
        world=world_supply(),
        asean=asean_members(),
        days=period_days(period, first, last),
    )


def _window_ranges(win: Windows) -> folded.Ranges:
    days = [date.fromisoformat(b[:10]) for b in win.bounds]
    ranges: dict[str, tuple[date | None, date | None]] = {EARLIER: (None, days[0])}
    for i, label in enumerate(win.labels):
        ranges[label] = (days[i], days[i + 1])
    return ranges


def warnings(
    store: Store, as_of: date, settings: AnalyticsSettings, *, recompute: bool = False
) -> WarningsReport:
    """``analytics warnings``: the sums of the events up to the as-of day's end, per window."""
    win = Windows.ending(as_of, days=settings.trend.period_days, periods=settings.trend.periods)
    if not recompute:
        ranges = _window_ranges(win)

        def read(conn: Connection, state: FoldState) -> Inputs:
            view = reading.ledger_view(store, conn, span=False)
            sums = folded.read_sums(conn, state, ranges, warnings=True)
            outputs = folded.read_outputs(conn, view.registry.facilities, ranges)
            return Inputs(sums, outputs, view.registry, reading.discrepancies(store))

        inputs = folded.cached(store, read)
        if inputs is not None:
            return warnings_report(inputs, settings, win)
    view = reading.ledger_view(store, span=False)
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


def refresh_cache(store: Store, *, rebuild: bool = False) -> fold.Folded:
    """``analytics cache``: fold the events not yet in the aggregate cache (all of them again
    with ``rebuild``). Raises the database's error if it cannot be written."""
    writer = open_engine(store.url, access="write")
    try:
        return fold.fold_into(store, writer, rebuild=rebuild)
    finally:
        writer.dispose()


@dataclass(frozen=True, slots=True)
class CacheCheck:
    """One comparison of a cached answer with the recomputation: ``what`` was asked, and
    the JSON paths whose numbers differ by more than ``TOLERANCE`` (none: they agree)."""

    what: str
    differences: tuple[str, ...]


#: Cached and recomputed sums add the same numbers in another order: they may differ in the
#: last bits, never by more than this (relative to the larger, or absolute below 1 kg).
TOLERANCE = 1e-9


def check_cache(store: Store, periods: list[Period]) -> list[CacheCheck]:
    """Compare flows and concentration from the cache with the full recomputation, for the
    whole ledger and each of ``periods``."""
    checks = []
    for period in [Period(), *periods]:
        bounds = period.to_json()
        label = (
            "over the whole ledger"
            if period.first is None and period.last is None
            else f"from {bounds['from'] or 'the first event'} to {bounds['to'] or 'the last'}"
        )
        pairs = (
            ("flows", flows(store, period), flows(store, period, recompute=True)),
            ("concentration", concentration(store, period),
             concentration(store, period, recompute=True)),
        )  # fmt: skip
        for what, cached, full in pairs:
            found = differences(cached.to_json(), full.to_json())
            checks.append(CacheCheck(f"{what} {label}", tuple(found)))
    return checks


def differences(a: object, b: object, path: str = "") -> list[str]:
    """The JSON paths where ``a`` and ``b`` differ (numbers within ``TOLERANCE``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}/{k}: only in one" for k in sorted(a.keys() ^ b.keys(), key=str)]
        for k in sorted(a.keys() & b.keys(), key=str):
            out.extend(differences(a[k], b[k], f"{path}/{k}"))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items against {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differences(x, y, f"{path}/{i}")]  # fmt: skip
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        scale = max(abs(a), abs(b), 1.0)
        return [] if abs(a - b) <= TOLERANCE * scale else [f"{path}: {a} against {b}"]
    return [] if a == b else [f"{path}: {a!r} against {b!r}"]
