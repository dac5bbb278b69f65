"""The ledger's tables (SQLAlchemy Core). Migrations under ``migrations/`` must match this file.

Only ``raretrace.ledger`` writes to these tables (the one write path); everything else reads.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

#: Settings fixed when the ledger is created (tolerance, log origin, ...), and counters.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

#: Every accepted event, in log order. ``body`` is the RFC 8785 canonical JSON of the event.
events = Table(
    "events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(200), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("time", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("body", Text, nullable=False),
)

participants = Table(
    "participants",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", Text, nullable=False),
    Column("country", String(2), nullable=False),
    Column("seq", BigInteger, ForeignKey("events.seq"), nullable=False),
    #: The participant record as registered (JSON, with its keys); added in 0002.
    Column("body", Text),
)

#: ``body`` holds the facility record as registered (JSON); the columns are for queries.
facilities = Table(
    "facilities",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", Text, nullable=False),
    Column("operator", String(200), ForeignKey("participants.id"), nullable=False),
    Column("country", String(2), nullable=False),
    Column("stage", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("seq", BigInteger, ForeignKey("events.seq"), nullable=False),
)

#: Licences, accreditations and audits (``kind`` is the registry event type): ``body`` is the
#: record as registered (JSON), ``seq`` the registry event that set it; added in 0003.
registry_records = Table(
    "registry_records",
    metadata,
    Column("kind", String(16), nullable=False),
    Column("id", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("seq", BigInteger, ForeignKey("events.seq"), nullable=False),
    PrimaryKeyConstraint("kind", "id"),
)

#: The current state of every lot, with its materialized provenance (JSON).
lots = Table(
    "lots",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("form", String(16), nullable=False),
    Column("mass_kg", Float, nullable=False),
    Column("elements", Text, nullable=False),
    Column("custodian", String(200), nullable=False),
    Column("facility", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("time", String(32), nullable=False),
    Column("created_seq", BigInteger, nullable=False),
    Column("provenance", Text, nullable=False),
    Column("destination", String(200)),
    Column("consignee", String(200)),
    Column("shipped_seq", BigInteger),
    Index("ix_lots_facility", "facility"),
    Index("ix_lots_form", "form"),
)

#: Which events touched which lots, and how (created, consumed, shipped, received, adjusted).
lot_events = Table(
    "lot_events",
    metadata,
    Column("lot", String(200), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("role", String(16), nullable=False),
    Column("mass_kg", Float, nullable=False),
    PrimaryKeyConstraint("lot", "seq", "role"),
    Index("ix_lot_events_seq", "seq"),
)

#: Receipts whose measured mass differed from the shipped mass beyond tolerance.
discrepancies = Table(
    "discrepancies",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("lot", String(200), nullable=False),
    Column("origin", String(200), nullable=False),
    Column("destination", String(200), nullable=False),
    Column("shipped_kg", Float, nullable=False),
    Column("received_kg", Float, nullable=False),
    Column("ship_seq", BigInteger, nullable=False),
    Column("time", String(32), nullable=False),
)

#: Signed checkpoints of the Merkle log (C2SP tlog-checkpoint notes), one per committed batch;
#: witnesses' cosignatures are added to ``note`` as they arrive.
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("time", String(32), nullable=False),
)

#: Bearer tokens of the HTTP service (docs/service.md, `raretrace token`): only the SHA-256
#: of each token's secret is kept. Access control, not ledger facts: never logged, never
#: replayed by the audit, and written only by ``raretrace.service.tokens``; added in 0005.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("participant", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created", String(32), nullable=False),
    Column("expires", String(32)),
    Column("revoked", String(32)),
)
