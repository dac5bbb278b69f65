"""Building a lot's evidence bundle from a stored ledger (``raretrace export LOT --bundle``).

A bundle carries everything ``raretrace.verify`` needs offline: the lot's claimed state and
provenance, the events the recursive lineage walk reads, the registry records those events
depend on, each event's salt and log entry (the commitment SHA-256(salt || event) the log
holds instead of the event) with its inclusion proof against one signed checkpoint, and the
public keys involved. A ledger whose log was made before commitments (its entries are the
events in clear) exports version 1, without salts. Everything is read in one database
snapshot, so the claim, the events and the checkpoint agree. Before a bundle is handed out
it is verified with the ledger's own keys: a ledger whose tables were changed outside the
append path cannot export evidence.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from raretrace.domain.canonical import canonical_json
from raretrace.domain.errors import ConfigError, NotFound, VerificationError
from raretrace.domain.registry import parse_participant
from raretrace.domain.views import lot_view
from raretrace.ledger.logmigrate import archives_of
from raretrace.ledger.logview import checkpoint_at, latest_reader, newest_cosigned
from raretrace.ledger.recompute import StoredHistory
from raretrace.ledger.settings import LedgerSettings
from raretrace.ledger.transparency import LedgerLog
from raretrace.log.checkpoint import parse_checkpoint
from raretrace.log.commitment import commitment
from raretrace.log.merkle import inclusion_proof
from raretrace.log.note import Ed25519Verifier, parse_note_unverified
from raretrace.store import schema
from raretrace.store.store import Store
from raretrace.verify import (
    FORMAT,
    REGISTRY_TYPES,
    VERSION,
    TrustedKeys,
    Verdict,
    closure_events,
    lineage_closure,
    referenced_facilities,
    verify_bundle,
)

__all__ = ["BuiltBundle", "build_bundle", "export_bundle", "trust_file"]


@dataclass(frozen=True, slots=True)
class BuiltBundle:
    """A bundle's bytes (RFC 8785 canonical JSON) and what its self-check verified."""

    data: bytes
    verdict: Verdict


def export_bundle(
    store: Store, lot_id: str, *, checkpoint: int | None = None, cosigned: bool = False
) -> BuiltBundle:
    """The lot's bundle as canonical JSON bytes, checked with the ledger's own keys.

    Proofs are against the latest checkpoint, the one of size ``checkpoint``, or with
    ``cosigned`` the newest one a witness has cosigned (verifiers that require a witness
    need that one until witnesses catch up with the log).
    """
    settings = LedgerSettings.from_meta(store.meta())
    bundle = build_bundle(store, lot_id, checkpoint=checkpoint, cosigned=cosigned)
    unsigned = [e["event"]["id"] for e in bundle["events"] if "sig" not in e["event"]]
    if unsigned:  # only a ledger created with --allow-unsigned holds such events
        shown = ", ".join(repr(i) for i in unsigned[:3]) + (", ..." if len(unsigned) > 3 else "")
        raise ConfigError(
            f"lot {lot_id!r} rests on {len(unsigned)} event(s) without a participant signature"
            f" ({shown}); a bundle proves every event's signature, so it can be made only from"
            " signed history. This ledger accepts unsigned events (created with"
            " --allow-unsigned, for trials): sign events with `raretrace sign` before ingesting"
        )
    data = canonical_json(bundle)
    try:
        verdict = verify_bundle(data, own_trust(settings), witnesses=0)
    except VerificationError as exc:
        raise VerificationError(
            f"the ledger's bundle for lot {lot_id!r} does not verify, so it was not written"
            f" ({exc.message}); run `raretrace audit` to find what changed"
        ) from None
    return BuiltBundle(data, verdict)


def own_trust(settings: LedgerSettings) -> TrustedKeys:
    """The ledger's own log key, registry authority keys and tolerance, as trusted keys."""
    log = LedgerLog(settings.log)
    return TrustedKeys(
        logs=(Ed25519Verifier.from_vkey(log.vkey),),
        registry=tuple(k.public_key for k in settings.registry_keys),
        tolerance=settings.tolerance,
    )


def trust_file(store: Store) -> str:
    """This ledger's keys and tolerance as a trust file, for the operator to publish.

    Witnesses publish their own vkeys; a verifier adds the ones it trusts.
    """
    meta = store.meta()
    settings = LedgerSettings.from_meta(meta)
    trust = own_trust(settings)
    archived = [
        line
        for log in archives_of(meta)
        for line in (f"# the earlier log {log.origin} (archived: bundles made before it moved)",
                     log.vkey)
    ]  # fmt: skip
    lines = [
        f"# raretrace trust file for the ledger {settings.log.origin}",
        "# the log's verifier key (C2SP vkey)",
        *(k.vkey for k in trust.logs),
        *archived,
        "# the registry authority's Ed25519 public key(s)",
        *(f"registry {base64.b64encode(k).decode()}" for k in trust.registry),
        "# mass-balance tolerance: relative, absolute kg",
        f"tolerance {settings.tolerance.relative!r} {settings.tolerance.absolute_kg!r}",
        "# add witness vkeys (one a line) that you trust",
    ]
    return "\n".join(lines) + "\n"


def build_bundle(
    store: Store, lot_id: str, *, checkpoint: int | None = None, cosigned: bool = False
) -> dict[str, Any]:
    """The bundle as a JSON value (see docs/formats.md, "Evidence bundles")."""
    settings = LedgerSettings.from_meta(store.meta())
    log = LedgerLog(settings.log)
    with _snapshot(store) as conn:
        note = newest_cosigned(conn) if cosigned else checkpoint_at(conn, checkpoint)
        size = parse_checkpoint(parse_note_unverified(note).text).size
        reader = latest_reader(settings.log.directory, conn)
        found = store.lots_by_id(conn, [lot_id])
        if lot_id not in found:
            raise NotFound(f"lot {lot_id!r} is not in the ledger; list lots with `raretrace lots`")
        history = StoredHistory(conn)
        custody = closure_events(history, lineage_closure(history, lot_id))
        registry = _registry_events(conn, size, [body for _, _, body in custody.values()])
        events = {seq: body for seq, _, body in custody.values()} | registry
        openings = None if settings.clear_leaves else _openings(conn, sorted(events))
    if max(events) >= size:
        raise NotFound(
            f"lot {lot_id!r} has events after the checkpoint of size {size} (up to leaf"
            f" {max(events)}); export against a newer checkpoint, or have witnesses cosign one"
        )
    proofs = {seq: inclusion_proof(reader, index=seq, size=size) for seq in sorted(events)}
    table, indexed = _shared_hashes(proofs)
    return {
        "format": FORMAT,
        "version": 1 if openings is None else VERSION,
        "lot": lot_id,
        "claim": lot_view(found[lot_id][0]),
        "checkpoint": note,
        "keys": {
            "log": log.vkey,
            "registry": [k.to_json() for k in settings.registry_keys],
            "participants": _participant_keys(registry),
        },
        "proof_hashes": table,
        "events": [
            {"leaf_index": seq, "proof": indexed[seq], "event": events[seq]}
            | ({} if openings is None else openings[seq])
            for seq in sorted(events)
        ],
    }


def _openings(conn: Connection, seqs: Sequence[int]) -> dict[int, dict[str, str]]:
    """What opens each event's commitment (leaf index -> its salt and the entry
    SHA-256(salt || stored RFC 8785 bytes), base64)."""
    ev, found = schema.events, {}
    for start in range(0, len(seqs), 900):  # bound the parameters of one statement
        query = select(ev.c.seq, ev.c.body, ev.c.salt).where(ev.c.seq.in_(seqs[start:][:900]))
        for seq, body, salt in conn.execute(query):
            if salt is not None:
                entry = commitment(salt, body.encode("utf-8"))
                found[int(seq)] = {"salt": _b64(salt), "leaf": _b64(entry)}
    missing = [seq for seq in seqs if seq not in found]
    if missing:
        raise ConfigError(
            f"the event(s) at leaf {', '.join(map(str, missing[:3]))} have no salt, though"
            " this ledger's log holds salted commitments; run `raretrace audit` to find out why"
        )
    return found


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@contextmanager
def _snapshot(store: Store) -> Iterator[Connection]:
    """One consistent read: SQLite's BEGIN gives a WAL snapshot; PostgreSQL needs REPEATABLE
    READ (its default, READ COMMITTED, sees each statement's newest rows)."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _registry_events(
    conn: Connection, size: int, custody: list[Mapping[str, Any]]
) -> dict[int, dict[str, Any]]:
    """Every version (up to the checkpoint) of the facility records the custody events use,
    and of the participant records of their actors and of those facilities' operators."""
    facilities = {f for body in custody for f in referenced_facilities(body)}
    people = {str(body["actor"]) for body in custody}
    rows = _registry_rows(conn, size)
    chosen: dict[int, dict[str, Any]] = {}
    for seq, body in rows:
        if body["type"] == "facility" and body["facility"]["id"] in facilities:
            chosen[seq] = body
            people.add(body["facility"]["operator"])
    for seq, body in rows:
        if body["type"] == "participant" and body["participant"]["id"] in people:
            chosen[seq] = body
    return chosen


def _registry_rows(conn: Connection, size: int) -> list[tuple[int, dict[str, Any]]]:
    ev = schema.events
    query = (
        select(ev.c.seq, ev.c.body)
        .where(ev.c.type.in_(REGISTRY_TYPES), ev.c.seq < size)
        .order_by(ev.c.seq)
    )
    return [(seq, json.loads(body)) for seq, body in conn.execute(query)]


def _participant_keys(registry: Mapping[int, Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Each included participant's keys as its latest included record registers them."""
    keys: dict[str, list[Any]] = {}
    for seq in sorted(registry):
        body = registry[seq]
        if body["type"] == "participant":
            participant = parse_participant(body["participant"])
            keys[participant.id] = [k.to_json() for k in participant.keys]
    return keys


def _shared_hashes(proofs: Mapping[int, list[bytes]]) -> tuple[list[str], dict[int, list[int]]]:
    """Proofs of neighbouring leaves share most upper nodes: store each hash once."""
    table: list[str] = []
    position: dict[bytes, int] = {}
    indexed: dict[int, list[int]] = {}
    for seq, proof in proofs.items():
        for h in proof:
            if h not in position:
                position[h] = len(table)
                table.append(base64.b64encode(h).decode())
        indexed[seq] = [position[h] for h in proof]
    return table, indexed
