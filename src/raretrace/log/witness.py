"""Witness cosigning of checkpoints, C2SP tlog-cosignature v1 (https://c2sp.org/tlog-cosignature).

A witness (say, a member state's regulator) cosigns a checkpoint only after checking the log's
signature and a consistency proof from the last checkpoint it cosigned for that log, so a log
that shows different histories to different people is caught. A cosignature is a note
signature of type 0x04 whose bytes are ``u64 timestamp || Ed25519 signature`` over
``cosignature/v1\\ntime <timestamp>\\n`` followed by the checkpoint text.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from raretrace.domain.errors import ConfigError, VerificationError
from raretrace.log.checkpoint import Checkpoint, parse_checkpoint, verify_checkpoint
from raretrace.log.merkle import verify_consistency
from raretrace.log.note import (
    NoteSignature,
    NoteVerifier,
    TypedPrivateKey,
    TypedPublicKey,
    add_signatures,
    open_note,
    parse_note_unverified,
    parse_skey,
)

__all__ = [
    "SIG_TYPE_COSIGNATURE_V1",
    "Cosignature",
    "CosignatureSigner",
    "CosignatureVerifier",
    "CosignedCheckpoint",
    "Witness",
    "WitnessConflict",
    "WitnessState",
    "cosign",
    "cosigned_message",
    "generate_cosigner_key",
    "parse_cosignature",
    "verify_cosigned_checkpoint",
]

SIG_TYPE_COSIGNATURE_V1 = 0x04  # signed-note §Signature types: timestamped Ed25519 cosignature
_MAX_TIMESTAMP = (1 << 63) - 1  # tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """tlog-cosignature §Ed25519 signed message: header, time line, then the checkpoint text."""
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise VerificationError(f"cosignature timestamp {timestamp} is out of range")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class Cosignature:
    """A decoded cosignature line."""

    name: str
    key_id: int
    timestamp: int
    signature: bytes


def parse_cosignature(sig: NoteSignature) -> Cosignature:
    """Decode ``timestamped_signature`` (u64 big-endian time || 64-byte Ed25519 signature)."""
    if len(sig.signature) != 8 + 64:
        raise VerificationError(
            f"cosignature by {sig.name} is {len(sig.signature)} bytes, expected 72"
        )
    timestamp = int.from_bytes(sig.signature[:8], "big")
    if timestamp > _MAX_TIMESTAMP:
        raise VerificationError(f"cosignature by {sig.name} has timestamp above 2^63-1")
    return Cosignature(sig.name, sig.key_id, timestamp, sig.signature[8:])


@dataclass(frozen=True)
class CosignatureVerifier(TypedPublicKey):
    """A trusted witness key: Ed25519 cosignatures, key id computed with type 0x04."""

    SIG_TYPE: ClassVar[int] = SIG_TYPE_COSIGNATURE_V1
    KEY_NOUN: ClassVar[str] = "witness key"
    TYPE_TEXT: ClassVar[str] = "a cosignature key (0x04)"

    def verify(self, text: bytes, signature: bytes) -> None:
        """Check a cosignature over checkpoint ``text``; raise :class:`VerificationError`."""
        cosig = parse_cosignature(NoteSignature(self.name, self.key_id, signature))
        message = cosigned_message(text.decode("utf-8"), cosig.timestamp)
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(cosig.signature, message)
        except InvalidSignature:
            raise VerificationError(
                f"the cosignature by witness {self.name} ({self.key_id:08x}) does not verify"
            ) from None


class CosignatureSigner(TypedPrivateKey[CosignatureVerifier]):
    """A witness's private key; ``clock`` gives the POSIX time written into each cosignature."""

    VERIFIER = CosignatureVerifier
    NAME_ERROR = "witness name {name!r}: no spaces or '+', not empty"

    def __init__(
        self,
        name: str,
        private_key: Ed25519PrivateKey,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, private_key)
        self._clock = clock

    @classmethod
    def from_skey(cls, skey: str, *, clock: Callable[[], float] = time.time) -> CosignatureSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(0x04 || seed)>``."""
        name, private = parse_skey(skey, SIG_TYPE_COSIGNATURE_V1)
        return cls(name, private, clock=clock)

    def sign(self, text: bytes) -> bytes:
        """``u64 timestamp || Ed25519(cosignature/v1 message)`` over checkpoint ``text``."""
        timestamp = int(self._clock())
        message = cosigned_message(text.decode("utf-8"), timestamp)
        return timestamp.to_bytes(8, "big") + self._private.sign(message)


def generate_cosigner_key(name: str) -> tuple[str, str]:
    """A new witness key: ``(skey, vkey)``, both with signature type 0x04."""
    signer = CosignatureSigner(name, Ed25519PrivateKey.generate())
    return signer.skey, signer.verifier().vkey


# --- the witness ----------------------------------------------------------------------------


class WitnessConflict(VerificationError):
    """The submitted ``old_size`` is not the size this witness last cosigned for the log.

    ``known_size`` tells the log which size to prove consistency from (tlog-witness returns
    409 Conflict with the same information).
    """

    def __init__(self, message: str, *, known_size: int) -> None:
        super().__init__(message)
        self.known_size = known_size


class WitnessState:
    """The last checkpoint a witness cosigned, per origin, in ``<directory>/witness-state.json``.

    Written atomically (temporary file, fsync, rename) before a cosignature is released.
    One process per directory.
    """

    FILE_NAME = "witness-state.json"

    def __init__(self, directory: Path | str) -> None:
        self._dir = Path(directory)
        self._path = self._dir / self.FILE_NAME

    def _load(self) -> dict[str, dict[str, object]]:
        try:
            raw = json.loads(self._path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"witness state {self._path} cannot be read: {exc}") from None
        logs = raw.get("logs") if isinstance(raw, dict) else None
        if not isinstance(logs, dict):
            raise ConfigError(f"witness state {self._path} has no 'logs' object")
        return logs

    def get(self, origin: str) -> Checkpoint | None:
        """The last cosigned checkpoint for ``origin``, or ``None`` if never cosigned."""
        entry = self._load().get(origin)
        if entry is None:
            return None
        try:
            return parse_checkpoint(str(entry["checkpoint"]))
        except (KeyError, VerificationError) as exc:
            raise ConfigError(
                f"witness state {self._path} is corrupt for {origin}: {exc}"
            ) from None

    def put(self, checkpoint: Checkpoint, *, timestamp: int) -> None:
        """Record ``checkpoint`` as the latest cosigned for its origin, durably."""
        logs = self._load()
        logs[checkpoint.origin] = {"checkpoint": checkpoint.body(), "cosigned_at": timestamp}
        data = json.dumps({"version": 1, "logs": logs}, indent=2, sort_keys=True).encode()
        self._dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._dir, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


class Witness:
    """Cosigns checkpoints of the logs it knows, only ever along one consistent history."""

    def __init__(
        self,
        signer: CosignatureSigner,
        state: WitnessState,
        *,
        logs: Sequence[NoteVerifier],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._signer = signer
        self._state = state
        self._logs = {log.name: log for log in logs}  # origin -> log key (name = origin)
        self._clock = clock

    def verifier(self) -> CosignatureVerifier:
        """This witness's public key, for clients' trust configuration."""
        return self._signer.verifier()

    def cosign(self, note: str, *, old_size: int, consistency_proof: Sequence[bytes]) -> str:
        """Verify ``note`` and its consistency with the last cosigned checkpoint; cosign it.

        Returns the note with this witness's cosignature line added (other lines kept).
        Raises :class:`VerificationError` if the log signature, the sizes or the proof do not
        check, and :class:`WitnessConflict` if ``old_size`` is not the size last cosigned.
        """
        parsed = parse_checkpoint(_text_of(note))
        log_key = self._logs.get(parsed.origin)
        if log_key is None:
            raise VerificationError(f"this witness does not follow log {parsed.origin!r}")
        new = verify_checkpoint(note, log_key, origin=parsed.origin)
        last = self._state.get(new.origin)
        self._check_growth(last, new, old_size, consistency_proof)
        cosigned = add_signatures(note, [self._signer])
        self._state.put(new, timestamp=int(self._clock()))
        return cosigned

    def _check_growth(
        self,
        last: Checkpoint | None,
        new: Checkpoint,
        old_size: int,
        proof: Sequence[bytes],
    ) -> None:
        known = 0 if last is None else last.size
        if new.size < known:
            raise VerificationError(
                f"log {new.origin} went backwards: witness cosigned size {known}, "
                f"new checkpoint has size {new.size}"
            )
        if old_size != known:
            raise WitnessConflict(
                f"witness last cosigned {new.origin} at size {known}, but the proof is from "
                f"size {old_size}; send a consistency proof from size {known}",
                known_size=known,
            )
        if last is None or known == 0:
            if proof:
                raise VerificationError("a first checkpoint needs no consistency proof")
            return  # trust on first use: any tree extends the empty tree
        try:
            verify_consistency(
                old_size=last.size,
                new_size=new.size,
                old_root=last.root_hash,
                new_root=new.root_hash,
                proof=proof,
            )
        except VerificationError as exc:
            raise VerificationError(
                f"refusing to cosign {new.origin}: size {new.size} root {_b64(new.root_hash)} "
                f"is not consistent with cosigned size {last.size} root "
                f"{_b64(last.root_hash)} ({exc.message})"
            ) from None


def _text_of(note: str) -> str:
    return parse_note_unverified(note).text


def cosign(
    checkpoint_note: str,
    witness_key: CosignatureSigner,
    *,
    log_key: NoteVerifier,
    old_size: int,
    consistency_proof: Sequence[bytes],
    state: WitnessState,
) -> str:
    """One-shot :meth:`Witness.cosign` for a single log."""
    witness = Witness(witness_key, state, logs=[log_key])
    return witness.cosign(checkpoint_note, old_size=old_size, consistency_proof=consistency_proof)


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A checkpoint verified under the log key, with the witness cosignatures that verified."""

    checkpoint: Checkpoint
    cosignatures: tuple[Cosignature, ...]


def verify_cosigned_checkpoint(
    note: str | bytes,
    *,
    log_key: NoteVerifier,
    witness_keys: Sequence[CosignatureVerifier],
    quorum: int | None = None,
) -> CosignedCheckpoint:
    """Verify the log signature and at least ``quorum`` witness cosignatures (default: all).

    Signatures by keys not listed are ignored; a listed key whose signature fails rejects
    the note (signed-note §Signatures). Raises :class:`VerificationError`.
    """
    need = len(witness_keys) if quorum is None else quorum
    if not 0 <= need <= len(witness_keys):
        raise ConfigError(f"quorum {need} is not between 0 and {len(witness_keys)} witnesses")
    checkpoint = verify_checkpoint(note, log_key)
    opened = open_note(note, [log_key, *witness_keys])
    witness_ids = {(w.name, w.key_id) for w in witness_keys}
    cosigs = tuple(
        parse_cosignature(s) for s in opened.verified if (s.name, s.key_id) in witness_ids
    )
    if len(cosigs) < need:
        have = ", ".join(c.name for c in cosigs) or "none"
        raise VerificationError(
            f"checkpoint {checkpoint.origin} size {checkpoint.size} has {len(cosigs)} valid "
            f"witness cosignature(s) ({have}); {need} required"
        )
    return CosignedCheckpoint(checkpoint, cosigs)
