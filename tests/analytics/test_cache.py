"""The aggregate cache (``analytics/fold.py``, ``folded.py``, ``store/aggregates.py``): what
flows, concentration and warnings answer from it equals the full recomputation from the
events, for random ledgers, periods and elements, before and after more events are
appended; it is folded again when it no longer describes the ledger; concurrent folds and
writers leave it right (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import math
import threading
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from analytics_support import EVENTS, REGISTRY, small_ledger
from cli_support import run
from ledger_chains import ELEMENTS, START, Chain, chains
from ledger_chains import REGISTRY as CHAIN_REGISTRY
from ledger_support import new_ledger
from raretrace.analytics import folded, service
from raretrace.analytics.period import Period, parse_period
from raretrace.analytics.settings import load_settings
from raretrace.ledger import service as ledger_service
from raretrace.ledger.audit import audit_ledger
from raretrace.store import aggregates, schema
from raretrace.store.aggregates import DAY, MONTH, GrainRange, grain_ranges
from raretrace.store.store import Store

pytestmark = pytest.mark.integration


def _same(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ, numbers compared to 1e-9 of the larger (or of 1)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in _same(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items against {len(b)}"]
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _same(x, y, f"{path}/{i}")
        ]
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        ok = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, abs(a), abs(b)))
        return [] if ok else [f"{path}: {a} against {b}"]
    return [] if a == b else [f"{path}: {a!r} against {b!r}"]


def _agree(store: Store, period: Period, element: str | None, as_of: date) -> None:
    cached = service.flows(store, period, element).to_json()
    full = service.flows(store, period, element, recompute=True).to_json()
    assert not _same(cached, full), _same(cached, full)[:5]
    cached = service.concentration(store, period).to_json()
    full = service.concentration(store, period, recompute=True).to_json()
    assert not _same(cached, full), _same(cached, full)[:5]
    cfg = load_settings()
    cached = service.warnings(store, as_of, cfg).to_json()
    full = service.warnings(store, as_of, cfg, recompute=True).to_json()
    assert not _same(cached, full), _same(cached, full)[:5]


def _spread(events: list[dict[str, Any]], days: int) -> list[dict[str, Any]]:
    """The chain's events (one an hour) moved ``days`` days apart, so that they cross months
    and years; still in time order, as the ledger requires of each lot."""
    out = []
    for ev in events:
        at = datetime.strptime(ev["time"], "%Y-%m-%dT%H:%M:%SZ")
        hours = round((at - START).total_seconds() / 3600)
        moved = START + timedelta(days=hours * days, hours=hours % 24)
        out.append({**ev, "time": moved.strftime("%Y-%m-%dT%H:%M:%SZ")})
    return out


days_around = st.integers(min_value=-5, max_value=800).map(lambda n: START.date() + timedelta(n))
periods = st.tuples(st.none() | days_around, st.none() | days_around).map(
    lambda p: Period(*sorted(p)) if None not in p else Period(*p)  # type: ignore[type-var]
)


@settings(
    max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(
    chain=chains(max_steps=30),
    spread=st.sampled_from([1, 4, 13, 29]),
    cut=st.floats(min_value=0.1, max_value=0.9),
    asked=st.lists(st.tuples(periods, st.none() | st.sampled_from(ELEMENTS), days_around),
                   min_size=1, max_size=3),
)  # fmt: skip
def test_cached_answers_equal_the_recomputation_before_and_after_appending(
    tmp_path_factory: pytest.TempPathFactory,
    chain: Chain,
    spread: int,
    cut: float,
    asked: list[tuple[Period, str | None, date]],
) -> None:
    work = tmp_path_factory.mktemp("cache")
    ledger = new_ledger(str(work / "ledger.db"), CHAIN_REGISTRY, log_dir=work / "log")
    events = _spread(chain.events, spread)
    first = max(1, int(len(events) * cut))
    assert ledger.ingest(enumerate(events[:first], 1), batch_size=5).rejected == 0
    service.refresh_cache(ledger.store)  # a small ledger's cache is filled when asked
    for period, element, as_of in asked:
        _agree(ledger.store, period, element, as_of)
    assert ledger.ingest(enumerate(events[first:], 1), batch_size=3).rejected == 0
    for period, element, as_of in asked:  # the fold reads only the new events
        _agree(ledger.store, period, element, as_of)
    with ledger.store.engine.connect() as conn:
        state = aggregates.read_state(conn)
    assert state is not None and state.size == ledger.store.size()
    ledger.close()


def test_a_period_is_whole_months_and_the_days_at_its_ends() -> None:
    d = date.fromisoformat
    assert grain_ranges(None, None) == [GrainRange(MONTH, None, None)]
    assert grain_ranges(d("2025-01-05"), d("2025-03-10")) == [
        GrainRange(MONTH, "2025-02", "2025-03"),
        GrainRange(DAY, "2025-01-05", "2025-02-01"),
        GrainRange(DAY, "2025-03-01", "2025-03-10"),
    ]
    assert grain_ranges(d("2025-01-01"), d("2025-03-01")) == [
        GrainRange(MONTH, "2025-01", "2025-03")
    ]
    assert grain_ranges(d("2025-01-05"), d("2025-01-20")) == [
        GrainRange(DAY, "2025-01-05", "2025-01-20")
    ]
    assert grain_ranges(d("2025-01-31"), d("2025-02-01")) == [
        GrainRange(DAY, "2025-01-31", "2025-02-01")
    ]
    assert grain_ranges(None, d("2025-12-15")) == [
        GrainRange(MONTH, None, "2025-12"),
        GrainRange(DAY, "2025-12-01", "2025-12-15"),
    ]
    assert grain_ranges(d("2025-12-15"), None) == [
        GrainRange(MONTH, "2026-01", None),
        GrainRange(DAY, "2025-12-15", "2026-01-01"),
    ]
    assert grain_ranges(d("2025-02-01"), d("2025-01-01")) == []


def _state(store: Store) -> aggregates.FoldState:
    with store.engine.connect() as conn:
        state = aggregates.read_state(conn)
    assert state is not None
    return state


def test_the_cache_is_filled_then_extended_and_survives_the_backends(
    db_url: str, tmp_path: Path
) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    assert ledger.ingest(enumerate(EVENTS[:4], 1)).rejected == 0
    everything = parse_period(None, None)
    assert service.refresh_cache(ledger.store).events > 0
    assert service.flows(ledger.store, everything, "Nd").elements["Nd"].totals["entered_kg"] == 160
    filled = _state(ledger.store)
    assert filled.size == ledger.store.size() and filled.generation >= 1
    assert ledger.ingest(enumerate(EVENTS[4:], 5)).rejected == 0
    _agree(ledger.store, everything, None, date(2025, 3, 31))
    _agree(ledger.store, parse_period("2025-01-06", "2025-02-15"), "Nd", date(2025, 2, 1))
    extended = _state(ledger.store)
    assert extended.size == ledger.store.size() and extended.generation > filled.generation
    nd = service.flows(ledger.store, everything, "Nd").elements["Nd"]
    assert (nd.totals["stock_end_kg"], nd.totals["discrepant_kg"]) == (157.0, -2.0)
    report = audit_ledger(ledger.store, full=True, workers=1)  # the cache is no record
    assert report.ok, [f.line() for f in report.findings][:5]
    ledger.close()


def test_concurrent_folds_and_a_writer_leave_the_cache_right(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    assert ledger.ingest(enumerate(EVENTS[:2], 1)).rejected == 0
    errors: list[BaseException] = []

    def reader() -> None:
        store = Store.open(db_url, access="read")
        try:
            for _ in range(4):
                service.refresh_cache(store)
                service.flows(store, parse_period(None, None))
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i, ev in enumerate(EVENTS[2:], 3):
        assert ledger.ingest([(i, ev)]).rejected == 0
    for t in threads:
        t.join()
    assert not errors, errors
    _agree(ledger.store, parse_period(None, None), None, date(2025, 3, 31))
    assert _state(ledger.store).size == ledger.store.size()
    ledger.close()


def test_a_stale_cache_is_folded_again_from_the_first_event(tmp_path: Path) -> None:
    ledger = small_ledger(tmp_path)
    store = ledger.store
    whole = parse_period(None, None)
    service.refresh_cache(store)
    expected = service.flows(store, whole, recompute=True).to_json()
    assert not _same(service.flows(store, whole).to_json(), expected)
    f = schema.analytics_fold
    # A cache whose position is not in this ledger's log (a restored or foreign copy) ...
    with store.engine.begin() as conn:
        conn.execute(update(f).values(root="00" * 32))
    folded = service.refresh_cache(store)
    assert folded.rebuilt is not None and "is not the one it was folded from" in folded.rebuilt
    assert folded.events == len(EVENTS) and folded.size == store.size()
    # ... or one that counted a facility in another country, is read again.
    with store.engine.begin() as conn:
        basis = json.loads(conn.execute(select(f.c.basis)).scalar_one())
        basis["facilities"]["MAGNET-VN"][1] = "TH"
        conn.execute(update(f).values(basis=json.dumps(basis)))
        conn.execute(schema.analytics_nodes.delete())  # what it held is not used
    assert not _same(service.flows(store, whole).to_json(), expected)
    assert service.refresh_cache(store).rebuilt is None  # now current
    rebuilt = service.refresh_cache(store, rebuild=True)
    assert rebuilt.rebuilt == "asked to rebuild" and rebuilt.events == len(EVENTS)
    assert not _same(service.flows(store, whole).to_json(), expected)
    ledger.close()


def test_a_facility_registered_again_elsewhere_refolds_everything(tmp_path: Path) -> None:
    ledger = small_ledger(tmp_path)
    whole = parse_period(None, None)
    service.refresh_cache(ledger.store)
    before = service.concentration(ledger.store, whole).to_json()
    assert before["elements"]["Nd"]["separation"]["kg"] == {"MY": 97.0}
    moved = json.loads(json.dumps(REGISTRY))
    for fac in moved["facilities"]:
        if fac["id"] == "PLANT-MY":
            fac["country"] = "TH"
    events = ledger_service.registry_events(
        moved, ledger.registry, signer=ledger_service.registry_signer(ledger)
    )
    assert ledger.ingest(enumerate(events, 1)).rejected == 0
    cached = service.concentration(ledger.store, whole).to_json()
    assert cached["elements"]["Nd"]["separation"]["kg"] == {"TH": 97.0}
    assert _state(ledger.store).size == ledger.store.size()  # from the cache, folded again
    assert not _same(cached, service.concentration(ledger.store, whole, recompute=True).to_json())
    ledger.close()


def test_a_small_ledger_is_answered_from_its_events_until_its_cache_is_filled(
    tmp_path: Path,
) -> None:
    ledger = small_ledger(tmp_path)
    whole = parse_period(None, None)
    assert ledger.store.size() < folded.AUTO_FILL
    first = service.flows(ledger.store, whole).to_json()
    assert _state(ledger.store).size == 0  # recomputed; nothing written
    service.refresh_cache(ledger.store)
    assert not _same(service.flows(ledger.store, whole).to_json(), first)
    assert _state(ledger.store).size == ledger.store.size()
    ledger.close()


def test_the_cli_folds_checks_and_rebuilds(tmp_path: Path) -> None:
    small_ledger(tmp_path).close()
    env = {"RARETRACE_DB": "ledger.db"}
    done = run("analytics", "cache", "--json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["size"] > len(EVENTS) and doc["events_read"] > 0 and doc["rebuilt"] is None
    again = json.loads(run("analytics", "cache", "--json", cwd=tmp_path, env=env).stdout)
    assert again["events_read"] == 0 and again["size"] == doc["size"]
    checked = run("analytics", "cache", "--check", "--from", "2025-01-06", "--to", "2025-02-20",
                  cwd=tmp_path, env=env)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "agree" in checked.stdout
    rebuilt = json.loads(
        run("analytics", "cache", "--rebuild", "--json", cwd=tmp_path, env=env).stdout
    )
    assert rebuilt["rebuilt"] == "asked to rebuild" and rebuilt["events_read"] == doc["events_read"]
