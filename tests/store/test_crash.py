"""A real crash: ``raretrace ingest`` killed with SIGKILL in the middle of a stream.

Every batch it acknowledged is still there, no batch is there in part, the Merkle log is
repaired when the ledger is next written, re-ingesting the same file completes the ledger,
and the result is the one an uninterrupted ingest gives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from raretrace.demo.generate import write_demo
from raretrace.ledger import service
from raretrace.ledger.audit import audit_ledger
from raretrace.store import schema
from raretrace.store.store import Store

pytestmark = pytest.mark.integration

EVENTS = 12_000
KILL_AFTER = 4_000  # two batches of 2,000 acknowledged


def _new_ledger(db: str, log_dir: Path, registry_path: Path) -> int:
    service.init_ledger(db, require_signatures=False, log_dir=log_dir)
    with service.open_ledger(db) as ledger:
        service.load_registry(ledger, registry_path)
    return Store.open(db).size()


def _flow(store: Store, after: int) -> dict[str, list[Any]]:
    """The ledger past its registry events: event bodies in order, lots, discrepancies."""
    with store.engine.connect() as conn:
        events = schema.events
        bodies = conn.execute(
            select(events.c.body).where(events.c.seq >= after).order_by(events.c.seq)
        ).scalars()
        lots = conn.execute(select(schema.lots).order_by(schema.lots.c.id)).all()
        found = conn.execute(select(schema.discrepancies).order_by(schema.discrepancies.c.seq))
        return {"events": list(bodies), "lots": [tuple(r) for r in lots],
                "discrepancies": [tuple(r) for r in found.all()]}  # fmt: skip


def test_an_ingest_killed_mid_stream_loses_nothing_acknowledged_and_resumes(
    db_url: str, tmp_path: Path
) -> None:
    registry_path, events_path = write_demo(tmp_path / "demo", EVENTS)
    registry_size = _new_ledger(db_url, tmp_path / "log", registry_path)
    store = Store.open(db_url)

    # The whole process group goes at once, signature workers included: a power cut.
    ingest = subprocess.Popen(
        [sys.executable, "-m", "raretrace", "ingest", str(events_path), "--db", db_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while store.size() < registry_size + KILL_AFTER:
        assert ingest.poll() is None, "the ingest ended before it could be killed"
        assert time.monotonic() < deadline, "the ingest made no progress"
        time.sleep(0.005)
    os.killpg(ingest.pid, signal.SIGKILL)
    ingest.wait()

    size = store.size()
    assert registry_size + KILL_AFTER <= size < registry_size + EVENTS
    with store.engine.connect() as conn:
        newest = conn.execute(select(func.max(schema.checkpoints.c.size))).scalar()
    assert newest == size  # each stored batch came with its checkpoint: none is there in part

    with service.open_ledger(db_url) as ledger:
        report = ledger.ingest(service.numbered_lines(events_path))
    assert report.rejected == 0, report.rejections[:3]
    assert report.duplicates == size - registry_size
    assert report.accepted == EVENTS - (size - registry_size)
    audit = audit_ledger(store, lineage_sample=20)
    assert audit.total_findings == 0, audit.findings[:3]

    reference_db = str(tmp_path / "reference.db")
    reference_size = _new_ledger(reference_db, tmp_path / "reference-log", registry_path)
    assert reference_size == registry_size
    with service.open_ledger(reference_db) as reference:
        assert reference.ingest(service.numbered_lines(events_path)).accepted == EVENTS
    assert _flow(store, registry_size) == _flow(Store.open(reference_db), registry_size)
