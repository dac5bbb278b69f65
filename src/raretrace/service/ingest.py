"""Appending a stream of events, as ``raretrace ingest`` and ``POST /v1/events/batch`` do:
the append path plus the bookkeeping around it (where each rejection goes, how many were
shown, what an interrupted run kept).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raretrace.ledger import service as ledger_service
from raretrace.ledger.append import DEFAULT_BATCH, IngestReport, Ledger, Rejection, Source

__all__ = [
    "IngestInterrupted",
    "IngestOutcome",
    "IngestReport",
    "Rejection",
    "ingest",
    "rejection_json",
    "report_json",
]


def rejection_json(r: Rejection) -> dict[str, Any]:
    """One rejected line, as ``--rejects`` writes it and the batch endpoint answers it."""
    return {"line": r.line, "event_id": r.event_id, "rule": r.rule, "message": r.error.message}


def report_json(report: IngestReport) -> dict[str, Any]:
    """The totals of an ingest (the last line of a batch answer)."""
    return {
        "accepted": report.accepted,
        "rejected": report.rejected,
        "discrepancies": report.discrepancies,
        "already_present": report.duplicates,
        "checkpoint": report.checkpoint,
    }


class IngestInterrupted(Exception):
    """An ingest stopped by Ctrl-C: ``kept`` events were committed before it."""

    def __init__(self, kept: int) -> None:
        super().__init__(
            f"interrupted: {kept} events were committed before it and are in the ledger;"
            " nothing of the batch in progress was kept. Run the same command again to go on:"
            " events already in the ledger count as already present."
        )
        self.kept = kept


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What an ingest did, and how many rejections were passed to ``show`` or kept in the
    rejects file (``handed``) versus left unshown (``unshown``)."""

    report: IngestReport
    handed: int
    unshown: int


def ingest(
    db: str,
    lines: Iterable[tuple[int, str]],
    *,
    batch_size: int = DEFAULT_BATCH,
    rejects: Path | None = None,
    show: Callable[[Rejection], None] | None = None,
    show_limit: int = 20,
) -> IngestOutcome:
    """Append numbered JSON lines to the ledger in ``db``, a transaction per batch.

    Every rejection goes to the ``rejects`` file (JSON Lines, ``rejection_json``) when one is
    given, else the first ``show_limit`` go to ``show``. A KeyboardInterrupt becomes
    ``IngestInterrupted`` saying how many events the run committed (counted in the database:
    an interrupt can fall between a commit and its report).
    """
    ledger = ledger_service.open_ledger(db)
    rejects_fh = rejects.open("w", encoding="utf-8") if rejects else None
    handed = unshown = 0
    size_before = ledger.store.size()

    def drain(report: IngestReport) -> None:
        nonlocal handed, unshown
        for r in report.rejections:
            if rejects_fh:
                rejects_fh.write(json.dumps(rejection_json(r)) + "\n")
                handed += 1
            elif handed < show_limit:
                if show is not None:
                    show(r)
                handed += 1
            else:
                unshown += 1
        report.rejections.clear()

    try:
        report = ledger.ingest(lines, batch_size=batch_size, on_batch=drain)
    except KeyboardInterrupt:
        raise IngestInterrupted(ledger.store.size() - size_before) from None
    finally:
        ledger.close()
        if rejects_fh:
            rejects_fh.close()
    return IngestOutcome(report, handed, unshown)


def append_source(ledger: Ledger, source: Source, *, batch_size: int) -> IngestReport:
    """Apply ``source`` on an open ledger (the HTTP service keeps its ledger open)."""
    return ledger.ingest(source, batch_size=batch_size)
