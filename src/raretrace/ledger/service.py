"""What the CLI (and later the API) calls: one function per user-facing operation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from raretrace.domain.canonical import canonical_json
from raretrace.domain.errors import ConfigError, NotFound, ValidationError
from raretrace.domain.keys import parse_key, sign_event
from raretrace.domain.model import REGISTRY_ACTOR, Tolerance, normalize_time
from raretrace.domain.registry import Registry, parse_registry_document
from raretrace.domain.views import lot_view
from raretrace.ledger import loghome
from raretrace.ledger.append import IngestReport, Ledger
from raretrace.ledger.keyfiles import (
    KeyFile,
    checked_id,
    new_key,
    read_key_file,
    write_key_file,
)
from raretrace.ledger.logdir import check_directory, new_ledger_id
from raretrace.ledger.settings import LedgerSettings
from raretrace.ledger.signatures import SignatureChecker
from raretrace.ledger.transparency import LogSettings, create_log
from raretrace.store import schema
from raretrace.store.rows import registry_record_json
from raretrace.store.store import Store

REGISTRY_KEY_FILE = "registry.key"


def default_log_dir(db: str) -> Path:
    """Where the log lives unless ``--log-dir`` says otherwise: beside a SQLite file."""
    if "://" in db:
        return Path("raretrace-log").resolve()
    path = Path(db).expanduser().resolve()
    return path.with_name(path.stem + "-log")


def init_ledger(
    db: str,
    *,
    tolerance: Tolerance | None = None,
    require_signatures: bool = True,
    log_dir: Path | None = None,
    log_origin: str | None = None,
) -> Store:
    """Create (or upgrade) the ledger in ``db``.

    A new ledger gets its settings for good: tolerance, signature policy, and a Merkle log
    (tiles directory, log signing key, origin line) with a registry authority key beside it.
    Settings of an existing ledger cannot change; asking for different ones is an error,
    except the log directory of a copy (``loghome.py``: ``--log-dir`` gives a copied ledger a
    log of its own, or makes a database that replaces the original the log's owner).
    """
    if log_origin is not None:  # checked before anything is created
        checked_id(log_origin, "--log-origin")
    loghome.check_free_for_new_ledger(db, log_dir or default_log_dir(db))
    store = Store.open(db)
    store.upgrade()
    created = None
    with store.engine.begin() as conn:
        existing = store.meta(conn)
        if "log_dir" not in existing:
            settings = _new_settings(db, tolerance, require_signatures, log_dir, log_origin)
            created = settings = replace(settings, ledger_id=new_ledger_id())
            rows = {**settings.to_meta(), "created": datetime.now(UTC).isoformat()}
            conn.execute(
                schema.meta.insert(), [{"key": k, "value": v} for k, v in rows.items()
                                       if k not in existing]
            )  # fmt: skip
        else:
            _check_unchanged(LedgerSettings.from_meta(existing), tolerance, None, None)
    if created is not None:
        loghome.bind_new(store, created)
    else:
        loghome.settle_at_init(store, log_dir=log_dir, log_origin=log_origin)
    return store


def _new_settings(
    db: str, tolerance: Tolerance | None, require_signatures: bool, log_dir: Path | None,
    log_origin: str | None,
) -> LedgerSettings:  # fmt: skip
    directory = (log_dir or default_log_dir(db)).resolve()
    log = LogSettings(directory, log_origin or f"raretrace.local/{directory.name}")
    create_log(log)
    authority = new_key(REGISTRY_ACTOR)
    key_path = directory / REGISTRY_KEY_FILE
    if key_path.exists():
        authority = read_key_file(key_path)
    else:
        write_key_file(key_path, authority)
    entry = parse_key(authority.registry_entry("0001-01-01T00:00:00Z"), "registry")
    return LedgerSettings(
        tolerance=tolerance or Tolerance(),
        require_signatures=require_signatures,
        log=log,
        registry_keys=(entry,),
    )


def _check_unchanged(
    settings: LedgerSettings, tolerance: Tolerance | None, log_dir: Path | None,
    log_origin: str | None,
) -> None:  # fmt: skip
    if tolerance is not None and settings.tolerance != tolerance:
        raise ConfigError(
            f"this ledger was created with tolerance {settings.tolerance}; it cannot change,"
            " because audits replay every event under the tolerance it was accepted with"
        )
    if log_dir is not None and log_dir.resolve() != settings.log.directory:
        raise ConfigError(f"this ledger's log is in {settings.log.directory}; it cannot move")
    if log_origin is not None and log_origin != settings.log.origin:
        raise ConfigError(f"this ledger's log origin is {settings.log.origin!r}; it cannot change")


def open_ledger(db: str, *, checker: SignatureChecker | None = None) -> Ledger:
    """The append path over an initialised ledger (signatures checked by ``checker``,
    default worker processes; the HTTP service checks in-process).

    Refused up front (before any input is read) if the ledger may not append to its log
    directory: a copy of another database, a directory ahead or diverged, tiles under another
    root (``logdir.py``); every write checks again under the writer lock.
    """
    ledger = Ledger(Store.open(db, access="write"), checker=checker)
    try:
        with ledger.store.engine.connect() as conn:
            check_directory(conn, ledger.settings)
            ledger.log.check_tiles(conn, ledger.store.size(conn))
    except BaseException:
        ledger.close()
        raise
    return ledger


def keygen(
    participant: str, path: Path, *, kid: str | None = None, valid_from: str | None = None
) -> dict[str, Any]:
    """Write a new key file for ``participant``; returns its registry ``keys`` entry."""
    # An empty --valid-from is a mistake, not "now": only an absent one defaults.
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if valid_from is None else valid_from
    normalize_time(when, "--valid-from")
    checked_id(participant, "--participant")
    if kid is not None:
        checked_id(kid, "--kid")
    key = new_key(participant, kid=kid)
    write_key_file(path, key)
    return key.registry_entry(when)


def load_signing_keys(paths: list[Path]) -> dict[str, KeyFile]:
    """Key files by participant; two keys for one participant is an error."""
    keys: dict[str, KeyFile] = {}
    for path in paths:
        key = read_key_file(path)
        if key.participant in keys:
            raise ConfigError(f"two key files for {key.participant!r}; give one per participant")
        keys[key.participant] = key
    return keys


def sign_line(line: str, keys: dict[str, KeyFile]) -> str:
    """One event (JSON text) signed with its actor's key, as one line of JSON."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValidationError("format", "line", f"not valid JSON ({exc.msg})") from None
    if not isinstance(event, dict):
        raise ValidationError("format", "line", "each line must hold one JSON object")
    actor = event.get("actor")
    key = keys.get(actor) if isinstance(actor, str) else None
    if key is None:
        raise ConfigError(
            f"no key for actor {actor!r} of event {event.get('id')!r}; pass its key file with --key"
        )
    return json.dumps(sign_event(event, key.private_key, key.kid), ensure_ascii=False)


def registry_signer(ledger: Ledger) -> KeyFile:
    """The registry authority's key (kept in the log directory by ``raretrace init``)."""
    return read_key_file(ledger.settings.log.directory / REGISTRY_KEY_FILE)


def registry_events(
    doc: object, known: Registry, *, signer: KeyFile | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Registry events for the new or changed records of a registry document.

    Unchanged records give no event, so loading the same file twice changes nothing. With a
    ``signer`` (the registry authority's key) each event is signed.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out = []
    for parsed in parse_registry_document(doc, known).records():
        kind, record = registry_record_json(parsed)
        current = known.record(kind, parsed.id)
        if current is not None and registry_record_json(current)[1] == record:
            continue
        digest = hashlib.sha256(canonical_json(record)).hexdigest()[:16]
        event = {
            "id": f"registry:{kind}:{record['id']}:{digest}:{stamp}",
            "type": kind,
            "time": stamp,
            "actor": REGISTRY_ACTOR,
            kind: record,
        }
        out.append(sign_event(event, signer.private_key, signer.kid) if signer else event)
    return out


def load_registry(ledger: Ledger, path: Path) -> IngestReport:
    """Load a registry JSON file; raises ValidationError naming the first bad record."""
    doc = read_json(path)
    events = registry_events(doc, ledger.registry, signer=registry_signer(ledger))
    report = ledger.ingest(enumerate(events, start=1))
    if report.rejections:
        raise report.rejections[0].error
    return report


def read_json(path: Path) -> Any:
    """A JSON file, or a ConfigError that says what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "format", str(path), f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset"
            f" {exc.start}); a JSON file must be UTF-8 (RFC 8259 §8.1)"
        ) from None  # fmt: skip
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "format",
            str(path),
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines of a JSON Lines file with their line numbers, streamed."""
    # utf-8-sig: a byte order mark at the start of the file (Windows editors add one) is
    # dropped; RFC 8259 §8.1 lets a parser ignore it.
    with path.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield number, line


def trace(store: Store, lot_id: str) -> dict[str, Any]:
    """A lot's state and materialized provenance, as ``raretrace trace --json`` prints it:
    the lot view an evidence bundle claims, and the discrepancies in the lot's lineage."""
    view = lot_view(store.lot(lot_id))
    view["discrepancies"] = [d.to_json() for d in store.lineage_discrepancies(lot_id)]
    return view
