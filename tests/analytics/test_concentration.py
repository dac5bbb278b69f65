"""``analytics concentration``: exact figures on the hand-worked ledger, the JSON shape of
the issue, the world beside it, and the index properties (shares sum to 1, HHI bounds)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics_support import small_ledger
from cli_support import run
from raretrace.analytics import service
from raretrace.analytics.indices import concentration, hhi, shares
from raretrace.analytics.period import parse_period
from raretrace.analytics.world import world_supply

STAGE_KEYS = {"kg", "shares", "hhi", "top_country", "top_share", "over_65"}


@pytest.mark.integration
def test_stage_output_by_country_by_hand(tmp_path: Path) -> None:
    ledger = small_ledger(tmp_path)
    doc = service.concentration(ledger.store, parse_period(None, None)).to_json()
    # mine: AU 100 kg Nd, VN 60 kg: shares 0.625 / 0.375, HHI 62.5² + 37.5² = 5,312.5
    assert doc["elements"]["Nd"]["mine"] == {
        "kg": {"AU": 100.0, "VN": 60.0}, "shares": {"AU": 0.625, "VN": 0.375},
        "hhi": 5312.5, "top_country": "AU", "top_share": 0.625, "over_65": False,
    }  # fmt: skip
    # separation: the plant's 97 kg Nd in oxide; receipts and shipments are not output
    assert doc["elements"]["Nd"]["separation"] == {
        "kg": {"MY": 97.0}, "shares": {"MY": 1.0}, "hhi": 10000.0, "top_country": "MY",
        "top_share": 1.0, "over_65": True,
    }  # fmt: skip
    assert list(doc["elements"]["Pr"]) == ["mine", "separation"]
    assert doc["asean_share"]["Nd"] == {"mine": 0.375, "separation": 1.0}
    assert doc["recycled"]["Nd"] == {
        "recycled_kg": 0.0, "mined_kg": 160.0, "share": 0.0, "below_25": True,
    }  # fmt: skip
    world = doc["world"]
    assert (world["year"], world["top_country"]) == ("2024", "CN")
    ledger_side = world["ledger"]
    # t REO for AU: (100 kg Nd × 1.166377 (Nd2O3) + 25 kg Pr × 1.208161 (Pr6O11)) / 1000
    assert ledger_side["mine_t_reo"]["AU"] == pytest.approx(0.146842, abs=1e-6)
    assert ledger_side["days"] == pytest.approx(58.0)  # 2 Jan to 1 Mar, the ledger's span


@pytest.mark.integration
def test_the_json_is_the_issues_shape(tmp_path: Path) -> None:
    small_ledger(tmp_path).close()
    done = run("analytics", "concentration", "--from", "2025-01-01", "--to", "2025-01-31",
               "--json", cwd=tmp_path, env={"RARETRACE_DB": "ledger.db"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert (doc["from"], doc["to"]) == ("2025-01-01", "2025-01-31")
    for stages in doc["elements"].values():
        for stage in stages.values():
            assert set(stage) == STAGE_KEYS
    assert doc["world"]["ledger"]["days"] == 31.0
    table = run("analytics", "concentration", cwd=tmp_path, env={"RARETRACE_DB": "ledger.db"})
    assert table.returncode == 0, table.stderr
    assert "AU 62.5%" in table.stdout and "world (USGS 2024" in table.stdout


def test_world_figures_are_usgs_2024() -> None:
    world = world_supply()
    assert world.production_t_reo["CN"] == 270_000 and world.world_total_t_reo == 390_000
    assert math.isclose(sum(world.concentration.shares.values()) + 1100 / 393_950, 1.0)
    assert 4_900 < world.concentration.hhi < 5_000


kg_by_country = st.dictionaries(
    st.sampled_from(["AU", "CN", "MM", "MY", "TH", "US", "VN", "recycled"]),
    st.floats(min_value=1e-6, max_value=1e9, allow_nan=False),
    min_size=1,
)


@given(kg_by_country)
def test_shares_sum_to_one_and_hhi_is_within_its_bounds(kg: dict[str, float]) -> None:
    c = concentration(kg)
    assert math.isclose(sum(c.shares.values()), 1.0, rel_tol=1e-12)
    n = len(c.shares)
    assert 10_000 / n * (1 - 1e-9) <= c.hhi <= 10_000 * (1 + 1e-9)
    assert c.top_share == max(c.shares.values()) and c.shares[c.top_country or ""] == c.top_share


def test_nothing_positive_has_no_shares() -> None:
    assert shares({"AU": 0.0}) == {} and hhi([]) == 0.0
    assert concentration({}).top_country is None
