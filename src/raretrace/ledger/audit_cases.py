"""The audit's check of the clearinghouse's tables: every agreement and dispute row, and every
``case_steps`` row, against what the replay of the events gives (docs/clearinghouse.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from raretrace.domain.clearinghouse import Case
from raretrace.ledger.audit_report import AuditReport
from raretrace.store import schema
from raretrace.store.rows import case_row


def compare_cases(
    conn: Connection,
    cases: Mapping[str, Case],
    case_seq: Mapping[str, int],
    steps: list[tuple[int, str, str]],
    report: AuditReport,
) -> None:
    """Add a finding for each stored case or step row that differs from the replay, is
    missing, or that no event produced. ``cases`` and ``case_seq`` are keyed ``kind:id``."""
    expected: dict[tuple[str, str], dict[str, Any] | None] = {}
    for key, case in cases.items():
        table, row_values = case_row(case, case_seq[key])
        expected[(table, case.id)] = row_values
    for table in ("agreements", "disputes"):
        t = schema.metadata.tables[table]
        for row in conn.execute(select(t)).mappings():
            values = expected.pop((table, row["id"]), None)
            if values is None:
                report.add("tables", table, repr(row["id"]),
                           "stored case that no event made (inserted directly)")  # fmt: skip
                continue
            for name, value in values.items():
                if row[name] != value:
                    report.add("tables", table, repr(row["id"]),
                               f"{name}: stored {row[name]!r}, replay {value!r}")  # fmt: skip
    for table, case_id in expected:
        report.add("tables", table, repr(case_id), "missing; an event made it (row deleted)")
    _compare_steps(conn, steps, report)


def _compare_steps(
    conn: Connection, steps: list[tuple[int, str, str]], report: AuditReport
) -> None:
    s = schema.case_steps
    stored = {int(r.seq): (r.kind, r.id) for r in conn.execute(select(s))}
    for seq, kind, case_id in steps:
        found = stored.pop(seq, None)
        if found != (kind, case_id):
            report.add("tables", "case_steps", f"seq {seq}",
                       f"stored {found!r}, replay {(kind, case_id)!r}")  # fmt: skip
    for seq, found in stored.items():
        report.add("tables", "case_steps", f"seq {seq}",
                   f"stored {found!r} that no clearinghouse event gives")  # fmt: skip
