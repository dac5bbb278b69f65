"""Helpers for tests that need a real ledger: create one, load a registry, snapshot tables."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from raretrace.ledger import service
from raretrace.ledger.append import Ledger
from raretrace.store import schema


def new_ledger(
    db: str, registry: dict[str, Any], *, signed: bool = False, log_dir: Path | None = None
) -> Ledger:
    """An initialised ledger at ``db`` holding ``registry``; unsigned events allowed unless
    ``signed``. The log goes to ``log_dir`` or a fresh temporary directory."""
    directory = log_dir or Path(tempfile.mkdtemp(prefix="raretrace-log-"))
    service.init_ledger(db, require_signatures=signed, log_dir=directory)
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
