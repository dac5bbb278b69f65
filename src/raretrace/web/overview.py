"""What the overview shows: headline figures (kg out of each stage, ASEAN's share of it, the
recycled share, open discrepancies, licences expiring), the flows, concentration and early
warnings of the analytics package, and each facility's licence status.

Everything here is public (aggregates and the registry). The analytics figures are
computed off the request path (``OverviewCache``): a page shows the latest figures at once,
and when the ledger has grown a background thread folds the new events in (at most one at a
time, at most every ``REFRESH_S`` seconds), so no view waits for a computation except the
very first one of a process, which shows its progress instead. Licence statuses come from
the registry on every view (cheap, and a licence just issued shows at once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from raretrace.analytics import service as analytics
from raretrace.analytics.concentration import ConcentrationReport
from raretrace.analytics.flows import FlowReport
from raretrace.analytics.period import Period
from raretrace.analytics.settings import load_settings
from raretrace.analytics.warnings import WarningsReport
from raretrace.domain.elements import RARE_EARTHS
from raretrace.domain.model import Facility
from raretrace.domain.registry import Registry
from raretrace.service import dashboard
from raretrace.service.ledgers import Store

#: A licence ending within this many days counts as "expiring" on the overview.
EXPIRING_DAYS = 90
#: The figures are recomputed at most this often while the ledger keeps growing (each
#: refresh folds the new events into the analytics cache: about a second of CPU at 10^6).
REFRESH_S = 15.0
T = TypeVar("T")
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
    """The overview of the whole ledger, as it stands (each figure from the analytics
    aggregate cache, folding the events appended since its last use first)."""
    size = store.size()
    period = Period()
    concentration = analytics.concentration(store, period)
    flows = analytics.flows(store, period)
    first, last = (_display(t) for t in dashboard.flow_span(store))
    last_day = (datetime.fromisoformat(last.replace("Z", "+00:00")).date()
                if last else datetime.now(UTC).date())  # fmt: skip
    return Overview(
        size=size,
        stages=_stage_rows(concentration),
        recycled_share=_recycled(concentration),
        discrepancies=dashboard.discrepancy_count(store),
        licences=licence_statuses(store.registry(), _now()),
        flows=flows,
        concentration=concentration,
        warnings=analytics.warnings(store, last_day, load_settings()),
        first_time=first,
        last_time=last,
        computed=_now(),
    )


def _display(stored: str | None) -> str | None:
    return None if stored is None else stored.replace(".000000Z", "Z")


@dataclass(frozen=True, slots=True)
class Figures(Generic[T]):
    """An overview and what was derived from it (the charts), and how many events the
    ledger had grown past it when it was handed out (0: current)."""

    overview: Overview
    derived: T
    behind: int


class OverviewCache(Generic[T]):
    """The latest overview of a process and ``derive(overview)`` (its charts), refreshed by
    one background thread when the ledger's size has changed and ``REFRESH_S`` have passed
    since the last refresh began. ``latest`` never waits for a computation."""

    def __init__(self, derive: Callable[[Overview], T], refresh_s: float = REFRESH_S) -> None:
        self._derive, self._refresh_s = derive, refresh_s
        self._lock = threading.Lock()
        self._latest: tuple[Overview, T] | None = None
        self._running: threading.Thread | None = None
        self._started = float("-inf")
        self.failure: str | None = None

    def latest(self, store: Store) -> Figures[T] | None:
        """The latest figures (None before the first computation ends); starts a refresh
        when the ledger has grown."""
        size = store.size()
        found = self._latest
        if found is None or found[0].size != size:
            self._refresh(store, urgent=found is None)
        if found is None:
            return None
        return Figures(found[0], found[1], max(0, size - found[0].size))

    def _refresh(self, store: Store, *, urgent: bool) -> None:
        with self._lock:
            now = time.monotonic()
            if self._running is not None and self._running.is_alive():
                return
            if not urgent and now - self._started < self._refresh_s:
                return
            self._started = now
            self._running = threading.Thread(target=self._run, args=(store,),
                                             name="overview-figures", daemon=True)  # fmt: skip
            self._running.start()

    def _run(self, store: Store) -> None:
        try:
            overview = compute(store)
            self._latest = (overview, self._derive(overview))
            self.failure = None
        except Exception as exc:  # shown on the page; the next view tries again
            self.failure = f"{type(exc).__name__}: {exc}"


def warnings_rows(report: WarningsReport) -> list[dict[str, Any]]:
    """The indicators in breach first, then the others, as the template lists them."""
    rows = [i.to_json() for i in report.indicators]
    return sorted(rows, key=lambda r: (r["status"] == "ok", r["indicator"], r["subject"]))
