"""The audit's report (findings and counts) and helpers the audit modules share."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection

CHUNK = 4000  # events read, verified and replayed together
KEEP_FINDINGS = 10_000  # findings kept in the report; the rest are only counted


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference: which check found it, in which table, at which row, and what."""

    check: str
    table: str
    key: str
    message: str

    def line(self) -> str:
        return f"{self.table} {self.key}: {self.message}"


@dataclass(slots=True)
class AuditReport:
    """What an audit checked and every difference it found (the first ``KEEP_FINDINGS``)."""

    events: int = 0
    lots: int = 0
    checkpoints: int = 0
    tiles: int = 0
    lineage_lots: int = 0
    seconds: float = 0.0
    tree_size: int = 0
    root: str = ""
    findings: list[Finding] = field(default_factory=list)
    total_findings: int = 0
    by_check: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.total_findings == 0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def add(self, check: str, table: str, key: str, message: str) -> None:
        self.total_findings += 1
        self.by_check[check] = self.by_check.get(check, 0) + 1
        if len(self.findings) < KEEP_FINDINGS:
            self.findings.append(Finding(check, table, key, message))

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "events_per_s": round(self.events_per_s),
            "seconds": round(self.seconds, 3),
            "lots": self.lots,
            "checkpoints": self.checkpoints,
            "tiles": self.tiles,
            "lineage_lots": self.lineage_lots,
            "tree_size": self.tree_size,
            "root": self.root,
            "differences": self.total_findings,
            "by_check": dict(sorted(self.by_check.items())),
            "findings": [asdict(f) for f in self.findings],
        }


def _event_key(seq: int, event_id: object) -> str:
    return f"seq {seq} ({event_id!r})" if event_id is not None else f"seq {seq}"


def _stream(conn: Connection, query: Any) -> Iterator[tuple[Any, ...]]:
    result = conn.execute(query.execution_options(stream_results=True, yield_per=CHUNK))
    for row in result:
        yield tuple(row)


def _first_difference(a: bytes, b: bytes) -> int:
    """Offset of the first byte where ``a`` and ``b`` differ (the shorter length if none)."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while hi - lo > 1:  # a[:lo] == b[:lo] and a[:hi] != b[:hi]; compare in C, not per byte
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if a[:mid] == b[:mid] else (lo, mid)
    return lo
