"""Events and registry records submitted through the HTTP service.

A token lets a participant in; it does not sign for it. Every event must carry its actor's
own signature (checked by the append path, as for ``raretrace ingest``), and its actor must
be the token's participant. The service holds no participant's private key: the only key it
uses is the registry authority's, for the registry records the council loads.

One ``Submitter`` per process keeps one append path open (``Ledger``) and lets one batch
write at a time; single submissions that arrive together share a transaction (group commit,
``groupcommit.py``). Across processes and CLI ingests the ledger's writer lock orders the
writes (``ledger.append.writer_transaction``: ``BEGIN IMMEDIATE`` on SQLite, an advisory lock
on PostgreSQL), and each batch re-reads whatever another writer changed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from raretrace.domain import jsontext
from raretrace.domain.errors import ValidationError
from raretrace.domain.keys import sign_event
from raretrace.ledger import service as ledger_service
from raretrace.ledger.append import IngestReport, Ledger, Rejection
from raretrace.ledger.signatures import SignatureChecker
from raretrace.service.access import Forbidden, Principal
from raretrace.service.groupcommit import GroupCommit
from raretrace.service.ingest import rejection_json, report_json
from raretrace.store import schema
from raretrace.store.store import Store

#: Events a batch request applies per transaction.
BATCH = 500
_ID_CHUNK = 900  # under every backend's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Accepted:
    """The answer to one submitted event: its id and sequence number (the same on a retry
    of the same event, which changes nothing: ``replay`` tells the two apart)."""

    event_id: str
    seq: int
    replay: bool

    def to_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "seq": self.seq, "status": "accepted"}


def _actor_error(event_id: object, actor: object, principal: Principal) -> Forbidden:
    return Forbidden(
        "actor-not-token",
        f"event {event_id!r} has actor {actor!r}, but this token acts for"
        f" {principal.participant!r}; submit each participant's events with its own token",
    )


def check_actor(event: object, principal: Principal) -> dict[str, Any]:
    """The event as an object, Forbidden unless its actor is the token's participant."""
    if not isinstance(event, dict):
        raise ValidationError("format", "request", "the body must be one JSON object (an event)")
    if event.get("actor") != principal.participant:
        raise _actor_error(event.get("id"), event.get("actor"), principal)
    return event


class Submitter:
    """The append path of one service process (thread-safe: one request writes at a time)."""

    def __init__(self, db: str) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._ledger: Ledger | None = None
        self._group = GroupCommit(self._apply_group, self._seqs)

    def _open(self) -> Ledger:
        if self._ledger is None:
            # Signatures are checked in this process: a server's threads must not fork.
            self._ledger = ledger_service.open_ledger(self.db, checker=SignatureChecker(1))
        return self._ledger

    def write_store(self) -> Store:
        """The store this process writes through (for writers outside the append path that
        take the writer lock themselves, such as recording a witness's cosignature)."""
        with self._lock:
            return self._open().store

    def close(self) -> None:
        self._group.close()
        with self._lock:
            if self._ledger is not None:
                self._ledger.close()
                self._ledger = None

    def submit(self, event: dict[str, Any], principal: Principal) -> Accepted:
        """Append one signed event whose actor is ``principal``'s participant; the rule it
        broke (ValidationError), or its sequence number once it is committed. Idempotent:
        the same event again answers the same, and appends nothing. Submissions arriving
        while another transaction commits share the next one (``GroupCommit``)."""
        check_actor(event, principal)
        done = self._group.submit(event)
        return Accepted(str(event["id"]), done.seq, replay=done.replay)

    def _apply_group(self, events: list[tuple[int, dict[str, Any]]]) -> IngestReport:
        with self._lock:
            return self._open().ingest(events, batch_size=len(events))

    def _seqs(self, ids: list[str]) -> dict[str, int]:
        e = schema.events
        with self._lock:
            engine = self._open().store.engine
        found: dict[str, int] = {}
        with engine.connect() as conn:
            for i in range(0, len(ids), _ID_CHUNK):
                query = select(e.c.id, e.c.seq).where(e.c.id.in_(ids[i : i + _ID_CHUNK]))
                found.update({row.id: int(row.seq) for row in conn.execute(query)})
        return found

    def submit_lines(
        self, lines: Iterable[tuple[int, bytes]], principal: Principal
    ) -> Iterator[dict[str, Any]]:
        """Append a JSON Lines batch, answering like ``raretrace ingest``: one object per
        rejected line (``rejection_json``) as each transaction commits, then the totals.
        Lines whose actor is not the token's participant are rejected, never applied."""
        total = IngestReport()
        chunk: list[tuple[int, str]] = []
        for number, raw in lines:
            text = raw.decode("utf-8", errors="replace")
            refused = self._foreign(number, text, principal)
            if refused is not None:
                total.rejected += 1
                yield rejection_json(refused)
                continue
            chunk.append((number, text))
            if len(chunk) >= BATCH:
                yield from self._apply(chunk, total)
                chunk = []
        if chunk:
            yield from self._apply(chunk, total)
        yield {"summary": report_json(total)}

    @staticmethod
    def _foreign(number: int, text: str, principal: Principal) -> Rejection | None:
        try:
            obj = jsontext.loads(text)
        except jsontext.DecodeError:
            return None  # the append path refuses it under `format`, naming the problem
        if isinstance(obj, dict) and obj.get("actor") != principal.participant:
            event_id = obj.get("id") if isinstance(obj.get("id"), str) else None
            return Rejection(number, event_id, _as_validation(obj, principal))
        return None

    def _apply(self, chunk: list[tuple[int, str]], total: IngestReport) -> Iterator[dict[str, Any]]:
        with self._lock:
            report = self._open().ingest(chunk, batch_size=len(chunk))
        total.add(report)
        yield from (rejection_json(r) for r in report.rejections)
        total.rejections.clear()

    def submit_council(self, event: dict[str, Any]) -> Accepted:
        """Sign ``event`` (actor ``registry``) with the registry authority's key and append
        it: the council's clearinghouse decisions (docs/clearinghouse.md)."""
        with self._lock:
            signer = ledger_service.registry_signer(self._open())
        done = self._group.submit(sign_event(event, signer.private_key, signer.kid))
        return Accepted(str(event["id"]), done.seq, replay=done.replay)

    def load_registry(self, doc: object) -> IngestReport:
        """Load a registry document (participants, facilities, licences, …) as the registry
        authority; ValidationError naming the first bad record, nothing applied."""
        with self._lock:
            ledger = self._open()
            signer = ledger_service.registry_signer(ledger)
            events = ledger_service.registry_events(doc, ledger.registry, signer=signer)
            report = ledger.ingest(enumerate(events, start=1))
        if report.rejections:
            raise report.rejections[0].error
        return report


def _as_validation(obj: dict[str, Any], principal: Principal) -> ValidationError:
    return ValidationError(
        "actor-not-token",
        f"event {obj.get('id')!r}",
        f"its actor is {obj.get('actor')!r}, but this token acts for"
        f" {principal.participant!r}; submit each participant's events with its own token",
    )
