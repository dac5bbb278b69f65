"""Helpers for tests that need a real ledger: create one, load a registry, snapshot tables."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select

from raretrace.ledger import service
from raretrace.ledger.append import Ledger
from raretrace.store import schema


def new_ledger(db: str, registry: dict[str, Any], *, log_dir: Path, signed: bool = False) -> Ledger:
    """An initialised ledger at ``db`` holding ``registry``; unsigned events allowed unless
    ``signed``.

    The log (with its private signing key) goes to ``log_dir``, which the caller takes from
    pytest's ``tmp_path`` or ``tmp_path_factory``, so it is removed with the test's other files
    and nothing outlives the run.
    """
    service.init_ledger(db, require_signatures=signed, log_dir=log_dir)
    ledger = service.open_ledger(db)
    events = service.registry_events(
        registry, ledger.registry, signer=service.registry_signer(ledger)
    )
    report = ledger.ingest(enumerate(events, 1))
    assert report.rejected == 0, report.rejections
    return ledger


def snapshot(ledger: Ledger) -> str:
    """A digest of every row of every ledger table, to prove that nothing changed."""
    digest = hashlib.sha256()
    with ledger.store.engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            for row in sorted(repr(tuple(r)) for r in rows):
                digest.update(row.encode())
            digest.update(f"|{table.name}|".encode())
    return digest.hexdigest()
