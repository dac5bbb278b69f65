"""``analytics flows``: a hand-worked ledger with exact figures, and the property that the
flow pass balances against the ledger's own lots for random valid chains."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from analytics_support import small_ledger
from cli_support import run
from ledger_chains import REGISTRY, Chain, chains
from ledger_support import new_ledger
from raretrace.analytics import service
from raretrace.analytics.period import parse_period
from raretrace.domain.elements import CONSERVED
from raretrace.domain.errors import ConfigError

pytestmark = pytest.mark.integration


def _node(doc: dict[str, Any], element: str, stage: str, country: str) -> dict[str, Any]:
    found = [n for n in doc["elements"][element]["nodes"]
             if (n["stage"], n["country"]) == (stage, country)]  # fmt: skip
    assert len(found) == 1, (stage, country)
    return found[0]


def test_whole_history_by_hand(tmp_path: Path) -> None:
    ledger = small_ledger(tmp_path)
    doc = service.flows(ledger.store, parse_period(None, None)).to_json()
    nd = doc["elements"]["Nd"]
    assert nd["links"] == [
        {"from": {"stage": "mine", "country": "AU"},
         "to": {"stage": "separation", "country": "MY"}, "kind": "ship", "kg": 100.0},
        {"from": {"stage": "separation", "country": "MY"},
         "to": {"stage": "magnet", "country": "VN"}, "kind": "ship", "kg": 97.0},
    ]  # fmt: skip
    assert _node(doc, "Nd", "mine", "AU") == {
        "stage": "mine", "country": "AU", "entered_kg": 100.0, "produced_kg": 0.0,
        "consumed_kg": 0.0, "received_kg": 0.0, "shipped_kg": 100.0, "lost_kg": 0.0,
        "discrepant_kg": 0.0, "stock_kg": 0.0,
    }  # fmt: skip
    plant = _node(doc, "Nd", "separation", "MY")
    assert plant["received_kg"] == 98.0 and plant["discrepant_kg"] == -2.0
    assert (plant["consumed_kg"], plant["produced_kg"], plant["lost_kg"]) == (98.0, 97.0, 1.0)
    assert (plant["shipped_kg"], plant["stock_kg"]) == (97.0, 0.0)
    assert _node(doc, "Nd", "magnet", "VN")["stock_kg"] == 97.0
    assert _node(doc, "Nd", "mine", "VN")["stock_kg"] == 60.0
    assert nd["totals"] == {
        "entered_kg": 160.0, "lost_kg": 1.0, "transit_kg": 0.0, "discrepant_kg": -2.0,
        "stock_start_kg": 0.0, "in_transit_start_kg": 0.0, "stock_end_kg": 157.0,
        "in_transit_end_kg": 0.0, "unbalanced_kg": 0.0,
    }  # fmt: skip
    pr = doc["elements"]["Pr"]["totals"]
    assert (pr["entered_kg"], pr["lost_kg"], pr["discrepant_kg"], pr["stock_end_kg"]) == (
        25.0,
        0.5,
        -0.5,
        24.0,
    )


def test_one_month_has_stock_at_both_ends_and_material_in_transit(tmp_path: Path) -> None:
    ledger = small_ledger(tmp_path)
    doc = service.flows(ledger.store, parse_period("2025-02-01", "2025-02-28"), "Nd").to_json()
    assert (doc["from"], doc["to"], list(doc["elements"])) == ("2025-02-01", "2025-02-28", ["Nd"])
    nd = doc["elements"]["Nd"]
    assert [(x["from"]["stage"], x["to"]["stage"], x["kg"]) for x in nd["links"]] == [
        ("separation", "magnet", 97.0)
    ]
    totals = nd["totals"]
    assert totals["stock_start_kg"] == 157.0  # 97 at the plant, 60 at the VN mine
    assert (totals["stock_end_kg"], totals["in_transit_end_kg"]) == (60.0, 97.0)
    assert totals["entered_kg"] == 0.0 and totals["unbalanced_kg"] == 0.0
    # March: the oxide arrives; nothing is in transit any more
    march = service.flows(ledger.store, parse_period("2025-03-01", None), "Nd").to_json()
    assert march["elements"]["Nd"]["totals"]["in_transit_start_kg"] == 97.0
    assert march["elements"]["Nd"]["totals"]["in_transit_end_kg"] == 0.0
    assert _node(march, "Nd", "magnet", "VN")["received_kg"] == 97.0


def test_the_cli_prints_the_same_json_and_a_table(tmp_path: Path) -> None:
    small_ledger(tmp_path).close()
    done = run("analytics", "flows", "--element", "Nd", "--json", cwd=tmp_path,
               env={"RARETRACE_DB": "ledger.db"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["elements"]["Nd"]["totals"]["stock_end_kg"] == 157.0
    table = run("analytics", "flows", "--to", "2025-01-31", cwd=tmp_path,
                env={"RARETRACE_DB": "ledger.db"})  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert "mine AU" in table.stdout and "separation MY" in table.stdout
    assert "in transit 0" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--element", "Fe"), "--element 'Fe' is not an element the ledger follows"),
        (("--from", "2025-13-01"), "--from '2025-13-01' is not a date"),
        (("--from", "2025-02-01", "--to", "2025-01-01"), "--from 2025-02-01 is after --to"),
    ],
)
def test_bad_arguments_are_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    small_ledger(tmp_path).close()
    done = run("analytics", "flows", *args, cwd=tmp_path, env={"RARETRACE_DB": "ledger.db"})
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_element_filter_is_checked_before_the_ledger_is_read() -> None:
    with pytest.raises(ConfigError, match="give one of Sc, Y, La"):
        service.flows(None, parse_period(None, None), "other")  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_flows_conserve_mass_per_element_against_the_ledger(
    tmp_path_factory: pytest.TempPathFactory, chain: Chain
) -> None:
    work = tmp_path_factory.mktemp("flows")
    ledger = new_ledger(str(work / "ledger.db"), REGISTRY, log_dir=work / "log")
    report = ledger.ingest(enumerate(chain.events, 1), batch_size=7)
    assert report.rejected == 0
    flows = service.flows(ledger.store, parse_period(None, None))
    held: dict[tuple[str, str], float] = {}
    for lot in ledger.store.lots(status="active"):
        for e, kg in lot.elements_kg.items():
            if e in CONSERVED:
                held[(e, lot.facility)] = held.get((e, lot.facility), 0.0) + kg
    for e in CONSERVED:
        f = flows.elements.get(e)
        ledger_total = sum(kg for (el, _), kg in held.items() if el == e)
        if f is None:
            assert ledger_total == 0.0
            continue
        scale = max(1.0, f.totals["entered_kg"])
        assert math.isclose(
            f.totals["stock_end_kg"], ledger_total, rel_tol=1e-9, abs_tol=1e-9 * scale
        )
        assert abs(f.totals["unbalanced_kg"]) <= 1e-9 * scale
        assert math.isclose(f.totals["entered_kg"], chain.extracted.get(e, 0.0), rel_tol=1e-9)
    ledger.close()
