"""The ledger's tables (SQLAlchemy Core). Migrations under ``migrations/`` must match this file.

Only ``raretrace.ledger`` writes to these tables (the one write path); everything else reads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
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

#: Every accepted event, in log order. ``body`` is the RFC 8785 canonical JSON of the event;
#: ``salt`` the 32 random bytes of its log entry, SHA-256(salt || body) (docs/log.md, "Leaves";
#: added in 0008: NULL for the events of a log made before, whose entries are the bodies).
events = Table(
    "events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(200), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("time", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("salt", LargeBinary),
    # The participant events in order, read when a ledger opens (ledger.keylog; 0011).
    Index("ix_events_type_seq", "type", "seq"),
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
    Index("ix_participants_seq", "seq"),  # the registry's version (0006)
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
    Index("ix_facilities_seq", "seq"),  # the registry's version (0006)
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
    Index("ix_registry_records_seq", "seq"),  # the registry's version (0006)
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
    # A page of lots by key, in id order, per facility, form or status (0010).
    Index("ix_lots_facility_id", "facility", "id"),
    Index("ix_lots_form_id", "form", "id"),
    Index("ix_lots_status_id", "status", "id"),
    Index("ix_lots_custodian_id", "custodian", "id"),  # a participant's lots (0012)
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
    Index("ix_discrepancies_lot", "lot", "seq"),  # a lineage's discrepancies, lot by lot (0006)
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

# -- The analytics' aggregate cache (docs/analytics.md, "The aggregate cache"; added in 0007).
# Derived from the events alone, never a record: ``raretrace.store.aggregates`` is the only
# writer, any of it may be dropped and is rebuilt from the events, and the audit ignores it.
# ``grain`` is ``d`` (``bucket`` a day, YYYY-MM-DD) or ``m`` (a month, YYYY-MM); every sum is
# kept at both grains, so a period is whole months plus the days at its ends.


def _grained(name: str, *columns: Column[Any], value: tuple[Column[Any], ...]) -> Table:
    keys = (Column("grain", String(1), nullable=False),
            Column("bucket", String(10), nullable=False), *columns)  # fmt: skip
    return Table(name, metadata, *keys, *value, PrimaryKeyConstraint(*(c.name for c in keys)))


#: One row (``id`` 1): how far the fold has read the log (``size`` events, the checkpoint
#: ``root`` at that size), what it assumed (``basis``: the tolerance and each facility's
#: stages and country, JSON), and ``generation``, which every fold commit increments.
analytics_fold = Table(
    "analytics_fold",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("basis", Text, nullable=False),
    Column("first_time", String(32)),
    Column("last_time", String(32)),
    Column("unresolved", BigInteger, nullable=False),
)
#: The fold's state of every lot still active or in transit at ``size``: where it is, its
#: mass and the element kg at ``base_mass`` (JSON), and, in transit, where it goes (JSON).
analytics_lots = Table(
    "analytics_lots",
    metadata,
    Column("lot", String(200), primary_key=True),
    Column("stage", String(64), nullable=False),
    Column("country", String(2), nullable=False),
    Column("facility", String(200), nullable=False),
    Column("form", String(16), nullable=False),
    Column("mass_kg", Float, nullable=False),
    Column("base_mass_kg", Float, nullable=False),
    Column("elements", Text, nullable=False),
    Column("pending", Text),
)
#: kg of an element per (stage, country, facility) and measure (``engine.MEASURES``).
analytics_nodes = _grained(
    "analytics_nodes",
    Column("measure", String(16), nullable=False),
    Column("stage", String(64), nullable=False),
    Column("country", String(2), nullable=False),
    Column("facility", String(200), nullable=False),
    Column("element", String(8), nullable=False),
    value=(Column("kg", Float, nullable=False),),
)
#: kg of an element moved from one (stage, country, facility) to another (``ship`` or
#: ``transform``).
analytics_links = _grained(
    "analytics_links",
    Column("kind", String(16), nullable=False),
    Column("from_stage", String(64), nullable=False),
    Column("from_country", String(2), nullable=False),
    Column("from_facility", String(200), nullable=False),
    Column("to_stage", String(64), nullable=False),
    Column("to_country", String(2), nullable=False),
    Column("to_facility", String(200), nullable=False),
    Column("element", String(8), nullable=False),
    value=(Column("kg", Float, nullable=False),),
)
#: kg of an element in the outputs of a stage's events, by country (concentration).
analytics_outputs = _grained(
    "analytics_outputs",
    Column("element", String(8), nullable=False),
    Column("stage", String(64), nullable=False),
    Column("country", String(2), nullable=False),
    value=(Column("kg", Float, nullable=False),),
)
#: Receipts per route (origin → destination facility), counted when received.
analytics_routes = _grained(
    "analytics_routes",
    Column("origin", String(200), nullable=False),
    Column("destination", String(200), nullable=False),
    value=(
        Column("receipts", BigInteger, nullable=False),
        Column("discrepant", BigInteger, nullable=False),
        Column("shipped_kg", Float, nullable=False),
        Column("received_kg", Float, nullable=False),
        Column("discrepant_kg", Float, nullable=False),
    ),
)
#: Net kg of an element added to what a facility holds in a form (days of cover).
analytics_held = _grained(
    "analytics_held",
    Column("facility", String(200), nullable=False),
    Column("form", String(16), nullable=False),
    Column("element", String(8), nullable=False),
    value=(Column("kg", Float, nullable=False),),
)
#: Gross kg shipped from a facility (outflow against registered capacity).
analytics_shipped = _grained(
    "analytics_shipped",
    Column("facility", String(200), nullable=False),
    value=(Column("kg", Float, nullable=False),),
)

# -- The clearinghouse (docs/clearinghouse.md; added in 0009). Projections of the
# clearinghouse's events, written by the append path like the registry and compared by the
# audit with its replay: ``body`` is the case as its last event (``seq``) left it (JSON).

#: REE agreements submitted to the council, with their review state.
agreements = Table(
    "agreements",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("submitted_by", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("seq", BigInteger, ForeignKey("events.seq"), nullable=False),
    Index("ix_agreements_status", "status"),
)

#: Disputes between participants, with their statements and ruling.
disputes = Table(
    "disputes",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("opened_by", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("seq", BigInteger, ForeignKey("events.seq"), nullable=False),
    Index("ix_disputes_status", "status"),
)

#: Every clearinghouse step: which licence, agreement or dispute (``kind``, ``id``) the event
#: ``seq`` moved, for their histories.
case_steps = Table(
    "case_steps",
    metadata,
    Column("seq", BigInteger, ForeignKey("events.seq"), primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("id", String(200), nullable=False),
    Index("ix_case_steps_case", "kind", "id", "seq"),
)
