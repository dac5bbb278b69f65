"""``raretrace audit``: signature and canonical-form checks, in worker processes."""

from __future__ import annotations

import base64
import binascii
import multiprocessing
import os
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy import Connection, select

from raretrace.domain import jsontext
from raretrace.domain.canonical import decode_canonical
from raretrace.domain.errors import ValidationError
from raretrace.domain.events import RegistryEvent, parse_event
from raretrace.domain.keys import KeyHistory, LoggedKey, check_signature, public_key
from raretrace.domain.model import REGISTRY_ACTOR
from raretrace.domain.registry import parse_participant
from raretrace.ledger.settings import LedgerSettings
from raretrace.store import schema

#: A worker's verdict on one event: None when fine, else (check, message).
Verdict = tuple[str, str] | None
#: Keys of (owner, kid), from a history, for the quick route.
_Index = Mapping[tuple[str, str], tuple[LoggedKey, ...]]


# --- signatures and canonical form, in worker processes ----------------------------------------


def _fast_signature_ok(
    raw: dict[str, Any], signed: bytes | None, index: _Index, position: int
) -> bool:
    """True when the event verifies by the quick route; False means "ask check_signature"."""
    sig = raw.get("sig")
    if type(sig) is not dict or sig.get("alg") != "Ed25519":
        return False
    spans = index.get((raw.get("actor"), sig.get("kid")), ())  # type: ignore[arg-type]
    key = next((k for k in spans if k.signs_at(position)), None)
    value = sig.get("value")
    if key is None or type(value) is not str or signed is None:
        return False
    try:
        signature = base64.b64decode(value, validate=True)
        if len(signature) != 64:
            return False
        public_key(key.key.public_key).verify(signature, signed)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _check_one(
    body: str, position: int, keys: KeyHistory, index: _Index, required: bool
) -> Verdict:
    try:
        raw, leaf, signed = decode_canonical(body, "sig")
    except (ValueError, ValidationError):
        return None  # the replay reports it with the parser's message
    if type(raw) is not dict:
        return None
    if leaf != body.encode("utf-8"):
        return ("canonical", "body is not RFC 8785 canonical JSON (re-canonicalising changes it)")
    if (not required and "sig" not in raw) or _fast_signature_ok(raw, signed, index, position):
        return None
    try:  # the exact verdict and message, at the event's log position
        check_signature(raw, keys, position=position)
    except ValidationError as exc:
        return ("signature", exc.message)
    return None


def _check_part(rows: Sequence[tuple[int, str]], keys: KeyHistory, required: bool) -> list[Verdict]:
    """Verdicts for ``rows`` (seq, body), each judged at its own log position."""
    index: dict[tuple[str, str], tuple[LoggedKey, ...]] = {}
    for owner, spans in keys.by_owner.items():
        for span in spans:
            index[(owner, span.key.kid)] = (*index.get((owner, span.key.kid), ()), span)
    return [_check_one(body, seq, keys, index, required) for seq, body in rows]


class _Verifier:
    """Submits chunks of events to worker processes, with every key's log positions.

    The key history is read from the participant records before the replay
    (``read_keys``): each event is judged at its own log position (``seq``) against the
    whole history, so a key signs the events after the record that registered it and before
    the one that revoked it, whatever they claim, and an event placed before its key's
    registration is named as such. (Records after an event can only end keys after it, so
    reading them first changes no verdict, only the message.)
    """

    def __init__(self, settings: LedgerSettings, workers: int | None) -> None:
        self.required = settings.require_signatures
        self.history = KeyHistory().anchored(REGISTRY_ACTOR, settings.registry_keys)
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        if self.workers > 1:
            # Started before any database connection is opened, so no worker inherits one.
            method = "fork" if sys.platform.startswith("linux") else "spawn"
            context = multiprocessing.get_context(method)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
            for done in [self._pool.submit(int) for _ in range(self.workers)]:
                done.result()

    def read_keys(self, conn: Connection) -> None:
        """Every participant key with its log positions, from the stored participant events
        in log order (one that does not parse is reported by the replay, and skipped here)."""
        e = schema.events
        query = select(e.c.seq, e.c.body).where(e.c.type == "participant").order_by(e.c.seq)
        for seq, body in conn.execute(query):
            try:
                event = parse_event(jsontext.loads(body))
                if not isinstance(event, RegistryEvent) or event.type != "participant":
                    continue
                record = parse_participant(event.record)
            except (ValueError, ValidationError):
                continue
            self.history = self.history.recorded(record.id, record.keys, seq)

    def submit(self, rows: list[tuple[int, str]]) -> list[Future[list[Verdict]]]:
        """Start checking ``rows`` (seq, body)."""
        if self._pool is None:
            done: Future[list[Verdict]] = Future()
            done.set_result(_check_part(rows, self.history, self.required))
            return [done]
        step = -(-len(rows) // self.workers)
        return [
            self._pool.submit(_check_part, rows[a : a + step], self.history, self.required)
            for a in range(0, len(rows), step)
        ]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
