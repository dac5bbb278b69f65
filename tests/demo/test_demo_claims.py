"""The demo stream's claims on a real ledger: the plants claim the recycled content of wholly
recycled magnets and half the origin of some ASEAN magnets, the claims travel to the parts a
magnet is split into, a second claim beyond what is free is refused, and the audit is clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger_support import new_ledger
from raretrace.demo.generate import (
    ORIGIN_CLAIM_SHARE,
    ORIGIN_SCHEME,
    RECYCLED_SCHEME,
    generate_events,
)
from raretrace.demo.world import load_world, registry
from raretrace.ledger.audit import audit_ledger
from raretrace.service import reads
from raretrace.service.ledgers import Ledger

pytestmark = pytest.mark.integration

N = 3_000


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Ledger, list[dict]]]:
    where: Path = tmp_path_factory.mktemp("demo-claims")
    events = list(generate_events(N))
    ledger = new_ledger(str(where / "demo.db"), registry(load_world()), log_dir=where / "log")
    with ledger:
        report = ledger.ingest(enumerate(events, 1))
        assert report.rejected == 0, report.rejections[:1]
        yield ledger, events


def test_the_demo_ledger_holds_claims_and_its_audit_is_clean(
    built: tuple[Ledger, list[dict]],
) -> None:
    ledger, events = built
    claims = [e for e in events if e["type"] == "claim"]
    schemes = {c["scheme"] for c in claims}
    assert schemes == {RECYCLED_SCHEME, ORIGIN_SCHEME}
    assert reads.counts(ledger.store)["events"]["claim"] == len(claims)
    for claim in claims:
        claimed = reads.trace(ledger.store, claim["lot"])["claimed"][claim["scheme"]]
        assert claimed and set(claimed.values()) == {claim["share"]}, (claim, claimed)
    assert audit_ledger(ledger.store, workers=1).ok


def test_the_parts_of_a_claimed_magnet_inherit_its_claim(built: tuple[Ledger, list[dict]]) -> None:
    ledger, events = built
    claimed = {c["lot"]: c for c in events if c["type"] == "claim"}
    splits = [
        e for e in events
        if e["type"] == "transform" and e["process"] == "split"
        and e["inputs"][0]["lot"] in claimed
    ]  # fmt: skip
    schemes = set()
    for split in splits:
        claim = claimed[split["inputs"][0]["lot"]]
        schemes.add(claim["scheme"])
        for out in split["outputs"]:
            view = reads.trace(ledger.store, out["lot"])
            shares = list(view["claimed"][claim["scheme"]].values())
            assert shares == pytest.approx([claim["share"]] * len(shares)), view["claimed"]
    assert schemes == {RECYCLED_SCHEME, ORIGIN_SCHEME}


def test_claiming_a_recycled_magnet_again_is_a_double_claim(
    built: tuple[Ledger, list[dict]],
) -> None:
    ledger, events = built
    [claim, *_] = [e for e in events if e["type"] == "claim" and e["scheme"] == RECYCLED_SCHEME]
    lot = reads.trace(ledger.store, claim["lot"])
    again = {**claim, "id": "again-1", "time": "2025-12-31T23:59:59Z", "share": 0.1}
    if lot["status"] != "active":  # split and shipped since: claim one of its parts instead
        part = next(
            o["lot"] for e in events if e["type"] == "transform"
            and e["inputs"][0]["lot"] == claim["lot"] for o in e["outputs"]
        )  # fmt: skip
        view = reads.trace(ledger.store, part)
        again.update(lot=part, actor=view["custodian"])
    report = ledger.ingest([(1, again)])
    assert report.rejected == 1
    error = report.rejections[0].error
    assert error.rule == "double-claim" and claim["id"] in error.message, error.message
    assert "nothing of it is free" in error.message


def test_origin_claims_leave_the_rest_free(built: tuple[Ledger, list[dict]]) -> None:
    ledger, events = built
    origin = [e for e in events if e["type"] == "claim" and e["scheme"] == ORIGIN_SCHEME]
    assert origin and all(c["share"] == ORIGIN_CLAIM_SHARE for c in origin)
    for claim in origin:
        view = reads.trace(ledger.store, claim["lot"])
        assert view["path"][-1]["country"] in ("MY", "VN"), view["path"][-1]
        assert view["form"] == "magnet" and view["custodian"] == claim["actor"]
