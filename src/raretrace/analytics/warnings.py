"""Early warning: the indicators a council watches, each against its threshold from the
settings (``settings.py``), with its value now, its trend over the last periods and the
evidence behind it (docs/analytics.md, *Early warning*).

Pure: it reads the flow pass (``engine.py``), the stage outputs (``concentration.py``), the
registry and the ledger's discrepancies as plain values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from raretrace.analytics.concentration import StageOutputs
from raretrace.analytics.engine import FlowSums
from raretrace.analytics.indices import concentration
from raretrace.analytics.period import day_start
from raretrace.analytics.settings import AnalyticsSettings
from raretrace.domain.licensing import audit_standing, licence_standing
from raretrace.domain.registry import Registry

__all__ = ["BEFORE", "Indicator", "WarningsReport", "Windows", "warnings_report"]

WARNING, OK = "warning", "ok"
BEFORE = "a-before"
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class Windows:
    """The trend's periods ending on the as-of day: ``bounds[i]`` to ``bounds[i+1]``, oldest
    first; the last is the current window."""

    as_of: date
    bounds: tuple[str, ...]
    days: int

    @classmethod
    def ending(cls, as_of: date, *, days: int, periods: int) -> Windows:
        end = as_of + timedelta(days=1)
        starts = [end - timedelta(days=days * (periods + 1 - i)) for i in range(periods + 2)]
        return cls(as_of, tuple(day_start(d) for d in starts), days)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(f"w{i:03d}" for i in range(len(self.bounds) - 1))

    @property
    def current(self) -> str:
        return self.labels[-1]

    @property
    def end(self) -> str:
        return self.bounds[-1]

    def bucket_of(self, time: str) -> str | None:
        if time < self.bounds[0]:
            return BEFORE
        for i in range(len(self.bounds) - 1, 0, -1):
            if time >= self.bounds[i - 1]:
                return None if i == len(self.bounds) else f"w{i - 1:03d}"
        return None  # pragma: no cover - the first test returns before this

    def to_json(self) -> list[dict[str, str]]:
        return [
            {"from": self.bounds[i][:10], "to": _day_before(self.bounds[i + 1])}
            for i in range(len(self.bounds) - 1)
        ]


def _day_before(bound: str) -> str:
    return (date.fromisoformat(bound[:10]) - timedelta(days=1)).isoformat()


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator on one subject: its value in the current window against its threshold,
    its values in the earlier windows (oldest first, the current last), and the evidence."""

    indicator: str
    subject: str
    value: float | None
    threshold: float
    unit: str
    status: str
    trend: tuple[float | None, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator,
            "subject": self.subject,
            "status": self.status,
            "value": _round(self.value),
            "threshold": self.threshold,
            "unit": self.unit,
            "trend": [_round(v) for v in self.trend],
            "evidence": self.evidence,
        }


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 6) + 0.0


@dataclass(frozen=True, slots=True)
class WarningsReport:
    """``raretrace analytics warnings``."""

    windows: Windows
    settings_source: str
    indicators: tuple[Indicator, ...]

    @property
    def warnings(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.status == WARNING)

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.windows.as_of.isoformat(),
            "settings": self.settings_source,
            "periods": self.windows.to_json(),
            "warnings": len(self.warnings),
            "indicators": [i.to_json() for i in self.indicators],
        }


class Discrepant(Protocol):
    """A receipt beyond tolerance, as the store lists it (``store.DiscrepancyRow``)."""

    @property
    def event_id(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def destination(self) -> str: ...
    @property
    def time(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the indicators read, gathered by ``service.warnings``."""

    engine: FlowSums
    outputs: StageOutputs
    registry: Registry
    discrepancies: Sequence[Discrepant]


def _status(breached: bool) -> str:
    return WARNING if breached else OK


def _single_country(inp: Inputs, s: AnalyticsSettings, w: Windows) -> list[Indicator]:
    cfg = s.single_country_share
    cells: dict[tuple[str, str, str], dict[str, float]] = {}
    for (bucket, e, stage, country), kg in inp.outputs.kg.items():
        if bucket != BEFORE and e in cfg.elements and stage in cfg.stages:
            cell = cells.setdefault((e, stage, bucket), {})
            cell[country] = cell.get(country, 0.0) + kg
    found = []
    for e in cfg.elements:
        for stage in cfg.stages:
            per = {
                b: concentration(cells[(e, stage, b)]) for b in w.labels if (e, stage, b) in cells
            }
            if not per:
                continue
            trend = tuple(per[b].top_share if b in per else None for b in w.labels)
            now = per.get(w.current)
            value = now.top_share if now else None
            evidence = {} if now is None else {
                "country": now.top_country, "kg": round(now.kg[now.top_country or ""], 6),
                "total_kg": round(now.total_kg, 6),
            }  # fmt: skip
            found.append(Indicator(
                "single-country-share", f"{e} at {stage}", value, cfg.max_share, "share",
                _status(value is not None and value > cfg.max_share), trend, evidence,
            ))  # fmt: skip
    return found


def _upto(
    held: Mapping[tuple[str, str, str], Mapping[str, float]], facility: str, forms: Sequence[str],
    elements: Sequence[str], labels: Sequence[str],
) -> float:  # fmt: skip
    buckets = {BEFORE, *labels}
    return sum(
        els.get(e, 0.0)
        for (b, f, form), els in held.items()
        if b in buckets and f == facility and form in forms
        for e in elements
    )


def _days_of_cover(inp: Inputs, s: AnalyticsSettings, w: Windows) -> list[Indicator]:
    cfg = s.days_of_cover
    consumed: dict[tuple[str, str], dict[str, float]] = {}
    for (bucket, measure, node), els in inp.engine.nodes.items():
        if measure == "consumed":
            acc = consumed.setdefault((bucket, node[2]), {})
            for e, kg in els.items():
                acc[e] = acc.get(e, 0.0) + kg
    found = []
    for fid, facility in sorted(inp.registry.facilities.items()):
        if not set(facility.stages) & set(cfg.stages):
            continue
        for group, elements in cfg.groups.items():
            trend: list[float | None] = []
            stock = used = 0.0
            for i, b in enumerate(w.labels):
                stock = _upto(inp.engine.held, fid, cfg.forms, elements, w.labels[: i + 1])
                used = sum(consumed.get((b, fid), {}).get(e, 0.0) for e in elements)
                trend.append(stock / (used / w.days) if used > 0 else None)
            if stock <= 0 and used <= 0:
                continue
            value = trend[-1]
            found.append(Indicator(
                "days-of-cover", f"{group} at {fid}", value, cfg.min_days, "days",
                _status(value is not None and value < cfg.min_days), tuple(trend),
                {"stock_kg": round(stock, 6), "consumed_kg": round(used, 6),
                 "window_days": w.days, "forms": list(cfg.forms)},
            ))  # fmt: skip
    return found


def _rate(stats: Sequence[Any]) -> tuple[int, int, float]:
    receipts = sum(x.receipts for x in stats)
    bad = sum(x.discrepant for x in stats)
    return receipts, bad, -sum(x.discrepant_kg for x in stats)


def _discrepancy(inp: Inputs, s: AnalyticsSettings, w: Windows) -> list[Indicator]:
    cfg = s.discrepancy_rate
    routes = sorted({(a, b) for (bucket, a, b) in inp.engine.routes if bucket != BEFORE})
    subjects: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for a, b in routes:
        subjects.setdefault(("route", f"{a} → {b}"), []).append((a, b))
    for a, b in routes:
        for f in (a, b):
            subjects.setdefault(("facility", f), []).append((a, b))
    start = w.bounds[-2]
    found = []
    for (kind, subject), pairs in sorted(subjects.items()):
        trend: list[float | None] = []
        for label in w.labels:
            stats = [
                inp.engine.routes[(label, a, b)]
                for a, b in pairs
                if (label, a, b) in inp.engine.routes
            ]
            receipts, bad, _ = _rate(stats)
            trend.append(bad / receipts if receipts else None)
        now = [
            inp.engine.routes[(w.current, a, b)]
            for a, b in pairs
            if (w.current, a, b) in inp.engine.routes
        ]
        receipts, bad, missing = _rate(now)
        value = trend[-1]
        events = [d.event_id for d in inp.discrepancies
                  if (d.origin, d.destination) in pairs and start <= d.time < w.end]  # fmt: skip
        found.append(Indicator(
            f"discrepancy-rate-{kind}", subject, value, cfg.max_rate, "share of receipts",
            _status(value is not None and receipts >= cfg.min_receipts and value > cfg.max_rate),
            tuple(trend),
            {"receipts": receipts, "discrepant": bad, "unaccounted_kg": round(missing, 6),
             "events": events[:10]},
        ))  # fmt: skip
    return found


def _days_left(until: str, w: Windows) -> float:
    then = datetime.fromisoformat(until.replace("Z", "+00:00"))
    now = datetime.fromisoformat(w.end.replace("Z", "+00:00")) - timedelta(days=1)
    return (then - now).total_seconds() / 86400.0


def _carrying_flow(inp: Inputs, w: Windows) -> set[str]:
    return {node[2] for (bucket, _, node) in inp.engine.nodes if bucket == w.current}


def _expiry(inp: Inputs, s: AnalyticsSettings, w: Windows) -> list[Indicator]:
    within = s.expiry.within_days
    flowing = _carrying_flow(inp, w)
    operators = {
        inp.registry.facilities[f].operator for f in flowing if f in inp.registry.facilities
    }
    as_of = w.as_of.isoformat()
    found = []
    latest: dict[tuple[str, str, str], Any] = {}
    for lic in inp.registry.licences.values():
        mine = lic.facility in flowing or (lic.facility is None and lic.holder in operators
                                           and not lic.events and not lic.lots)  # fmt: skip
        if mine and lic.valid_until is not None and lic.valid_from < w.end:
            key = ("licence", lic.facility or lic.holder, lic.kind)
            if key not in latest or lic.valid_until > latest[key].valid_until:
                latest[key] = lic
    for audit in inp.registry.audits.values():
        if audit.facility in flowing and audit.date < w.end:
            key = ("audit", audit.facility, audit.standard)
            if key not in latest or audit.valid_until > latest[key].valid_until:
                latest[key] = audit
    for (kind, where, what), record in sorted(latest.items()):
        left = _days_left(record.valid_until, w)
        standing = (licence_standing(record, inp.registry) if kind == "licence"
                    else audit_standing(record, inp.registry))  # fmt: skip
        found.append(Indicator(
            f"{kind}-expiry", f"{what} {kind} {record.id} ({where})", left, float(within),
            "days left", _status(left < within), (),
            {kind: record.id, "valid_until": record.valid_until[:10], "as_of": as_of,
             "counts": standing is None, **({"why_not": standing} if standing else {})},
        ))  # fmt: skip
    return found


def _capacity(inp: Inputs, s: AnalyticsSettings, w: Windows) -> list[Indicator]:
    found = []
    for fid, facility in sorted(inp.registry.facilities.items()):
        cap = facility.capacity_t_per_year
        if not cap:
            continue
        shipped = [inp.engine.shipped_mass.get((b, fid), 0.0) / 1000.0 for b in w.labels]
        if not any(shipped):
            continue
        trend = tuple(t * _DAYS_PER_YEAR / w.days / cap for t in shipped)
        found.append(Indicator(
            "capacity", fid, trend[-1], s.capacity.max_ratio, "outflow / capacity",
            _status(trend[-1] > s.capacity.max_ratio), trend,
            {"shipped_t": round(shipped[-1], 6), "window_days": w.days,
             "per_year_t": round(shipped[-1] * _DAYS_PER_YEAR / w.days, 6),
             "capacity_t_per_year": cap},
        ))  # fmt: skip
    return found


def warnings_report(inp: Inputs, settings: AnalyticsSettings, windows: Windows) -> WarningsReport:
    """Every indicator, warnings first, then by indicator and subject."""
    found = [
        *_single_country(inp, settings, windows),
        *_days_of_cover(inp, settings, windows),
        *_discrepancy(inp, settings, windows),
        *_expiry(inp, settings, windows),
        *_capacity(inp, settings, windows),
    ]
    found.sort(key=lambda i: (i.status != WARNING, i.indicator, i.subject))
    return WarningsReport(windows, settings.source, tuple(found))
