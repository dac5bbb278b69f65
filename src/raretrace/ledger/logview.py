"""The ledger's transparency log as its readers and witnesses see it.

Serves what ``raretrace log`` and ``raretrace witness`` need: the latest (or an older) signed
checkpoint, the log's verifier key, RFC 9162 inclusion and consistency proofs computed from
the C2SP tlog-tiles on disk, and the witness round trip of C2SP tlog-cosignature (take the
latest checkpoint, prove it consistent with the one the witness last cosigned, cosign, store
the cosigned note back). Every proof is checked against the signed checkpoint before it is
handed out, so tiles that disagree with the database are reported instead of served.

The one write here, :func:`record_cosignature`, only adds signature lines to a stored
checkpoint note; it never touches the events or the tree.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, update

from raretrace.domain.errors import ConfigError, NotFound, VerificationError
from raretrace.ledger.append import writer_transaction
from raretrace.ledger.keyfiles import checked_id, write_secret
from raretrace.ledger.settings import LedgerSettings
from raretrace.ledger.transparency import LedgerLog, LogSettings
from raretrace.log.checkpoint import Checkpoint, parse_checkpoint
from raretrace.log.commitment import log_entry
from raretrace.log.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from raretrace.log.note import (
    Ed25519Verifier,
    NoteSignature,
    UnverifiedNote,
    parse_note_unverified,
)
from raretrace.log.tiles import TileReader
from raretrace.log.witness import (
    CosignatureSigner,
    CosignatureVerifier,
    Witness,
    WitnessState,
    generate_cosigner_key,
)
from raretrace.store import schema
from raretrace.store.store import Store

__all__ = [
    "ConsistencyProof",
    "CosignReport",
    "InclusionProof",
    "checkpoint_note",
    "log_vkey",
    "prove_consistency",
    "prove_event",
    "read_log_vkey",
    "read_witness_key",
    "record_cosignature",
    "witness_cosign",
    "witness_keygen",
]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _log_settings(store: Store) -> LogSettings:
    return LedgerSettings.from_meta(store.meta()).log


# --- checkpoints ----------------------------------------------------------------------------


def _latest_size(conn: Connection) -> int | None:
    size = conn.execute(select(func.max(schema.checkpoints.c.size))).scalar()
    return None if size is None else int(size)


def _stored_note(conn: Connection, size: int) -> str | None:
    note: str | None = conn.execute(
        select(schema.checkpoints.c.note).where(schema.checkpoints.c.size == size)
    ).scalar()
    return note


def checkpoint_at(conn: Connection, size: int | None) -> str:
    """The stored note for ``size`` (default: the latest), or NotFound saying what exists."""
    latest = _latest_size(conn)
    if latest is None:
        raise NotFound(
            "the log has no checkpoint yet: nothing has been accepted; load a registry or "
            "ingest events first"
        )
    note = _stored_note(conn, latest if size is None else size)
    if note is None:
        raise NotFound(
            f"no checkpoint is stored for tree size {size} (the latest is size {latest}); "
            "checkpoints exist only for the sizes at which a batch was committed"
        )
    return note


def newest_cosigned(conn: Connection) -> str:
    """The newest stored checkpoint that at least one witness has cosigned."""
    query = select(schema.checkpoints.c.note).order_by(schema.checkpoints.c.size.desc())
    for (note,) in conn.execute(query):
        if len(parse_note_unverified(note).signatures) > 1:
            return str(note)
    raise NotFound("no stored checkpoint carries a witness cosignature yet; ask a witness to"
                   " run `raretrace witness cosign`")  # fmt: skip


def _parsed(note: str) -> Checkpoint:
    return parse_checkpoint(parse_note_unverified(note).text)


def latest_reader(directory: Path, conn: Connection) -> TileReader:
    """Tiles of the latest checkpoint's tree, which serve every smaller tree too.

    A tree of an older size is read through the newest tiles rather than its own: its
    partial tiles were never written unless a batch ended there, and are deleted once the
    tile fills (C2SP tlog-tiles allows both), but its complete subtrees are all in the newest.
    """
    return TileReader(directory, _latest_size(conn) or 0)


def checkpoint_note(store: Store, *, size: int | None = None) -> str:
    """The signed checkpoint note (with any cosignatures) for ``size``, default the latest."""
    with store.engine.connect() as conn:
        return checkpoint_at(conn, size)


def log_vkey(store: Store) -> str:
    """The log's verifier key (C2SP signed-note vkey), derived from its signing key."""
    return LedgerLog(_log_settings(store)).vkey


# --- inclusion ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """An RFC 9162 §2.1.3 inclusion proof of one event against a signed checkpoint."""

    event_id: str
    leaf_index: int
    tree_size: int
    #: The log entry: SHA-256(salt || event), or the event itself in a log made before
    #: commitments (``salt`` None).
    leaf: bytes
    proof: list[bytes]
    checkpoint: str
    root: bytes
    origin: str
    #: The signed event's RFC 8785 bytes, and the salt that opens its commitment.
    event: bytes = b""
    salt: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``raretrace log prove --json`` object."""
        return {
            "event_id": self.event_id,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf": _b64(self.leaf),
            "event": json.loads(self.event),
            "salt": None if self.salt is None else _b64(self.salt),
            "proof": [_b64(h) for h in self.proof],
            "checkpoint": self.checkpoint,
        }


@dataclass(frozen=True, slots=True)
class _StoredEvent:
    """An event as stored: its leaf index, RFC 8785 bytes and salt."""

    index: int
    body: bytes
    salt: bytes | None

    @property
    def entry(self) -> bytes:
        return log_entry(self.body, self.salt)


def _stored_event(conn: Connection, event_id: str) -> _StoredEvent:
    ev = schema.events
    row = conn.execute(select(ev.c.seq, ev.c.body, ev.c.salt).where(ev.c.id == event_id)).first()
    if row is None:
        raise NotFound(f"no accepted event has id {event_id!r}")
    return _StoredEvent(int(row.seq), row.body.encode("utf-8"), row.salt)


def prove_event(store: Store, event_id: str, *, size: int | None = None) -> InclusionProof:
    """Inclusion proof of event ``event_id`` in the checkpoint of ``size`` (default latest).

    The leaf is the commitment ``SHA-256(salt || event)`` recomputed from the stored event
    (RFC 8785 canonical JSON, ``sig`` included) and its salt, both handed out with the proof
    so that the receiver can open it (in a log made before commitments, the event itself);
    the proof is read from the tiles and checked against the checkpoint's root before it is
    returned.
    """
    settings = _log_settings(store)
    with store.engine.connect() as conn:
        note = checkpoint_at(conn, size)
        stored = _stored_event(conn, event_id)
        reader = latest_reader(settings.directory, conn)
    index, leaf = stored.index, stored.entry
    checkpoint = _parsed(note)
    if index >= checkpoint.size:
        raise NotFound(
            f"event {event_id!r} is leaf {index}, not in the tree of size {checkpoint.size}; "
            "prove it against a later checkpoint"
        )
    proof = inclusion_proof(reader, index=index, size=checkpoint.size)
    try:
        verify_inclusion(
            leaf_hash=leaf_hash(leaf), index=index, size=checkpoint.size, proof=proof,
            root=checkpoint.root_hash,
        )  # fmt: skip
    except VerificationError as exc:
        raise VerificationError(
            f"the tiles in {settings.directory} do not prove event {event_id!r} against the "
            f"signed checkpoint of size {checkpoint.size}: {exc.message}; run `raretrace audit`"
        ) from None
    return InclusionProof(
        event_id, index, checkpoint.size, leaf, proof, note, checkpoint.root_hash,
        checkpoint.origin, event=stored.body, salt=stored.salt,
    )  # fmt: skip


# --- consistency ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """An RFC 9162 §2.1.4 proof that the tree of ``old_size`` is a prefix of ``new_size``."""

    old_size: int
    new_size: int
    proof: list[bytes]
    old_root: bytes
    new_root: bytes
    old_checkpoint: str | None
    new_checkpoint: str | None

    def to_json(self) -> dict[str, Any]:
        """The ``raretrace log consistency --json`` object."""
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "proof": [_b64(h) for h in self.proof],
            "old_checkpoint": self.old_checkpoint,
            "new_checkpoint": self.new_checkpoint,
        }


def _tree_root(reader: TileReader, size: int, note: str | None) -> bytes:
    """The root of tree ``size`` from the tiles, checked against its stored checkpoint."""
    root = tree_root(reader, size)
    if note is not None and _parsed(note).root_hash != root:
        raise VerificationError(
            f"the tiles give root {_b64(root)} for tree size {size}, but its signed "
            f"checkpoint says {_b64(_parsed(note).root_hash)}; run `raretrace audit`"
        )
    return root


def prove_consistency(
    store: Store, *, old_size: int, new_size: int | None = None
) -> ConsistencyProof:
    """Consistency proof from ``old_size`` to ``new_size`` (default: the latest checkpoint).

    Sizes need not have a stored checkpoint (those fields are then None), but ``new_size``
    cannot exceed the latest checkpoint's size. The proof is verified before it is returned.
    """
    directory = _log_settings(store).directory
    with store.engine.connect() as conn:
        latest = _parsed(checkpoint_at(conn, None)).size
        new = latest if new_size is None else new_size
        if new > latest:
            raise NotFound(f"the log's latest checkpoint has size {latest}; no tree of size {new}")
        old_note, new_note = _stored_note(conn, old_size), _stored_note(conn, new)
        reader = latest_reader(directory, conn)
    proof = consistency_proof(reader, old_size=old_size, new_size=new)
    old_root = _tree_root(reader, old_size, old_note)
    new_root = _tree_root(reader, new, new_note)
    verify_consistency(
        old_size=old_size, new_size=new, old_root=old_root, new_root=new_root, proof=proof
    )
    return ConsistencyProof(old_size, new, proof, old_root, new_root, old_note, new_note)


# --- witnesses ------------------------------------------------------------------------------


def witness_keygen(name: str, path: Path) -> str:
    """Write a new witness signing key to ``path`` (mode 0600); return its cosigner vkey."""
    checked_id(name, "--name")  # shown in cosignatures and logs: no hidden or bidi characters
    skey, vkey = generate_cosigner_key(name)
    write_secret(path, skey + "\n")
    return vkey


def read_witness_key(path: Path) -> CosignatureSigner:
    """A witness signing key written by :func:`witness_keygen`."""
    try:
        text = path.read_text("utf-8").strip()
    except OSError as exc:
        raise NotFound(f"cannot read witness key {path}: {exc.strerror}") from None
    return CosignatureSigner.from_skey(text)


def read_log_vkey(vkey: str | None, path: Path | None) -> Ed25519Verifier:
    """The log key a witness trusts, given as text or in a file; refuses to go without one.

    A witness must get this key from the log operator out of band: reading it from the
    ledger it checks would let whoever controls the ledger swap it.
    """
    if vkey is not None and path is not None:
        raise ConfigError("give the log's verifier key once: --log-vkey or --log-vkey-file")
    if path is not None:
        try:
            vkey = path.read_text("utf-8").strip()
        except OSError as exc:
            raise NotFound(f"cannot read the log's verifier key {path}: {exc.strerror}") from None
    if not vkey:
        raise ConfigError(
            "a witness needs the log's verifier key: pass --log-vkey VKEY or --log-vkey-file "
            "FILE (the operator publishes it with `raretrace log vkey`)"
        )
    return Ed25519Verifier.from_vkey(vkey)


@dataclass(frozen=True, slots=True)
class CosignReport:
    """What a witness did: which checkpoint it cosigned, and from which one it checked."""

    origin: str
    size: int
    root: bytes
    previous: Checkpoint | None  # None: first cosignature for this log (trust on first use)
    witness: str
    signers: tuple[str, ...]  # every signature on the stored note: the log, then witnesses
    published: bool  # whether <log dir>/checkpoint now carries the cosignature
    note: str


def witness_cosign(
    store: Store, *, signer: CosignatureSigner, state: WitnessState, log_key: Ed25519Verifier
) -> CosignReport:
    """Act as a witness: check the latest checkpoint, cosign it, store the cosigned note.

    The consistency proof runs from the size recorded in ``state`` (C2SP tlog-witness: the
    witness, not the log, decides what it last saw). Raises VerificationError when the log
    signature or consistency does not check, or when the log went backwards.
    """
    note = checkpoint_note(store)
    new = _parsed(note)
    previous = state.get(new.origin)
    old_size = 0 if previous is None else previous.size
    proof: list[bytes] = []
    if 0 < old_size <= new.size:
        directory = _log_settings(store).directory
        proof = consistency_proof(
            TileReader(directory, new.size), old_size=old_size, new_size=new.size
        )
    witness = Witness(signer, state, logs=[log_key])
    cosigned = witness.cosign(note, old_size=old_size, consistency_proof=proof)
    stored, published = record_cosignature(store, cosigned, witness=signer.verifier())
    signers = tuple(s.name for s in parse_note_unverified(stored).signatures)
    return CosignReport(
        new.origin, new.size, new.root_hash, previous, signer.name, signers, published, stored
    )


def _witness_signature(note: UnverifiedNote, witness: CosignatureVerifier) -> NoteSignature:
    for sig in note.signatures:
        if (sig.name, sig.key_id) == (witness.name, witness.key_id):
            witness.verify(note.text.encode("utf-8"), sig.signature)
            return sig
    raise VerificationError(f"the note carries no cosignature by witness {witness.name}")


def _merge(stored: str, cosigned: UnverifiedNote, sig: NoteSignature) -> str:
    """``stored`` with ``sig`` added (replacing an older line by the same key)."""
    current = parse_note_unverified(stored)
    if current.text != cosigned.text:
        old, new = parse_checkpoint(current.text), parse_checkpoint(cosigned.text)
        raise VerificationError(
            f"the cosigned checkpoint (size {new.size}, root {_b64(new.root_hash)}) is not the "
            f"one stored for size {old.size} (root {_b64(old.root_hash)})"
        )
    kept = [s for s in current.signatures if (s.name, s.key_id) != (sig.name, sig.key_id)]
    return current.text + "\n" + "".join(s.line() for s in [*kept, sig])


def record_cosignature(
    store: Store, note: str, *, witness: CosignatureVerifier
) -> tuple[str, bool]:
    """Add ``witness``'s cosignature from ``note`` to the stored checkpoint of its size.

    The cosignature is verified first; signature lines already stored (the log's, other
    witnesses') are kept, so witnesses may cosign concurrently. Runs under the ledger's writer
    lock, which also orders the republication of ``<log dir>/checkpoint`` (done only when
    this is the latest checkpoint) against ingests. Returns the stored note and whether it
    was published.
    """
    cosigned = parse_note_unverified(note)
    sig = _witness_signature(cosigned, witness)
    size = parse_checkpoint(cosigned.text).size
    with writer_transaction(store) as conn:
        stored = _stored_note(conn, size)
        if stored is None:
            raise NotFound(f"no checkpoint is stored for tree size {size}")
        merged = _merge(stored, cosigned, sig)
        table = schema.checkpoints
        conn.execute(update(table).where(table.c.size == size).values(note=merged))
        published = _latest_size(conn) == size
        if published:
            LedgerLog(LedgerSettings.from_meta(store.meta(conn)).log).publish(merged)
    return merged, published
