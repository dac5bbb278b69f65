"""The ingest's garbage-collection policy: paused while ingesting, cycles still collected."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from examples import example_events, example_registry
from ledger_support import new_ledger
from raretrace.ledger import append
from raretrace.ledger.append import IngestReport


class _Cyclic:
    """An object that only the cycle collector can free (it refers to itself)."""

    def __init__(self) -> None:
        self.me = self


def _ingest_making_cycles(tmp_path: Path) -> list[weakref.ref[_Cyclic]]:
    """Ingest the example one event per batch, dropping 2,000 cycles after each batch.

    Returns weak references to the cycles dropped after the first batch, read at the end of
    the second batch (before the ingest restores the automatic collector).
    """
    ledger = new_ledger(str(tmp_path / "ledger.db"), example_registry(), log_dir=tmp_path / "log")
    dropped: list[weakref.ref[_Cyclic]] = []
    seen_after_second: list[weakref.ref[_Cyclic]] = []

    def on_batch(report: IngestReport) -> None:
        assert not gc.isenabled()  # the automatic collector is paused while ingesting
        if not dropped:
            made = [_Cyclic() for _ in range(2000)]
            dropped.extend(weakref.ref(c) for c in made)
            del made
        elif not seen_after_second:
            seen_after_second.extend(r for r in dropped if r() is not None)

    ledger.ingest(enumerate(example_events(), 1), batch_size=1, on_batch=on_batch)
    ledger.close()
    return seen_after_second


def test_cycles_are_collected_once_young_garbage_piles_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(append, "YOUNG_GARBAGE_LIMIT", 1000)
    assert _ingest_making_cycles(tmp_path) == []


def test_below_the_limit_nothing_is_walked_and_the_collector_resumes_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(append, "YOUNG_GARBAGE_LIMIT", 10**9)
    alive = _ingest_making_cycles(tmp_path)
    assert len(alive) == 2000  # not collected during the ingest ...
    assert gc.isenabled()
    gc.collect()
    assert all(r() is None for r in alive)  # ... and collectable once it is over


def test_the_append_path_leaves_no_cyclic_garbage(db_url: str, tmp_path: Path) -> None:
    # Garbage that only the cycle collector frees would pile up between its rare runs (the
    # ledger's memory is flat only if reference counting frees what each batch drops).
    ledger = new_ledger(db_url, example_registry(), log_dir=tmp_path / "log")
    events = example_events()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        ledger.ingest(enumerate(events, 1), batch_size=1)
        ledger.ingest(enumerate(events, 1), batch_size=2)  # duplicates: read back, skipped
        gc.collect()
        garbage = [type(o).__qualname__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        ledger.close()
    assert garbage == []
