"""Fast executemany for the append path's bulk writes.

SQLAlchemy's Core ``execute(stmt, rows)`` processes every parameter of every row in Python,
which costs more than the database's own work for our small rows. The append path compiles
each statement once per dialect and hands the rows straight to the driver's executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement

_compiled: dict[tuple[int, str], tuple[str, tuple[str, ...] | None]] = {}


def _compile(conn: Connection, stmt: ClauseElement) -> tuple[str, tuple[str, ...] | None]:
    key = (id(stmt), conn.dialect.name)
    found = _compiled.get(key)
    if found is None:
        compiled: Any = stmt.compile(dialect=conn.dialect)
        order = tuple(compiled.positiontup) if compiled.positional else None
        found = (str(compiled), order)
        _compiled[key] = found
    return found


def executemany(conn: Connection, stmt: ClauseElement, rows: Sequence[dict[str, Any]]) -> None:
    """Run ``stmt`` once per row; ``stmt`` must be a module-level constant (cached by id)."""
    if not rows:
        return
    sql, order = _compile(conn, stmt)
    if order:
        getter = itemgetter(*order)
        params: list[Any] = (
            list(map(getter, rows)) if len(order) > 1 else [(r[order[0]],) for r in rows]
        )
    else:
        params = list(rows)
    conn.exec_driver_sql(sql, params)
