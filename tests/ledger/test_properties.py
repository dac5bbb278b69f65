"""Property tests of the whole append path on a real SQLite ledger.

Random valid chains must be accepted, conserve every element and keep origin shares summing
to 1; the materialized provenance must equal the recursive recomputation; random corruptions
must be rejected with no change to any table.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_chains import REGISTRY, Chain, chains
from ledger_support import new_ledger, snapshot
from raretrace.domain.elements import CONSERVED
from raretrace.domain.model import RECYCLED, UNATTRIBUTED
from raretrace.domain.provenance import by_stage
from raretrace.ledger.append import Ledger
from raretrace.ledger.recompute import differences, recompute_lot

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ingest(chain: Chain, tmp: pytest.TempPathFactory) -> tuple[Ledger, Any]:
    # One folder per Hypothesis example, under pytest's base temporary folder (removed after
    # the run); tmp_path is one folder per test function, shared by all its examples.
    work = tmp.mktemp("ledger")
    ledger = new_ledger(str(work / "ledger.db"), REGISTRY, log_dir=work / "log")
    report = ledger.ingest(enumerate(chain.events, 1), batch_size=7)
    return ledger, report


@SETTINGS
@given(chains())
def test_valid_chains_are_accepted_and_conserve_every_element(
    tmp_path_factory: pytest.TempPathFactory, chain: Chain
) -> None:
    ledger, report = _ingest(chain, tmp_path_factory)
    assert report.rejected == 0, [r.error.message for r in report.rejections]
    assert report.accepted == len(chain.events)
    held: dict[str, float] = {}
    for lot in ledger.store.lots():
        expected = chain.lots[lot.id]
        assert math.isclose(lot.mass_kg, expected.mass, rel_tol=1e-9, abs_tol=1e-9)
        for e, kg in lot.elements_kg.items():
            held[e] = held.get(e, 0.0) + kg
    for e in CONSERVED & set(chain.extracted):
        balance = held.get(e, 0.0) + chain.lost.get(e, 0.0)
        assert math.isclose(balance, chain.extracted[e], rel_tol=1e-9, abs_tol=1e-9), e


@SETTINGS
@given(chains())
def test_origin_shares_sum_to_one(tmp_path_factory: pytest.TempPathFactory, chain: Chain) -> None:
    ledger, _ = _ingest(chain, tmp_path_factory)
    for lot in ledger.store.lots():
        for e in lot.elements_kg:
            if e not in CONSERVED:
                continue
            for shares in (lot.provenance.by_mine[e], lot.provenance.by_country[e]):
                assert math.isclose(sum(shares.values()), 1.0, abs_tol=1e-9)
                assert all(0.0 <= s <= 1.0 + 1e-12 for s in shares.values())
            recycled = lot.provenance.recycled_share()[e]
            assert recycled == lot.provenance.by_mine[e].get("recycled", 0.0)


@SETTINGS
@given(chains())
def test_route_shares_sum_to_one_and_by_stage_at_mine_is_by_country_less_recycled(
    tmp_path_factory: pytest.TempPathFactory, chain: Chain
) -> None:
    ledger, _ = _ingest(chain, tmp_path_factory)
    for lot in ledger.store.lots():
        prov = lot.provenance
        assert set(prov.routes) == set(prov.by_country)
        stages = by_stage(prov.routes)
        for e, routes in prov.routes.items():
            assert math.isclose(math.fsum(r.share for r in routes), 1.0, abs_tol=1e-9), e
            assert all(0.0 < r.share <= 1.0 + 1e-12 for r in routes)
            assert len({r.steps for r in routes}) == len(routes)  # each route once
            for r in routes:
                assert all(a != b for a, b in zip(r.steps, r.steps[1:], strict=False))
            mined = {
                c: v for c, v in prov.by_country[e].items() if c not in (RECYCLED, UNATTRIBUTED)
            }
            at_mine = stages[e].get("mine", {})
            assert set(at_mine) == {c for c, v in mined.items() if v > 0}, e
            for country, share in mined.items():
                assert math.isclose(at_mine.get(country, 0.0), share, abs_tol=1e-9)
        for shares in prov.claimed.values():
            assert all(0.0 < v <= 1.0 for v in shares.values())
            assert set(shares) <= set(prov.by_country)


@SETTINGS
@given(chains())
def test_materialized_provenance_equals_recursive_recomputation(
    tmp_path_factory: pytest.TempPathFactory, chain: Chain
) -> None:
    ledger, _ = _ingest(chain, tmp_path_factory)
    for lot in ledger.store.lots():
        again = recompute_lot(ledger.store, lot.id)
        assert differences(lot, again) == []
        assert again.provenance.claims == lot.provenance.claims
        for e, routes in lot.provenance.routes.items():
            stored = {r.steps: r.share for r in routes}
            recomputed = {r.steps: r.share for r in again.provenance.routes[e]}
            assert stored.keys() == recomputed.keys()
            assert all(math.isclose(v, recomputed[k], abs_tol=1e-12) for k, v in stored.items())


def _corruptions(chain: Chain, pick: int) -> list[tuple[str, dict[str, Any]]]:
    """Ways to spoil one accepted event so that re-sending it, changed, must fail."""
    out: list[tuple[str, dict[str, Any]]] = []
    for ev in chain.events:
        bad = copy.deepcopy(ev)
        bad["id"] = f"bad-{ev['id']}"
        if ev["type"] == "transform":
            spoiled = copy.deepcopy(bad)
            spec = spoiled["outputs"][0]
            e = next(iter(spec["elements_kg"]))
            spec["elements_kg"][e] = spec["elements_kg"][e] * 1.5 + 1.0
            spec["mass_kg"] += spec["elements_kg"][e]
            spec["lot"] = "fresh-out"
            out.append(("inflated output", spoiled))
        if ev["type"] == "claim":
            out.append(("claimed twice", {**bad, "share": 1.0}))
        if ev["type"] in ("ship", "adjust"):
            out.append(("replayed on a used lot", {**bad, "actor": "miner-vn-not"}))
        if ev["type"] == "extract":
            wrong = copy.deepcopy(bad)
            wrong["outputs"][0]["elements_kg"] = {"Xx": 1.0}
            out.append(("unknown element", wrong))
        out.append(("same id, other content", {**ev, "time": "2030-01-01T00:00:00Z"}))
        out.append(("time travel", {**bad, "time": "1999-01-01T00:00:00Z"}))
    return out[pick % len(out) :] + out[: pick % len(out)]


@SETTINGS
@given(chains(), st.integers(min_value=0, max_value=10_000))
def test_corruptions_are_rejected_and_change_nothing(
    tmp_path_factory: pytest.TempPathFactory, chain: Chain, pick: int
) -> None:
    ledger, report = _ingest(chain, tmp_path_factory)
    assert report.rejected == 0
    before = snapshot(ledger)
    for label, bad in _corruptions(chain, pick)[:5]:
        result = ledger.ingest([(1, bad)])
        assert result.rejected == 1, (label, bad)
        assert snapshot(ledger) == before, label
