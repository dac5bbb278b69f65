"""C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the log's signed tree head.

A checkpoint is a signed note whose text is ``<origin>\\n<size>\\n<base64 root hash>\\n``
followed by optional extension lines, each ending in a newline.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from raretrace.domain.errors import ValidationError, VerificationError
from raretrace.log.merkle import HASH_SIZE
from raretrace.log.note import NoteSigner, NoteVerifier, open_note, sign_note

__all__ = ["Checkpoint", "parse_checkpoint", "sign_checkpoint", "verify_checkpoint"]

_SIZE = re.compile(r"0|[1-9][0-9]*")  # tlog-checkpoint: ASCII decimal, no leading zeroes
_MAX_SIZE = (1 << 64) - 1


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's ``origin``, its tree ``size`` and the RFC 6962 ``root_hash``."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problem = None
        if not self.origin or "\n" in self.origin:
            problem = "the origin must be one non-empty line"
        elif not 0 <= self.size <= _MAX_SIZE:
            problem = f"tree size {self.size} is not a uint64"
        elif len(self.root_hash) != HASH_SIZE:
            problem = f"root hash is {len(self.root_hash)} bytes, not {HASH_SIZE}"
        elif any(not e or "\n" in e for e in self.extensions):
            problem = "extension lines must be single non-empty lines"
        if problem:
            raise ValidationError("log.checkpoint", self.origin or "(no origin)", problem)

    def body(self) -> str:
        """The note text that gets signed (tlog-checkpoint §Note text)."""
        root = base64.b64encode(self.root_hash).decode()
        return "".join(
            f"{line}\n" for line in [self.origin, str(self.size), root, *self.extensions]
        )


def _bad(reason: str) -> VerificationError:
    return VerificationError(f"malformed checkpoint: {reason}")


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text strictly (tlog-checkpoint §Note text).

    Requires at least three newline-terminated lines, a non-empty origin, a decimal size with
    no leading zeroes, a canonical base64 32-byte root hash and non-empty extension lines.
    """
    if not text.endswith("\n"):
        raise _bad("the text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise _bad(f"expected origin, size and root hash lines, got {len(lines)} line(s)")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise _bad("empty origin line")
    if not _SIZE.fullmatch(size_text) or int(size_text) > _MAX_SIZE:
        raise _bad(f"tree size {size_text!r} is not a decimal uint64 without leading zeroes")
    try:
        root = base64.b64decode(root_text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise _bad(f"root hash {root_text!r} is not base64") from None
    if len(root) != HASH_SIZE or base64.b64encode(root).decode() != root_text:
        raise _bad(f"root hash {root_text!r} is not the base64 of a 32-byte hash")
    if any(not e for e in extensions):
        raise _bad("empty extension line")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The checkpoint as a signed note; the key name should match the origin."""
    return sign_note(checkpoint.body(), [signer])


def verify_checkpoint(
    note: str | bytes, log_key: NoteVerifier, *, origin: str | None = None
) -> Checkpoint:
    """Verify the log's signature on a checkpoint note and parse it.

    ``origin`` is the origin line the caller expects; by default the log key's name, since a
    log's key name should match its origin (tlog-checkpoint §Signatures). Other signatures
    (e.g. witness cosignatures) are ignored here. Raises :class:`VerificationError`.
    """
    opened = open_note(note, [log_key])
    checkpoint = parse_checkpoint(opened.text)
    expected = log_key.name if origin is None else origin
    if checkpoint.origin != expected:
        raise VerificationError(
            f"checkpoint is for log {checkpoint.origin!r}, expected {expected!r}"
        )
    return checkpoint
