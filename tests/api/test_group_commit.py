"""Group commit (issue 11 §6): submissions that wait while a transaction commits share the
next one through the one write path, and each caller still gets its own answer — accepted
with its sequence number, a retry answered the same as a replay, a rejection that changed
nothing. On SQLite and PostgreSQL, and through the running service."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import DemoLedger, Server, assert_error, ok
from sqlalchemy import func, select

from ledger_chains import REGISTRY
from ledger_support import new_ledger
from raretrace.domain.errors import ValidationError
from raretrace.ledger.append import IngestReport, Ledger
from raretrace.ledger.audit import audit_ledger
from raretrace.service.groupcommit import Appended, GroupCommit
from raretrace.store import schema

pytestmark = pytest.mark.integration

T = "2025-01-{:02d}T00:00:00Z"


def _extract(eid: str, lot: str, day: int, kg: float = 100.0) -> dict[str, Any]:
    output = {"lot": lot, "form": "concentrate", "mass_kg": kg, "elements_kg": {"Nd": 30.0}}
    return {"id": eid, "type": "extract", "time": T.format(day), "actor": "miner-au",
            "facility": "MINE-AU", "outputs": [output]}  # fmt: skip


def _ship(eid: str, lot: str, day: int) -> dict[str, Any]:
    return {"id": eid, "type": "ship", "time": T.format(day), "actor": "miner-au", "lot": lot,
            "from": "MINE-AU", "to": "PORT-MY", "consignee": "proc-my"}  # fmt: skip


def _seqs(ledger: Ledger) -> Any:
    def found(ids: list[str]) -> dict[str, int]:
        e = schema.events
        with ledger.store.engine.connect() as conn:
            rows = conn.execute(select(e.c.id, e.c.seq).where(e.c.id.in_(ids)))
            return {row.id: int(row.seq) for row in rows}

    return found


def _checkpoints(ledger: Ledger) -> int:
    with ledger.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.checkpoints)).scalar_one())


def _queue_behind(group: GroupCommit, pool: ThreadPoolExecutor, events: list[dict[str, Any]]
                  ) -> list[Future[Appended]]:  # fmt: skip
    """Submit ``events`` one after another, each once the one before is queued (so the group
    holds them in this order)."""
    futures = []
    for event in events:
        queued = group.waiting()
        futures.append(pool.submit(group.submit, event))
        deadline = time.monotonic() + 30
        while group.waiting() == queued:
            assert time.monotonic() < deadline, "a submission never reached the queue"
            time.sleep(0.001)
    return futures


def test_waiting_submissions_share_one_transaction_and_each_gets_its_own_answer(
    db_url: str, tmp_path: Path
) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    entered, gate = threading.Event(), threading.Event()
    batches: list[int] = []

    def apply(events: list[tuple[int, dict[str, Any]]]) -> IngestReport:
        entered.set()
        gate.wait(30)  # the first batch commits only once the others are queued behind it
        batches.append(len(events))
        return ledger.ingest(events, batch_size=len(events))

    group = GroupCommit(apply, _seqs(ledger))
    checkpoints = _checkpoints(ledger)
    before = ledger.store.size()
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(group.submit, _extract("e1", "A", 1))
        assert entered.wait(30)  # the writer took e1 and waits at the gate
        behind = _queue_behind(group, pool, [
            _ship("e2", "A", 2),  # follows e1, which committed in the batch before
            _ship("bad", "NO-SUCH-LOT", 2),  # rejected: changes nothing
            _extract("e1", "A", 1),  # a retry of e1: the same answer, a replay
            _extract("e3", "B", 3),
            _extract("e3", "B", 3),  # the same new event twice in one batch: added once
            _extract("e3", "C", 3),  # another event under e3's id: rejected
        ])  # fmt: skip
        gate.set()
        answers: list[Appended | Exception] = []
        for future in [first, *behind]:
            try:
                answers.append(future.result(timeout=60))
            except ValidationError as exc:
                answers.append(exc)
    group.close()
    assert batches == [1, 6]  # two transactions for seven submissions
    assert _checkpoints(ledger) == checkpoints + 2
    e1, e2, bad, retry, e3, e3_again, clash = answers
    assert e1 == Appended(before, replay=False)
    assert e2 == Appended(before + 1, replay=False)
    assert isinstance(bad, ValidationError) and bad.rule == "lot-not-found", bad
    assert retry == Appended(before, replay=True)
    assert e3 == Appended(before + 2, replay=False)
    assert e3_again == Appended(before + 2, replay=True)
    assert isinstance(clash, ValidationError) and clash.rule == "duplicate-event-id", clash
    assert ledger.store.size() == before + 3
    report = audit_ledger(ledger.store, full=True, workers=1)
    assert report.ok, [f.line() for f in report.findings][:5]
    ledger.close()


def test_a_batch_that_fails_answers_every_caller_with_its_failure(
    tmp_path: Path,
) -> None:
    ledger = new_ledger(str(tmp_path / "l.db"), REGISTRY, log_dir=tmp_path / "log")

    def apply(events: list[tuple[int, dict[str, Any]]]) -> IngestReport:
        raise ValidationError("format", "test", "the database went away")

    group = GroupCommit(apply, _seqs(ledger))
    with pytest.raises(ValidationError, match="went away"):
        group.submit(_extract("e1", "A", 1))
    group.close()
    ledger.close()


def test_concurrent_submissions_through_the_service_each_get_their_own_answer(
    demo_ledger: DemoLedger, server: Server
) -> None:
    out = ok("--db", demo_ledger.db, "lots", "--status", "active", "--limit", "0", "--json",
             cwd=demo_ledger.folder)  # fmt: skip
    lot = max((json.loads(line) for line in out.splitlines()), key=lambda x: x["mass_kg"])
    holder = lot["custodian"]
    token = demo_ledger.token(holder, "operator")
    events = [
        demo_ledger.sign({
            "id": f"group-{lot['lot']}-{i}", "type": "adjust", "time": "2025-12-31T00:00:00Z",
            "actor": holder, "lot": lot["lot"], "mass_kg": -0.001,
            "reason": f"sample {i} taken for assay",
        })
        for i in range(24)
    ]  # fmt: skip
    bad = demo_ledger.sign({**events[0], "id": "group-bad", "lot": "NO-SUCH-LOT"})
    sent = [*events, events[0], events[0], bad]  # two retries of one event, one bad event
    before = demo_ledger.size()

    def submit(event: dict[str, Any]) -> httpx.Response:
        with server.client(token) as http:
            return http.post("/v1/events", json=event)

    with ThreadPoolExecutor(len(sent)) as pool:
        answers = list(pool.map(submit, sent))
    assert_error(answers[-1], 422, "lot-not-found")
    good = answers[:-1]
    assert all(a.status_code == 200 for a in good), [a.text[:200] for a in good]
    seqs = {a.json()["event_id"]: a.json()["seq"] for a in good}
    assert sorted(seqs.values()) == list(range(before, before + len(events)))
    same = [a for a in good if a.json()["event_id"] == events[0]["id"]]
    assert len({a.json()["seq"] for a in same}) == 1
    assert sum(a.headers.get("Raretrace-Replay") != "true" for a in same) == 1
    assert demo_ledger.size() == before + len(events)
    demo_ledger.audit_clean()
