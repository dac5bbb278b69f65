"""A ledger made by raretrace before salted leaf commitments (schema 0005, its log's entries the
events in clear), for the tests of ``raretrace log migrate``.

``fixtures/legacy_ledger/ledger.json.gz`` is a signed demo ledger the old code wrote (its
``make_legacy_ledger.py`` says how), dumped table by table with its log directory; ``load_legacy``
puts it into any database (SQLite or PostgreSQL) at that schema and the log directory back on
disk, as the old code left them.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, insert

from raretrace.store import schema
from raretrace.store.store import Store

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "legacy_ledger" / "ledger.json.gz"
OLD_ORIGIN = "legacy.example/rare-earths"
#: Tables in an order their foreign keys accept.
ORDER = ("meta", "events", "participants", "facilities", "registry_records", "lots",
         "lot_events", "discrepancies", "checkpoints", "api_tokens")  # fmt: skip


def migration_config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", "raretrace.store:migrations")
    config.attributes["connection"] = conn
    return config


def at_log_dir(row: dict[str, Any], log_dir: Path) -> dict[str, Any]:
    return row | {"value": str(log_dir)} if row["key"] == "log_dir" else row


def load_legacy(db: str, log_dir: Path) -> dict[str, Any]:
    """The fixture as the old code left it: a database at its schema, and its log directory."""
    doc: dict[str, Any] = json.loads(gzip.decompress(FIXTURE.read_bytes()))
    store = Store.open(db)
    try:
        with store.engine.begin() as conn:
            command.upgrade(migration_config(conn), doc["revision"])
            for name in ORDER:
                rows = doc["tables"][name]
                if name == "meta":
                    rows = [at_log_dir(r, log_dir) for r in rows]
                if rows:
                    conn.execute(insert(schema.metadata.tables[name]), rows)
    finally:
        store.close()
    for relative, data in doc["log_files"].items():
        path = log_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        if path.suffix == ".key":
            path.chmod(0o600)
    return doc
