"""The demo world on a real ledger shows what the rule packs are for: a Chinese separator's Dy
exported with and without a MOFCOM No. 18 licence, Chinese technology in a Vietnamese plant
(No. 61), a CAHRA mine whose audit does not count, a licence that expires mid-year, and
magnets of wholly recycled rare earths."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date

import pytest

from ledger_support import new_ledger
from raretrace.compliance.service import CheckReport, check_lot
from raretrace.demo.generate import generate_events
from raretrace.demo.world import load_world, registry
from raretrace.domain.model import Lot
from raretrace.store.store import Store

pytestmark = pytest.mark.integration

N = 20_000
LATER = date(2027, 2, 1)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    where = tmp_path_factory.mktemp("demo-compliance")
    ledger = new_ledger(str(where / "demo.db"), registry(load_world()), log_dir=where / "log")
    with ledger:
        report = ledger.ingest(enumerate(generate_events(N), 1))
    assert report.rejected == 0, report.rejections[:1]
    store = Store.open(str(where / "demo.db"), access="read")
    yield store
    store.close()


def _magnets(store: Store, facility: str) -> list[Lot]:
    return list(store.lots(form="magnet", facility=facility))


def _first(store: Store, lots: list[Lot], pack: str, rule: str, status: str) -> CheckReport:
    """The first of ``lots`` whose ``pack`` answers ``status`` under ``rule`` as of 2027."""
    for lot in lots:
        report = check_lot(store, lot.id, as_of=LATER, packs=[pack])
        if any(r.rule.endswith(rule) and r.status == status for r in report.results):
            return report
    raise AssertionError(f"no lot of {len(lots)} is {status} under {pack} {rule}")


def test_chinese_dy_is_exported_with_and_without_a_licence(store: Store) -> None:
    smmv = _magnets(store, "VN-SMMV-HAIPHONG") + _magnets(store, "PORT-VN-HAIPHONG")
    failed = _first(store, smmv, "cn-mofcom", "No. 18 of 2025", "fail")
    [no18] = [r for r in failed.results if r.rule.endswith("No. 18 of 2025")]
    assert "CN-GANZHOU-SEP" in " ".join(no18.reasons) and no18.events
    covered = _first(store, smmv, "cn-mofcom", "No. 18 of 2025", "pass")
    [ok] = [r for r in covered.results if r.rule.endswith("No. 18 of 2025")]
    assert "LIC-CN18-GANZHOU" in " ".join(ok.reasons)


def test_chinese_technology_in_vietnam_needs_a_no61_licence_after_the_suspension(
    store: Store,
) -> None:
    smmv = _magnets(store, "VN-SMMV-HAIPHONG") + _magnets(store, "PORT-VN-HAIPHONG")
    report = _first(store, smmv, "cn-mofcom", "art. I(2)", "fail")
    [tech] = [r for r in report.results if r.rule.endswith("art. I(2)")]
    assert "VN-YENBAI-SEP" in " ".join(tech.reasons) or "VN" in " ".join(tech.reasons)
    before = check_lot(store, report.lot, as_of=date(2026, 11, 10), packs=["cn-mofcom"])
    [suspended] = [r for r in before.results if r.rule.endswith("art. I(2)")]
    assert suspended.status == "not-applicable"


def test_kachin_dy_needs_evidence_and_its_audit_does_not_count(store: Store) -> None:
    lots = _magnets(store, "VN-SMMV-HAIPHONG") + _magnets(store, "MY-JSLINK-KUANTAN")
    report = _first(store, lots, "oecd-cahra", "", "needs-evidence")
    [cahra] = report.results
    text = " ".join((cahra.summary, *cahra.reasons))
    assert "MM-KACHIN-SR1" in text and "AUD-KACHIN-DDG-2025" in text


def test_the_recycler_s_licence_expires_mid_year(store: Store) -> None:
    late = [lot for lot in _magnets(store, "MY-JSLINK-KUANTAN") if lot.time >= "2025-09"]
    report = _first(store, late, "asean-esg", "", "fail")
    reasons = " ".join(r for result in report.results for r in result.reasons)
    assert "MY-RECYCLE-KUANTAN" in reasons and "LIC-RECYCLE-OP" in reasons


def test_magnets_of_wholly_recycled_rare_earths(store: Store) -> None:
    magnets = itertools.chain(
        _magnets(store, "MY-JSLINK-KUANTAN"), _magnets(store, "PORT-MY-KUANTAN")
    )
    recycled = [
        lot for lot in magnets
        if lot.mass_kg > 0 and lot.provenance.by_mine
        and all(set(s) == {"recycled"} for s in lot.provenance.by_mine.values())
    ]  # fmt: skip
    assert recycled
    report = check_lot(store, recycled[0].id, as_of=LATER, packs=["us-dfars"])
    [dfars] = report.results
    assert dfars.status == "pass", dfars


def test_every_pack_answers_for_a_demo_magnet(store: Store) -> None:
    [magnet] = _magnets(store, "MY-JSLINK-KUANTAN")[:1]
    report = check_lot(store, magnet.id, as_of=LATER)
    assert {r.pack for r in report.results} == {
        "cn-mofcom", "us-dfars", "oecd-cahra", "asean-esg", "eu-crma",
    }  # fmt: skip
