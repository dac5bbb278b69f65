"""The analytics' aggregate cache in the database: the fold's state row, its lot state, and
the per-day and per-month sums (tables ``analytics_*`` in ``schema.py``).

Derived data, never a record: only the analytics fold (``raretrace.analytics.fold``) writes
here, through :func:`fold_transaction`, and everything here can be dropped (:func:`clear`)
and rebuilt from the events. Sums are kept at two grains, days and months, so that any
period of calendar days is whole months plus at most two runs of days (:func:`grain_ranges`)
and a query adds up a few thousand rows whatever the ledger's length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement

from raretrace.store import schema
from raretrace.store.bulk import executemany
from raretrace.store.engine import WRITE_OPTION

__all__ = [
    "DAY",
    "MONTH",
    "SUMMED",
    "FoldState",
    "GrainRange",
    "add_sums",
    "checkpoint_root",
    "chunk_end",
    "clear",
    "drop_lots",
    "fold_transaction",
    "grain_ranges",
    "lots_by_id",
    "put_lots",
    "read_state",
    "referenced_lots",
    "sums",
    "write_state",
]

DAY, MONTH = "d", "m"
_ID_CHUNK = 900  # stays under every backend's bound-parameter limit
#: Not the ledger's writer lock (``ledger.append``): folds serialize among themselves only.
_PG_FOLD_LOCK = 0x52414E41  # "RANA"

#: Each aggregate table: its key columns (after ``grain`` and ``bucket``) and value columns.
SUMMED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "analytics_nodes": (("measure", "stage", "country", "facility", "element"), ("kg",)),
    "analytics_links": (
        ("kind", "from_stage", "from_country", "from_facility", "to_stage", "to_country",
         "to_facility", "element"),
        ("kg",),
    ),
    "analytics_outputs": (("element", "stage", "country"), ("kg",)),
    "analytics_routes": (
        ("origin", "destination"),
        ("receipts", "discrepant", "shipped_kg", "received_kg", "discrepant_kg"),
    ),
    "analytics_held": (("facility", "form", "element"), ("kg",)),
    "analytics_shipped": (("facility",), ("kg",)),
}  # fmt: skip
_TABLES: dict[str, Table] = {name: schema.metadata.tables[name] for name in SUMMED}


@dataclass(frozen=True, slots=True)
class FoldState:
    """The fold's row: ``size`` events folded (seq 1..size), the checkpoint ``root`` at that
    size, the ``basis`` it assumed (JSON), and ``generation``, one more at every commit."""

    generation: int
    size: int
    root: str
    basis: str
    first_time: str | None
    last_time: str | None
    unresolved: int


def read_state(conn: Connection) -> FoldState | None:
    """The fold's row, or None if it is missing."""
    f = schema.analytics_fold
    row = conn.execute(select(f).where(f.c.id == 1)).one_or_none()
    if row is None:
        return None
    return FoldState(
        row.generation, row.size, row.root, row.basis, row.first_time, row.last_time,
        row.unresolved,
    )  # fmt: skip


def write_state(conn: Connection, state: FoldState) -> None:
    """Replace the fold's row (inside :func:`fold_transaction`)."""
    f = schema.analytics_fold
    values = {
        "generation": state.generation, "size": state.size, "root": state.root,
        "basis": state.basis, "first_time": state.first_time, "last_time": state.last_time,
        "unresolved": state.unresolved,
    }  # fmt: skip
    if conn.execute(update(f).where(f.c.id == 1).values(**values)).rowcount == 0:
        conn.execute(f.insert().values(id=1, **values))


@contextmanager
def fold_transaction(engine: Engine) -> Iterator[Connection]:
    """A writing transaction that no other fold runs beside: ``BEGIN IMMEDIATE`` on SQLite
    (it also waits for, and holds off, a ledger writer, so keep it short), a transaction
    advisory lock of the fold's own on PostgreSQL (ledger writers are not held off)."""
    with engine.connect() as conn, conn.execution_options(**{WRITE_OPTION: True}).begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_FOLD_LOCK})
        yield conn


def clear(conn: Connection) -> None:
    """Delete every sum and the lot state (the fold's row is the caller's to reset)."""
    for table in (*_TABLES.values(), schema.analytics_lots):
        conn.execute(delete(table))


# -- the log -------------------------------------------------------------------------------
def checkpoint_root(conn: Connection, size: int) -> str | None:
    """The root of the stored checkpoint for ``size`` events, if there is one."""
    c = schema.checkpoints
    return conn.execute(select(c.c.root).where(c.c.size == size)).scalar_one_or_none()


def chunk_end(conn: Connection, after: int, most: int) -> int | None:
    """The size to fold up to next: the largest checkpointed size in (after, after + most],
    else the smallest above ``after`` (a batch larger than ``most``); None if none."""
    c = schema.checkpoints
    size = conn.execute(
        select(func.max(c.c.size)).where(c.c.size > after, c.c.size <= after + most)
    ).scalar_one_or_none()
    if size is None:
        size = conn.execute(select(func.min(c.c.size)).where(c.c.size > after)).scalar()
    return None if size is None else int(size)


def referenced_lots(conn: Connection, after: int, upto: int) -> set[str]:
    """Lots that events ``after <= seq < upto`` (the log from size ``after`` to size
    ``upto``; sequence numbers start at 0) consumed, shipped, received or adjusted."""
    le = schema.lot_events
    query = select(le.c.lot).where(
        le.c.seq >= after, le.c.seq < upto, le.c.role != "created"
    ).distinct()  # fmt: skip
    return set(conn.execute(query).scalars())


# -- lot state ------------------------------------------------------------------------------
_LOTS = schema.analytics_lots
_LOTS_BY_ID = select(_LOTS).where(_LOTS.c.lot.in_(bindparam("ids", expanding=True)))
_LOT_COLUMNS = tuple(c.name for c in _LOTS.columns)


def lots_by_id(conn: Connection, ids: Iterable[str]) -> list[dict[str, Any]]:
    """The stored lot state of those of ``ids`` that have one."""
    wanted, found = sorted(ids), list[dict[str, Any]]()
    for i in range(0, len(wanted), _ID_CHUNK):
        rows = conn.execute(_LOTS_BY_ID, {"ids": wanted[i : i + _ID_CHUNK]})
        found.extend(dict(r._mapping) for r in rows)
    return found


def _upsert(dialect: Any, table: Table, *, add: Sequence[str], replace: Sequence[str]) -> Any:
    stmt = dialect.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    changes = {c: table.c[c] + stmt.excluded[c] for c in add}
    changes.update({c: stmt.excluded[c] for c in replace})
    return stmt.on_conflict_do_update(index_elements=keys, set_=changes)


_DIALECTS = {"sqlite": sqlite, "postgresql": postgresql}
_PUT_LOTS = {
    name: _upsert(d, _LOTS, add=(), replace=_LOT_COLUMNS[1:]) for name, d in _DIALECTS.items()
}
_ADD_SUMS: dict[str, dict[str, ClauseElement]] = {
    name: {t: _upsert(d, _TABLES[t], add=SUMMED[t][1], replace=()) for t in SUMMED}
    for name, d in _DIALECTS.items()
}
_DROP_LOTS = delete(_LOTS).where(_LOTS.c.lot.in_(bindparam("ids", expanding=True)))


def put_lots(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace lot states (rows with every column of ``analytics_lots``)."""
    executemany(conn, _PUT_LOTS[conn.dialect.name], rows)


def drop_lots(conn: Connection, ids: Iterable[str]) -> None:
    """Forget the state of lots the fold saw consumed."""
    gone = sorted(ids)
    for i in range(0, len(gone), _ID_CHUNK):
        conn.execute(_DROP_LOTS, {"ids": gone[i : i + _ID_CHUNK]})


def add_sums(conn: Connection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Add ``rows`` (every column of ``table``) to what the table holds, key by key."""
    executemany(conn, _ADD_SUMS[conn.dialect.name][table], rows)


# -- reading sums for periods -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GrainRange:
    """Buckets ``lo <= bucket < hi`` of one grain (None: unbounded)."""

    grain: str
    lo: str | None
    hi: str | None


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=1) + timedelta(days=32)).replace(day=1)


def grain_ranges(first: date | None, end: date | None) -> list[GrainRange]:
    """The days ``first <= day < end`` (None: unbounded) as whole months and the days left
    over at either end."""
    if first is not None and end is not None and first >= end:
        return []
    months_from = None if first is None else (
        first if first.day == 1 else _next_month(first)
    )  # fmt: skip
    months_to = None if end is None else _month_start(end)
    if months_from is not None and months_to is not None and months_from >= months_to:
        return [GrainRange(DAY, _day(first), _day(end))]
    out = [GrainRange(MONTH, _month(months_from), _month(months_to))]
    if first is not None and months_from is not None and first < months_from:
        out.append(GrainRange(DAY, _day(first), _day(months_from)))
    if end is not None and months_to is not None and months_to < end:
        out.append(GrainRange(DAY, _day(months_to), _day(end)))
    return out


def _day(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _month(d: date | None) -> str | None:
    return None if d is None else d.isoformat()[:7]


def sums(
    conn: Connection,
    table: str,
    ranges: Mapping[str, tuple[date | None, date | None]],
    *,
    element: str | None = None,
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Per label of ``ranges`` (label → days ``first <= day < end``): the table's key
    columns and summed values, ``(label, (*keys, *values))``, one per key and grain range
    (the caller adds them up); only ``element``'s rows where given."""
    t = _TABLES[table]
    keys, values = SUMMED[table]
    columns = [t.c[k] for k in keys]
    base = select(*columns, *(func.sum(t.c[v]) for v in values)).group_by(*columns)
    if element is not None and "element" in keys:
        base = base.where(t.c.element == element)
    for label, (first, end) in ranges.items():
        for r in grain_ranges(first, end):
            query = base.where(t.c.grain == r.grain)
            if r.lo is not None:
                query = query.where(t.c.bucket >= r.lo)
            if r.hi is not None:
                query = query.where(t.c.bucket < r.hi)
            for row in conn.execute(query):
                yield label, tuple(row)
