"""What the overview shows, computed once per ledger size: headline figures (kg out of each
stage, ASEAN's share of it, the recycled share, open discrepancies, licences expiring), the
flows, concentration and early warnings of the analytics package, and each facility's
licence status.

Everything here is public (aggregates and the registry). It is recomputed only when the
ledger grows (its size is one indexed read), so a page view costs a dictionary lookup.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from raretrace.analytics import service as analytics
from raretrace.analytics.concentration import ConcentrationReport
from raretrace.analytics.flows import FlowReport
from raretrace.analytics.period import Period
from raretrace.analytics.settings import load_settings
from raretrace.analytics.warnings import WarningsReport
from raretrace.domain.elements import RARE_EARTHS
from raretrace.domain.model import Facility
from raretrace.domain.registry import Registry
from raretrace.service.ledgers import Store
from raretrace.service.reads import counts

#: A licence ending within this many days counts as "expiring" on the overview.
EXPIRING_DAYS = 90
STAGES = ("mine", "concentrator", "cracking", "separation", "reduction", "alloying", "magnet",
          "recycling")  # fmt: skip


@dataclass(frozen=True, slots=True)
class StageRow:
    """One stage's rare-earth output (kg of element, all rare earths) and ASEAN's share."""

    stage: str
    kg: float
    asean_share: float | None


@dataclass(frozen=True, slots=True)
class LicenceStatus:
    """A facility's operating licence status now: ``licensed``, ``expiring``, ``expired``,
    ``none``, and until when the best licence holds."""

    facility: Facility
    status: str
    until: str | None
    licence: str | None


@dataclass(frozen=True, slots=True)
class Overview:
    """The overview at ledger size ``size``."""

    size: int
    stages: tuple[StageRow, ...]
    recycled_share: float | None
    discrepancies: int
    licences: tuple[LicenceStatus, ...]
    flows: FlowReport
    concentration: ConcentrationReport
    warnings: WarningsReport
    first_time: str | None
    last_time: str | None
    computed: str

    @property
    def expiring(self) -> tuple[LicenceStatus, ...]:
        return tuple(s for s in self.licences if s.status in ("expiring", "expired"))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def licence_statuses(registry: Registry, now: str) -> tuple[LicenceStatus, ...]:
    """Each facility's operating or residue-storage licence status at ``now`` (stored UTC)."""
    soon = (datetime.now(UTC) + timedelta(days=EXPIRING_DAYS)).strftime("%Y-%m-%dT%H:%M:%S")
    out = []
    for fid in sorted(registry.facilities):
        held = [lic for lic in registry.licences.values()
                if lic.facility == fid and lic.kind != "export"]  # fmt: skip
        valid = [lic for lic in held if lic.valid_at(now)]
        if valid:
            best = max(valid, key=lambda lic: lic.valid_until or "9999")
            status = "expiring" if best.valid_until and best.valid_until < soon else "licensed"
            out.append(LicenceStatus(registry.facilities[fid], status, best.valid_until, best.id))
        elif held:
            last = max(held, key=lambda lic: lic.valid_until or "9999")
            out.append(LicenceStatus(registry.facilities[fid], "expired", last.valid_until,
                                     last.id))  # fmt: skip
        else:
            out.append(LicenceStatus(registry.facilities[fid], "none", None, None))
    return tuple(out)


def _stage_rows(report: ConcentrationReport) -> tuple[StageRow, ...]:
    from raretrace.analytics.world import asean_members

    members = set(asean_members())
    rows = []
    for stage in STAGES:
        by_country: dict[str, float] = {}
        for e, stages in report.elements.items():
            if e in RARE_EARTHS and stage in stages:
                for country, kg in stages[stage].kg.items():
                    by_country[country] = by_country.get(country, 0.0) + kg
        total = sum(by_country.values())
        if total > 0:
            asean = sum(kg for c, kg in by_country.items() if c in members)
            rows.append(StageRow(stage, total, asean / total))
    return tuple(rows)


def _recycled(report: ConcentrationReport) -> float | None:
    back = sum(r["recycled_kg"] for r in report.recycled.values())
    mined = sum(r["mined_kg"] for r in report.recycled.values())
    return back / (back + mined) if back + mined > 0 else None


def compute(store: Store) -> Overview:
    """The overview of the whole ledger, as it stands."""
    size = store.size()
    period = Period()
    view_times = _span(store)
    concentration = analytics.concentration(store, period)
    last_day = (datetime.fromisoformat(view_times[1].replace("Z", "+00:00")).date()
                if view_times[1] else datetime.now(UTC).date())  # fmt: skip
    return Overview(
        size=size,
        stages=_stage_rows(concentration),
        recycled_share=_recycled(concentration),
        discrepancies=int(counts(store)["discrepancies"]),
        licences=licence_statuses(store.registry(), _now()),
        flows=analytics.flows(store, period),
        concentration=concentration,
        warnings=analytics.warnings(store, last_day, load_settings()),
        first_time=view_times[0],
        last_time=view_times[1],
        computed=_now(),
    )


def _span(store: Store) -> tuple[str | None, str | None]:
    from raretrace.analytics.reading import ledger_view

    view = ledger_view(store)
    return _display(view.first_time), _display(view.last_time)


def _display(stored: str | None) -> str | None:
    return None if stored is None else stored.replace(".000000Z", "Z")


class OverviewCache:
    """The latest overview per process, recomputed when the ledger's size changes (one
    computation at a time; readers of an unchanged ledger never wait)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Overview | None = None

    def get(self, store: Store) -> Overview:
        size = store.size()
        latest = self._latest
        if latest is not None and latest.size == size:
            return latest
        with self._lock:
            latest = self._latest
            if latest is None or latest.size != store.size():
                latest = self._latest = compute(store)
            return latest


def warnings_rows(report: WarningsReport) -> list[dict[str, Any]]:
    """The indicators in breach first, then the others, as the template lists them."""
    rows = [i.to_json() for i in report.indicators]
    return sorted(rows, key=lambda r: (r["status"] == "ok", r["indicator"], r["subject"]))
