"""Extreme masses on a real SQLite ledger: the bound holds end to end.

Events with masses at the bound, beyond it, tiny and subnormal (``ledger_chains.extreme_events``)
go through the whole append path: a refused event changes no table, and every lot the ledger
holds afterwards has finite numbers within ``MAX_LOT_KG``, traces (``raretrace trace``),
recomputes from its events and passes the audit. The issue's case — two lots of the largest
mass merged — is pinned by name.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_chains import REGISTRY, extreme_events
from ledger_support import new_ledger, snapshot
from raretrace.domain.model import MAX_LOT_KG
from raretrace.ledger import service
from raretrace.ledger.append import Ledger
from raretrace.ledger.audit import audit_ledger
from raretrace.ledger.recompute import differences, recompute_lot


def _finite_numbers(value: object) -> bool:
    if isinstance(value, dict):
        return all(_finite_numbers(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite_numbers(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def _check_stored(ledger: Ledger) -> None:
    """Every stored number is finite and within the bound; trace, recomputation and the audit
    work on every lot."""
    for lot in ledger.store.lots():
        assert math.isfinite(lot.mass_kg) and 0.0 <= lot.mass_kg <= MAX_LOT_KG, lot
        assert all(math.isfinite(kg) for kg in lot.elements_kg.values()), lot
        view = service.trace(ledger.store, lot.id)
        assert _finite_numbers(view), view
        assert differences(lot, recompute_lot(ledger.store, lot.id)) == []
    report = audit_ledger(ledger.store, full=True, workers=1)
    assert report.ok, [f.line() for f in report.findings]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_extreme_masses_on_a_real_ledger(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Refused events change no table; accepted ones leave finite lots that trace and audit."""
    work = tmp_path_factory.mktemp("extreme")  # one folder per example
    ledger = new_ledger(str(work / "ledger.db"), REGISTRY, log_dir=work / "log")
    try:
        for step in range(data.draw(st.integers(min_value=1, max_value=8), label="steps")):
            active = list(ledger.store.lots(status="active"))
            for event in data.draw(extreme_events(active, step), label=f"step {step}"):
                before = snapshot(ledger)
                report = ledger.ingest([(1, event)])
                if report.rejected:
                    assert snapshot(ledger) == before, report.rejections[0].error
        _check_stored(ledger)
    finally:
        ledger.close()


def test_the_largest_lots_trace_and_audit(tmp_path: Path) -> None:
    """The issue's merge at the bound: two lots of 10^9 kg of Nd merged into two outputs; the
    same merge into one output, or with 1e308 kg, is refused and changes nothing."""
    ledger = new_ledger(str(tmp_path / "ledger.db"), REGISTRY, log_dir=tmp_path / "log")
    try:
        lots = [{"lot": lot, "form": "concentrate", "mass_kg": MAX_LOT_KG,
                 "elements_kg": {"Nd": MAX_LOT_KG}} for lot in ("A", "B")]  # fmt: skip
        extract = {"id": "x", "type": "extract", "time": "2025-01-01T00:00:00Z",
                   "actor": "miner-au", "facility": "MINE-AU", "outputs": lots}  # fmt: skip
        merge = {
            "id": "m", "type": "transform", "process": "merge", "time": "2025-01-02T00:00:00Z",
            "actor": "miner-au", "facility": "MINE-AU",
            "inputs": [{"lot": "A", "mass_kg": MAX_LOT_KG}, {"lot": "B", "mass_kg": MAX_LOT_KG}],
            "outputs": [{**lots[0], "lot": "C", "mass_kg": 2 * MAX_LOT_KG,
                         "elements_kg": {"Nd": 2 * MAX_LOT_KG}}],
        }  # fmt: skip
        huge = copy.deepcopy(extract)
        huge["id"], huge["outputs"][0]["mass_kg"] = "huge", 1e308
        assert ledger.ingest([(1, extract)]).accepted == 1
        before = snapshot(ledger)
        report = ledger.ingest([(1, merge), (2, huge)])
        assert [r.error.rule for r in report.rejections] == ["mass-limit", "mass-limit"]
        assert "lot 'C'" in report.rejections[0].error.message
        assert snapshot(ledger) == before
        merge["outputs"] = [{**lots[0], "lot": lot} for lot in ("C", "D")]
        assert ledger.ingest([(1, merge)]).accepted == 1
        view = service.trace(ledger.store, "C")
        assert (view["mass_kg"], view["elements_kg"]) == (MAX_LOT_KG, {"Nd": MAX_LOT_KG})
        assert view["origin"]["by_mine"] == {"Nd": {"MINE-AU": 1.0}}
        _check_stored(ledger)
    finally:
        ledger.close()
