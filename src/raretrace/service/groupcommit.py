"""Group commit: submissions that arrive while the append path is busy share its next
transaction, so many writers pay for one commit, one log flush and one signed checkpoint.

One writer thread per service process takes every submission waiting in its queue (at most
``GROUP_LIMIT``), applies them as one batch through the one write path
(``Ledger.ingest``, in arrival order, exactly as ``raretrace ingest`` applies a batch), and
answers each caller for its own event once the transaction has committed: accepted with its
sequence number, or the rule it broke. A rejected event changes nothing and does not affect
the others (the append path rejects events one by one inside a batch); an event answered
accepted is durable, because the answer is given only after the commit. Nothing waits on a
timer: while one batch commits, the next one gathers, so a lone client pays one commit per
event and many clients share them (the PostgreSQL and InnoDB "group commit").
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from raretrace.domain.errors import ValidationError
from raretrace.ledger.append import IngestReport, Rejection
from raretrace.log.checkpoint import parse_checkpoint
from raretrace.log.note import parse_note_unverified

#: The most submissions one transaction takes (a batch the append path handles in ~50 ms).
GROUP_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Appended:
    """One submitted event's answer: its sequence number, and whether this submission added
    it (``replay`` False) or found it already in the ledger (a retry: ``replay`` True)."""

    seq: int
    replay: bool


@dataclass(slots=True)
class _Ticket:
    """One caller's submission, waiting for its answer."""

    event: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    answer: Appended | None = None
    error: BaseException | None = None


#: Applies numbered events as one batch (one transaction) and returns its report.
ApplyBatch = Callable[[list[tuple[int, dict[str, Any]]]], IngestReport]
#: The sequence numbers of event ids, read after the batch committed.
FindSeqs = Callable[[list[str]], dict[str, int]]


class GroupCommit:
    """A writer thread that applies waiting submissions together (``submit`` blocks until
    the caller's own event is answered)."""

    def __init__(self, apply: ApplyBatch, seqs: FindSeqs, *, limit: int = GROUP_LIMIT) -> None:
        self._apply, self._seqs, self._limit = apply, seqs, limit
        self._queue: queue.SimpleQueue[_Ticket | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, event: dict[str, Any]) -> Appended:
        """Append ``event`` with whatever else is waiting; its answer, or its rejection
        (the ValidationError the append path gave it) raised."""
        ticket = _Ticket(event)
        self._running()
        self._queue.put(ticket)
        ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.answer is not None
        return ticket.answer

    def waiting(self) -> int:
        """How many submissions wait for the next transaction (for tests and metrics)."""
        return self._queue.qsize()

    def close(self) -> None:
        """Answer everything queued, then stop the writer thread."""
        with self._start:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _running(self) -> None:
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="raretrace-group-commit", daemon=True
                )
                self._thread.start()

    def _serve(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < self._limit:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
            self._commit(group)

    def _commit(self, group: list[_Ticket]) -> None:
        try:
            report = self._apply([(n, t.event) for n, t in enumerate(group, start=1)])
            answers = _answers(group, report, self._seqs)
        except BaseException as exc:  # every caller of the batch gets its failure
            for ticket in group:
                ticket.error = exc
                ticket.done.set()
            return
        for ticket, answer in zip(group, answers, strict=True):
            if isinstance(answer, Appended):
                ticket.answer = answer
            else:
                ticket.error = answer
            ticket.done.set()


def _answers(
    group: list[_Ticket], report: IngestReport, seqs: FindSeqs
) -> list[Appended | BaseException]:
    """Each ticket's answer from the batch's report: its rejection, or its seq and whether it
    was new. The batch's new events are the last ``accepted`` leaves of its checkpoint; of
    several submissions of one new event, the first that was not rejected added it."""
    rejected: dict[int, Rejection] = {r.line: r for r in report.rejections}
    ids = [str(t.event["id"]) for n, t in enumerate(group, 1) if n not in rejected]
    found = seqs(ids) if ids else {}
    first_new = _first_new_seq(report)
    added: set[str] = set()
    out: list[Appended | BaseException] = []
    for number, ticket in enumerate(group, start=1):
        if number in rejected:
            out.append(rejected[number].error)
            continue
        event_id = str(ticket.event["id"])
        seq = found.get(event_id)
        if seq is None:  # pragma: no cover - accepted events are committed before this
            out.append(ValidationError("format", f"event {event_id!r}", "was not stored"))
            continue
        new = first_new is not None and seq >= first_new and event_id not in added
        if new:
            added.add(event_id)
        out.append(Appended(seq, replay=not new))
    return out


def _first_new_seq(report: IngestReport) -> int | None:
    """The first sequence number the batch appended (None if it appended nothing)."""
    if not report.accepted or report.checkpoint is None:
        return None
    size = parse_checkpoint(parse_note_unverified(report.checkpoint).text).size
    return size - report.accepted
