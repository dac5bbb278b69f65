"""The ledger's Merkle log stays in step with the database through crashes and lost tiles."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from examples import example_events, example_registry
from ledger_support import new_ledger
from raretrace.ledger import transparency
from raretrace.ledger.append import Ledger
from raretrace.log.merkle import tree_root
from raretrace.log.tiles import TileReader, tiles_on_disk
from raretrace.store import schema

pytestmark = pytest.mark.integration
REGISTRY = example_registry()


def _extract(n: int) -> dict[str, Any]:
    first = example_events()[0]
    return {**first, "id": f"x{n}", "outputs": [{**first["outputs"][0], "lot": f"X-{n}"}]}


def _assert_log_matches_database(ledger: Ledger, log_dir: Path) -> None:
    with ledger.store.engine.connect() as conn:
        size, root = conn.execute(
            select(schema.checkpoints.c.size, schema.checkpoints.c.root)
            .order_by(schema.checkpoints.c.size.desc())
            .limit(1)
        ).one()
    assert size == ledger.store.size() == tiles_on_disk(log_dir)
    assert tree_root(TileReader(log_dir, size), size).hex() == root
    assert (
        (log_dir / "checkpoint").read_text().startswith(f"{ledger.settings.log.origin}\n{size}\n")
    )


def test_lost_tiles_are_rebuilt_from_the_events(db_url: str, tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    ledger = new_ledger(db_url, REGISTRY, log_dir=log_dir)
    ledger.ingest(enumerate(example_events(), 1))
    ledger.close()
    shutil.rmtree(log_dir / "tile")
    ledger = Ledger(ledger.store.__class__.open(db_url))
    assert ledger.ingest([(1, _extract(1))]).accepted == 1
    _assert_log_matches_database(ledger, log_dir)
    ledger.close()


def test_tiles_written_for_a_batch_that_never_committed_are_rolled_back(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_dir = tmp_path / "log"
    ledger = new_ledger(db_url, REGISTRY, log_dir=log_dir)
    ledger.ingest(enumerate(example_events(), 1))
    real = transparency.sign_checkpoint

    def crash(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("power cut after the tiles were flushed")

    monkeypatch.setattr(transparency, "sign_checkpoint", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        ledger.ingest(enumerate([_extract(n) for n in range(300)], 1))
    monkeypatch.setattr(transparency, "sign_checkpoint", real)
    assert tiles_on_disk(log_dir) > ledger.store.size()  # the tiles ran ahead of the database
    assert ledger.ingest([(1, _extract(999))]).accepted == 1
    _assert_log_matches_database(ledger, log_dir)
    ledger.close()
