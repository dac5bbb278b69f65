"""``analytics warnings``: the indicators on the hand-worked ledger, with thresholds from a
settings file over the packaged ones."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from analytics_support import small_ledger
from cli_support import run
from raretrace.analytics import service
from raretrace.analytics.settings import load_settings
from raretrace.domain.errors import ConfigError

pytestmark = pytest.mark.integration


def _find(doc: dict[str, Any], indicator: str, subject: str) -> dict[str, Any]:
    found = [i for i in doc["indicators"] if (i["indicator"], i["subject"]) == (indicator, subject)]
    assert len(found) == 1, [(i["indicator"], i["subject"]) for i in doc["indicators"]]
    return found[0]


def test_january_by_hand(tmp_path: Path) -> None:
    ledger = small_ledger(tmp_path)
    custom = tmp_path / "settings.json"
    custom.write_text(json.dumps({"trend": {"period_days": 31, "periods": 1},
                                  "discrepancy_rate": {"min_receipts": 1}}))  # fmt: skip
    settings = load_settings(custom)
    doc = service.warnings(ledger.store, date(2025, 1, 31), settings).to_json()
    assert doc["periods"] == [{"from": "2024-12-01", "to": "2024-12-31"},
                              {"from": "2025-01-01", "to": "2025-01-31"}]  # fmt: skip
    mine = _find(doc, "single-country-share", "Nd at mine")
    assert (mine["status"], mine["value"], mine["trend"]) == ("ok", 0.625, [None, 0.625])
    sep = _find(doc, "single-country-share", "Nd at separation")
    assert sep["status"] == "warning" and sep["evidence"]["country"] == "MY"
    route = _find(doc, "discrepancy-rate-route", "MINE-AU → PLANT-MY")
    assert (route["status"], route["value"]) == ("warning", 1.0)
    assert route["evidence"] == {"receipts": 1, "discrepant": 1, "unaccounted_kg": 20.0,
                                 "events": ["e4"]}  # fmt: skip
    # 1 t shipped in 31 days is 11.8 t a year against 0.5 t/y registered
    cap = _find(doc, "capacity", "MINE-AU")
    assert cap["status"] == "warning" and cap["value"] == pytest.approx(365.25 / 31 / 0.5)
    warned = {(i["indicator"], i["subject"]) for i in doc["indicators"] if i["status"] == "warning"}
    assert warned == {
        ("single-country-share", "Nd at separation"), ("single-country-share", "Pr at mine"),
        ("single-country-share", "Pr at separation"),
        ("discrepancy-rate-route", "MINE-AU → PLANT-MY"),
        ("discrepancy-rate-facility", "MINE-AU"), ("discrepancy-rate-facility", "PLANT-MY"),
        ("capacity", "MINE-AU"),
    }  # fmt: skip
    assert doc["warnings"] == 7
    assert doc["indicators"][0]["status"] == "warning"  # warnings first


def test_days_of_cover_without_consumption_is_no_warning(tmp_path: Path) -> None:
    ledger = small_ledger(tmp_path)
    doc = service.warnings(ledger.store, date(2025, 3, 31), load_settings()).to_json()
    cover = _find(doc, "days-of-cover", "NdPr at MAGNET-VN")
    assert (cover["status"], cover["value"]) == ("ok", None)
    assert cover["evidence"]["stock_kg"] == 121.0  # 97 Nd + 24 Pr, as oxide


def test_settings_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"expiry": {"within_dayz": 3}}')
    with pytest.raises(ConfigError, match=r"expiry\.within_dayz: Extra inputs are not permitted"):
        load_settings(bad)
    bad.write_text('{"single_country_share": {"elements": ["Fe"]}}')
    with pytest.raises(ConfigError, match="'Fe', which is not one of"):
        load_settings(bad)
    small_ledger(tmp_path).close()
    done = run("analytics", "warnings", "--settings", str(bad), cwd=tmp_path,
               env={"RARETRACE_DB": "ledger.db"})  # fmt: skip
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_the_cli_prints_a_table_and_json(tmp_path: Path) -> None:
    small_ledger(tmp_path).close()
    env = {"RARETRACE_DB": "ledger.db"}
    table = run("analytics", "warnings", "--as-of", "2025-01-31", cwd=tmp_path, env=env)
    assert table.returncode == 0, table.stderr
    assert "as of 2025-01-31" in table.stdout and "single-country-share" in table.stdout
    doc = json.loads(run("analytics", "warnings", "--as-of", "2025-01-31", "--json",
                         cwd=tmp_path, env=env).stdout)  # fmt: skip
    assert doc["as_of"] == "2025-01-31" and doc["settings"] == "packaged"
