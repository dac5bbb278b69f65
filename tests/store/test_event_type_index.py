"""Opening a ledger reads its participant events (``ledger.keylog``: ``type = 'participant'
AND seq in a range``) through ``ix_events_type_seq`` (migration 0011), a range of the index
rather than a scan of the events table; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from ledger_chains import REGISTRY
from ledger_support import new_ledger
from raretrace.store import schema

pytestmark = pytest.mark.integration


def _keylog_query() -> str:
    events = schema.events
    return str(
        select(events.c.seq, events.c.body)
        .where(events.c.type == "participant", events.c.seq >= 0, events.c.seq < 2**40)
        .order_by(events.c.seq)
        .compile(compile_kwargs={"literal_binds": True})
    )


def test_participant_events_are_read_through_the_type_index(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    engine = ledger.store.engine
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1]) for row in conn.execute(text("EXPLAIN QUERY PLAN " + _keylog_query()))
            )
            assert "USING INDEX ix_events_type_seq (type=? AND seq>? AND seq<?)" in plan, plan
        else:
            # A handful of rows: the planner would rightly scan them; forbid that to see
            # whether the index serves the query as a range of (type, seq).
            conn.execute(text("SET enable_seqscan = off"))
            plan = " ".join(str(row[0]) for row in conn.execute(text("EXPLAIN " + _keylog_query())))
            assert "ix_events_type_seq" in plan, plan
            assert "Index Cond" in plan and "seq" in plan.split("Index Cond", 1)[1], plan
            assert "Sort" not in plan, plan  # read in seq order from the index
        names = {ix["name"] for ix in inspect(conn).get_indexes("events")}
    assert "ix_events_type_seq" in names
