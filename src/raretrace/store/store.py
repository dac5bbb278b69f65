"""Reading the ledger, and creating or upgrading its database.

Writes happen only in ``raretrace.ledger.append`` (the one write path).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, RowMapping, Select, bindparam, cast, func, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.sql.elements import BindParameter

from raretrace.domain.errors import ConfigError, NotFound
from raretrace.domain.model import Lot, display_time
from raretrace.domain.registry import Registry, parse_facility, parse_participant, parse_record
from raretrace.domain.rules import Discrepancy
from raretrace.store import schema
from raretrace.store.cases import load_cases
from raretrace.store.engine import Access, open_engine, unusable_database
from raretrace.store.rows import lot_from_row

_ID_CHUNK = 900  # stays under every backend's bound-parameter limit
#: Accreditations before licences and audits: whether an audit counts depends on them, and
#: parse order is record order when one file holds all three.
_RECORD_ORDER = ("accreditation", "licence", "audit")
_AFTER_ALL = 2**62  # a sequence number after every event: a lot's lineage up to now
# Built once: a fresh ``in_(list)`` per call leaves a reference cycle (SQLAlchemy's bind
# parameter and its value list) that only the cycle collector frees, which the append path
# runs rarely.
_IDS: BindParameter[str] = bindparam("ids", expanding=True)
_LOTS_BY_ID = select(schema.lots).where(schema.lots.c.id.in_(_IDS))
_LOT_BY_ID = select(schema.lots).where(schema.lots.c.id == bindparam("lot"))
_BODIES_BY_ID = select(schema.events.c.id, schema.events.c.body).where(schema.events.c.id.in_(_IDS))


_REGISTRY_VERSION = select(
    *(
        select(func.max(t.c.seq)).scalar_subquery()
        for t in (schema.participants, schema.facilities, schema.registry_records)
    )
)


@dataclass(frozen=True, slots=True)
class RegistryVersion:
    """Where the registry stands: the last event that set a record of each table."""

    participants: int
    facilities: int
    records: int


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "raretrace.store:migrations")
    cfg.attributes["connection"] = conn
    return cfg


@dataclass(frozen=True, slots=True)
class DiscrepancyRow(Discrepancy):
    """A stored discrepancy with the receive event that recorded it (``seq``, ``event_id``)."""

    seq: int
    event_id: str

    def to_json(self) -> dict[str, Any]:
        """As ``raretrace discrepancies --json`` and ``trace --json`` print it: masses to the
        milligram, like every mass in a trace."""
        return {
            "event_id": self.event_id,
            "lot": self.lot,
            "from": self.origin,
            "to": self.destination,
            "shipped_kg": _mg(self.shipped_kg),
            "received_kg": _mg(self.received_kg),
            "delta_kg": _mg(self.delta_kg),
            "time": display_time(self.time),
        }


def _mg(kg: float) -> float:
    return round(kg, 6) + 0.0  # + 0.0 turns -0.0 into 0.0


class Store:
    """A ledger database: its engine, schema version and read queries."""

    def __init__(self, engine: Engine, *, url: str) -> None:
        self.engine = engine
        self.url = url
        #: The parsed registry and the version it was read at (``registry``).
        self._registry: tuple[RegistryVersion, Registry] | None = None

    @classmethod
    def open(cls, db: str, *, access: Access = "create") -> Store:
        """Open ``db`` (file path or URL) without creating any table.

        ``access="read"`` never writes and never creates a file; ``"write"`` needs an existing
        ledger; ``"create"`` (the default, for ``raretrace init``) may create a SQLite file.
        """
        return cls(open_engine(db, access=access), url=db)

    def close(self) -> None:
        self.engine.dispose()

    # -- schema -----------------------------------------------------------------------------
    def upgrade(self) -> None:
        """Create the tables, or bring an older database to the current schema."""
        with self.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def require_ready(self) -> None:
        """Raise ConfigError unless the database holds an initialised, current ledger."""
        try:
            current = self.schema_revision()
        except (OperationalError, ProgrammingError) as exc:
            raise ConfigError(unusable_database(self.url, exc)) from None
        if current is None:
            raise ConfigError(f"{self.url!r} holds no raretrace ledger; run `raretrace init` first")
        with self.engine.begin() as conn:
            head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
        if current != head:
            raise ConfigError(
                f"{self.url!r} is at schema {current}, this raretrace needs {head};"
                " run `raretrace init` to upgrade it"
            )

    # -- settings ---------------------------------------------------------------------------
    def meta(self, conn: Connection | None = None) -> dict[str, str]:
        if conn is None:
            with self.engine.connect() as c:
                return self.meta(c)
        return {r.key: r.value for r in conn.execute(select(schema.meta))}

    # -- registry ---------------------------------------------------------------------------
    def registry(self, conn: Connection | None = None) -> Registry:
        """The registry as the ledger knows it now (a copy the caller may change).

        Without ``conn``, the parsed registry is kept on this Store and re-read only when
        ``registry_version`` changes: a long-running process (the HTTP service) parses it once
        per registry change instead of once per request. With ``conn`` it is read in that
        transaction (the append path reads under its writer lock).
        """
        if conn is not None:
            return self._read_registry(conn)
        with self.engine.connect() as c:
            return self.kept_registry(c).copy()

    def kept_registry(self, conn: Connection) -> Registry:
        """The registry kept on this Store, checked against its version on ``conn`` (read
        again first if it changed): what a reader of one request uses on that request's one
        connection. Shared between callers: read it, never change it (``registry()`` gives a
        copy to change). Not for the append path, whose uncommitted registry events must not
        be kept."""
        # The version before the records: a change between the two is read with the older
        # version, so the next call reads again; never a stale registry kept.
        version = self.registry_version(conn)
        kept = self._registry
        if kept is None or kept[0] != version:
            kept = self._registry = (version, self._read_registry(conn))
        return kept[1]

    @staticmethod
    def registry_version(conn: Connection) -> RegistryVersion:
        """The newest registry event that set a participant, facility or other record (each
        table's largest ``seq``, one indexed look-up each). Records are only ever inserted or
        updated by a later event, never deleted, so any registry change raises it."""
        row = conn.execute(_REGISTRY_VERSION).one()
        return RegistryVersion(*(-1 if v is None else int(v) for v in row))

    @staticmethod
    def _read_registry(conn: Connection) -> Registry:
        reg = Registry()
        for row in conn.execute(select(schema.participants)):
            doc = json.loads(row.body) if row.body else {"id": row.id, "name": row.name}
            reg.add(parse_participant({**doc, "country": row.country}))
        for row in conn.execute(select(schema.facilities.c.body)):
            reg.add(parse_facility(json.loads(row.body), reg.participants))
        table = schema.registry_records
        records = conn.execute(select(table.c.kind, table.c.body))
        for kind, body in sorted(records, key=lambda r: _RECORD_ORDER.index(r.kind)):
            reg.add(parse_record(kind, json.loads(body), reg))
        load_cases(conn, reg)  # the clearinghouse's agreements and disputes
        return reg

    # -- lots -------------------------------------------------------------------------------
    def lots_by_id(self, conn: Connection, ids: Iterable[str]) -> dict[str, tuple[Lot, str]]:
        """The current state of each of ``ids`` that exists, with its stored provenance JSON."""
        wanted = list(ids)
        found: dict[str, tuple[Lot, str]] = {}
        for i in range(0, len(wanted), _ID_CHUNK):
            chunk = wanted[i : i + _ID_CHUNK]
            for row in conn.execute(_LOTS_BY_ID, {"ids": chunk}).mappings():
                found[row["id"]] = (lot_from_row(row), row["provenance"])
        return found

    def lot(self, lot_id: str) -> Lot:
        """One lot, or NotFound with a hint."""
        with self.engine.connect() as conn:
            first = self.lot_row(conn, lot_id)
        if first is None:
            raise NotFound(f"lot {lot_id!r} is not in the ledger; list lots with `raretrace lots`")
        return lot_from_row(first)

    @staticmethod
    def lot_row(conn: Connection, lot_id: str) -> RowMapping | None:
        """A lot's stored row as it is (``rows.lot_from_row`` reads it), or None."""
        return conn.execute(_LOT_BY_ID, {"lot": lot_id}).mappings().first()

    def lots(
        self,
        *,
        facility: str | None = None,
        form: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> Iterator[Lot]:
        """Lots matching the filters, in id order."""
        query = select(schema.lots).order_by(schema.lots.c.id)
        if facility:
            query = query.where(schema.lots.c.facility == facility)
        if form:
            query = query.where(schema.lots.c.form == form)
        if status:
            query = query.where(schema.lots.c.status == status)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                yield lot_from_row(row)

    def count_lots(
        self, *, facility: str | None = None, form: str | None = None, status: str | None = None
    ) -> int:
        """How many lots ``lots`` lists with these filters and no limit."""
        query = select(func.count()).select_from(schema.lots)
        for column, value in (("facility", facility), ("form", form), ("status", status)):
            if value:
                query = query.where(schema.lots.c[column] == value)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    # -- events -----------------------------------------------------------------------------
    def event_bodies(self, conn: Connection, ids: Iterable[str]) -> dict[str, str]:
        """Canonical bodies of already-accepted events among ``ids``."""
        wanted = list(ids)
        found: dict[str, str] = {}
        for i in range(0, len(wanted), _ID_CHUNK):
            chunk = wanted[i : i + _ID_CHUNK]
            found.update({r.id: r.body for r in conn.execute(_BODIES_BY_ID, {"ids": chunk})})
        return found

    def size(self, conn: Connection | None = None) -> int:
        """How many events the ledger holds (the next event's sequence number)."""
        if conn is None:
            with self.engine.connect() as c:
                return self.size(c)
        value = conn.execute(select(func.max(schema.events.c.seq))).scalar()
        return 0 if value is None else int(value) + 1

    def counts(self) -> dict[str, Any]:
        """Totals for summaries: events by type, lots by status, discrepancies."""
        with self.engine.connect() as conn:
            by_type: dict[str, int] = dict(
                conn.execute(
                    select(schema.events.c.type, func.count()).group_by(schema.events.c.type)
                ).all()
            )
            by_status: dict[str, int] = dict(
                conn.execute(
                    select(schema.lots.c.status, func.count()).group_by(schema.lots.c.status)
                ).all()
            )
            disc = conn.execute(select(func.count()).select_from(schema.discrepancies)).scalar()
        return {"events": by_type, "lots": by_status, "discrepancies": int(disc or 0)}

    def discrepancies(self, *, limit: int | None = None) -> list[DiscrepancyRow]:
        """Receipts that differed from their shipments beyond tolerance, in log order."""
        d, e = schema.discrepancies, schema.events
        query = select(d, e.c.id.label("event_id")).join(e, e.c.seq == d.c.seq).order_by(d.c.seq)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [DiscrepancyRow(**r._asdict()) for r in conn.execute(query)]

    def lineage_discrepancies(
        self, lot_id: str, conn: Connection | None = None
    ) -> list[DiscrepancyRow]:
        """The discrepancies in a lot's lineage, in log order: receipts of the lot itself and,
        recursively, of every input of the transform that created it, before that transform
        (the events ``raretrace.domain.lineage`` walks).

        One recursive query that walks up the lineage first (``lot_events`` by lot, then by
        the creating event's seq) and then looks each lot's discrepancies up by its index
        (``ix_discrepancies_lot``): the cost follows the lineage, not the ledger's size.
        """
        if conn is None:
            with self.engine.connect() as c:
                return self.lineage_discrepancies(lot_id, c)
        rows = conn.execute(_LINEAGE_DISCREPANCIES, {"lot": lot_id, "after_all": _AFTER_ALL})
        return [DiscrepancyRow(**r._asdict()) for r in rows]


def _lineage_discrepancies_query() -> Select[Any]:
    d, e, le = schema.discrepancies, schema.events, schema.lot_events
    created, consumed = le.alias("created"), le.alias("consumed")
    start = select(
        cast(bindparam("lot"), le.c.lot.type).label("lot"),
        cast(bindparam("after_all"), le.c.seq.type).label("cutoff"),
    ).cte("lineage", recursive=True)
    inputs = (
        select(consumed.c.lot, created.c.seq)
        .select_from(start)
        .join(created, (created.c.lot == start.c.lot) & (created.c.role == "created"))
        .join(consumed, (consumed.c.seq == created.c.seq) & (consumed.c.role == "consumed"))
    )
    walk = start.union(inputs)
    # A lot reached along several paths counts up to its latest cutoff.
    reach = (
        select(walk.c.lot, func.max(walk.c.cutoff).label("cutoff"))
        .group_by(walk.c.lot)
        .subquery("reach")
    )
    return (
        select(d, e.c.id.label("event_id"))
        .select_from(reach)
        .join(d, (d.c.lot == reach.c.lot) & (d.c.seq < reach.c.cutoff))
        .join(e, e.c.seq == d.c.seq)
        .order_by(d.c.seq)
    )


_LINEAGE_DISCREPANCIES = _lineage_discrepancies_query()
