"""Participants' keys with their log positions, read from the registry events in the store.

A key may sign the events appended after the registry event that registered it and before
the one that revoked it (``domain.keys.KeyHistory``). Those positions are the ``seq`` (leaf
index) of the participant events themselves, so nothing beyond the events table is kept:
the history is read once when a ledger opens (the participant events only, a few hundred in
a large ledger) and then only the events another writer appended since.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, select

from raretrace.domain.keys import KeyHistory
from raretrace.domain.model import REGISTRY_ACTOR
from raretrace.domain.registry import parse_participant
from raretrace.ledger.settings import LedgerSettings
from raretrace.store import schema


class KeyLog:
    """The key history of one ledger as far as it has been read (``size`` events)."""

    def __init__(self, settings: LedgerSettings) -> None:
        self.history = KeyHistory().anchored(REGISTRY_ACTOR, settings.registry_keys)
        self.size = 0

    def read(self, conn: Connection, size: int) -> KeyHistory:
        """The history of the first ``size`` events, reading only the events past the ones
        read before (all of them again if ``size`` is smaller: a rolled-back view)."""
        if size < self.size:
            self.history, self.size = KeyLog._fresh(self.history), 0
        events = schema.events
        query = (
            select(events.c.seq, events.c.body)
            .where(events.c.type == "participant", events.c.seq >= self.size, events.c.seq < size)
            .order_by(events.c.seq)
        )
        for seq, body in conn.execute(query):
            record = parse_participant(json.loads(body)["participant"])
            self.history = self.history.recorded(record.id, record.keys, seq)
        self.size = size
        return self.history

    def caught_up(self, history: KeyHistory, size: int) -> None:
        """Take the history a committed batch left (it covers ``size`` events)."""
        self.history, self.size = history, size

    @staticmethod
    def _fresh(history: KeyHistory) -> KeyHistory:
        anchors = history.by_owner.get(REGISTRY_ACTOR, ())
        return KeyHistory().anchored(REGISTRY_ACTOR, (k.key for k in anchors))
