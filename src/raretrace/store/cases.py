"""Reading the clearinghouse's tables (``agreements``, ``disputes``, ``case_steps``): the
cases as the append path stored them, and the events of a case's history.

Only ``raretrace.ledger`` writes these tables (``writes._write_cases``); this module reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from raretrace.domain import jsontext
from raretrace.domain.agreements import Agreement
from raretrace.domain.clearinghouse import Case
from raretrace.domain.disputes import Dispute
from raretrace.domain.registry import Registry
from raretrace.store import schema
from raretrace.store.rows import case_from_row


def load_cases(conn: Connection, registry: Registry) -> None:
    """Add every stored agreement and dispute to ``registry`` (what the rules read)."""
    for case in _cases(conn, "agreements"):
        registry.add_case(case)
    for case in _cases(conn, "disputes"):
        registry.add_case(case)


def _cases(conn: Connection, name: str, where: Any = None) -> Iterator[Case]:
    table = schema.metadata.tables[name]
    query = select(table.c.body).order_by(table.c.id)
    if where is not None:
        query = query.where(where(table))
    for (body,) in conn.execute(query):
        yield case_from_row(name, body)


def agreements(conn: Connection, *, status: str | None = None) -> list[Agreement]:
    """Every agreement (or those in ``status``), by id."""
    where = None if status is None else (lambda t: t.c.status == status)
    return [c for c in _cases(conn, "agreements", where) if isinstance(c, Agreement)]


def agreement(conn: Connection, agreement_id: str) -> Agreement | None:
    found = list(_cases(conn, "agreements", lambda t: t.c.id == agreement_id))
    return found[0] if found and isinstance(found[0], Agreement) else None


def disputes(conn: Connection, *, status: str | None = None) -> list[Dispute]:
    """Every dispute (or those in ``status``), by id."""
    where = None if status is None else (lambda t: t.c.status == status)
    return [c for c in _cases(conn, "disputes", where) if isinstance(c, Dispute)]


def dispute(conn: Connection, dispute_id: str) -> Dispute | None:
    found = list(_cases(conn, "disputes", lambda t: t.c.id == dispute_id))
    return found[0] if found and isinstance(found[0], Dispute) else None


def step_events(conn: Connection, kind: str, case_id: str) -> list[dict[str, Any]]:
    """The signed events that moved one licence, agreement or dispute, in log order, each
    with its ``seq``."""
    s, e = schema.case_steps, schema.events
    query = (
        select(e.c.seq, e.c.body)
        .join(s, s.c.seq == e.c.seq)
        .where(s.c.kind == kind, s.c.id == case_id)
        .order_by(e.c.seq)
    )
    return [{"seq": int(seq), "event": jsontext.loads(body)} for seq, body in conn.execute(query)]


def event_seq(conn: Connection, event_id: str) -> int | None:
    """The sequence number of the accepted event ``event_id``, if there is one."""
    e = schema.events
    found = conn.execute(select(e.c.seq).where(e.c.id == event_id)).scalar()
    return None if found is None else int(found)
