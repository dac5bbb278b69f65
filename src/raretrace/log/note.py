"""C2SP signed-note (https://c2sp.org/signed-note): text signed by one or more keys.

Parsing follows the spec and Go's ``golang.org/x/mod/sumdb/note`` exactly: the text ends in a
newline and is separated from the signature lines by the last blank line; every signature line
is ``— <key name> <base64(key id || signature)>``; signatures from unknown keys are ignored, a
signature from a known key must verify, and at least one must. Keys use the Go text formats
``PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>`` and ``<name>+<hex id>+<base64(type ||
public key)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Protocol, Self, TypeVar, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from raretrace.domain.errors import ConfigError, VerificationError

__all__ = [
    "SIG_TYPE_ED25519",
    "Ed25519Signer",
    "Ed25519Verifier",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "OpenedNote",
    "TypedPrivateKey",
    "TypedPublicKey",
    "UnverifiedNote",
    "add_signatures",
    "format_skey",
    "format_vkey",
    "generate_key",
    "is_valid_key_name",
    "key_id",
    "open_note",
    "parse_note_unverified",
    "parse_skey",
    "parse_vkey",
    "sign_note",
]

SIG_TYPE_ED25519 = 0x01  # signed-note §Signature types
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # the spec asks for at least 16; Go's sumdb/note stops at 100


class NoteSigner(Protocol):
    """Anything that can add a signature line: a key name, a key id and a signing function."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, text: bytes) -> bytes:
        """The signature bytes that follow the 4-byte key id."""
        ...


class NoteVerifier(Protocol):
    """A trusted key: checks the signature bytes (after the key id) over the note text."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> None:
        """Raise :class:`VerificationError` unless ``signature`` is valid over ``text``."""
        ...


def key_id(name: str, sig_type: int, public_key: bytes) -> int:
    """signed-note §Signatures: ``SHA-256(name || 0x0A || type || public key)[:4]``."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty, with no Unicode spaces and no ``+`` (signed-note §Format)."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _b64decode(text: str) -> bytes:
    """Standard base64 (RFC 4648 §4), padding required, no stray characters."""
    return base64.b64decode(text.encode("ascii"), validate=True)


_HEX_ID = re.compile(r"[0-9a-fA-F]{8}")


def _parse_key_fields(name: str, id_hex: str, key64: str, what: str) -> tuple[int, bytes]:
    """Check the common fields of an skey/vkey; return (key id, type byte || key material)."""
    try:
        material = _b64decode(key64)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        material = b""
    if not is_valid_key_name(name) or not _HEX_ID.fullmatch(id_hex) or not material:
        raise ConfigError(
            f"malformed {what}: expected <name>+<8 hex digits>+<base64 key>, "
            f"with a name free of spaces and '+'"
        )
    return int(id_hex, 16), material


def parse_vkey(vkey: str) -> tuple[str, int, int, bytes]:
    """Split a verifier key into (name, key id, signature type, public key); check the id."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise ConfigError("malformed verifier key: expected <name>+<hex id>+<base64 key>")
    name, id_hex, key64 = parts
    kid, material = _parse_key_fields(name, id_hex, key64, "verifier key")
    sig_type, public_key = material[0], material[1:]
    if key_id(name, sig_type, public_key) != kid:
        raise ConfigError(
            f"verifier key {name}: key id {id_hex} does not match the key "
            f"(expected {key_id(name, sig_type, public_key):08x})"
        )
    return name, kid, sig_type, public_key


def format_vkey(name: str, sig_type: int, public_key: bytes) -> str:
    """``<name>+<hex key id>+<base64(type || public key)>``."""
    if not is_valid_key_name(name):
        raise ConfigError(f"invalid key name {name!r}: no spaces or '+' allowed, not empty")
    material = base64.b64encode(bytes([sig_type]) + public_key).decode()
    return f"{name}+{key_id(name, sig_type, public_key):08x}+{material}"


def parse_skey(skey: str, sig_type: int) -> tuple[str, Ed25519PrivateKey]:
    """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>`` for an Ed25519 type."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise ConfigError("malformed signer key: expected PRIVATE+KEY+<name>+<hex id>+<base64>")
    name, id_hex, key64 = parts[2:]
    kid, material = _parse_key_fields(name, id_hex, key64, "signer key")
    if material[0] != sig_type or len(material) != 33:
        raise ConfigError(
            f"signer key {name}: expected signature type 0x{sig_type:02x} and a 32-byte seed"
        )
    private = Ed25519PrivateKey.from_private_bytes(material[1:])
    if key_id(name, sig_type, private.public_key().public_bytes_raw()) != kid:
        raise ConfigError(f"signer key {name}: key id {id_hex} does not match the key")
    return name, private


def format_skey(name: str, sig_type: int, private: Ed25519PrivateKey) -> str:
    """``PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>`` (Go's sumdb/note format)."""
    seed = private.private_bytes_raw()
    kid = key_id(name, sig_type, private.public_key().public_bytes_raw())
    return f"PRIVATE+KEY+{name}+{kid:08x}+{base64.b64encode(bytes([sig_type]) + seed).decode()}"


@dataclass(frozen=True)
class TypedPublicKey:
    """An Ed25519 public key of one signed-note signature type, which its key id depends on.

    Subclasses set ``SIG_TYPE`` and the words their errors use, and define ``verify``.
    """

    SIG_TYPE: ClassVar[int]
    KEY_NOUN: ClassVar[str]  # what a vkey of this kind is called in errors
    TYPE_TEXT: ClassVar[str]  # the expected type, as errors name it

    name: str
    public_key: bytes
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        if len(self.public_key) != 32:
            raise ConfigError(f"Ed25519 public keys are 32 bytes, got {len(self.public_key)}")
        object.__setattr__(self, "key_id", key_id(self.name, self.SIG_TYPE, self.public_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        """Parse a ``<name>+<hex id>+<base64(type || public key)>`` verifier key."""
        name, _, sig_type, public_key = parse_vkey(vkey)
        if sig_type != cls.SIG_TYPE:
            raise ConfigError(
                f"{cls.KEY_NOUN} {name} has type 0x{sig_type:02x}, not {cls.TYPE_TEXT}"
            )
        return cls(name, public_key)

    @property
    def vkey(self) -> str:
        """The verifier key text."""
        return format_vkey(self.name, self.SIG_TYPE, self.public_key)


V = TypeVar("V", bound=TypedPublicKey)


@dataclass(frozen=True)
class Ed25519Verifier(TypedPublicKey):
    """An Ed25519 note verifier (signature type 0x01)."""

    SIG_TYPE: ClassVar[int] = SIG_TYPE_ED25519
    KEY_NOUN: ClassVar[str] = "verifier key"
    TYPE_TEXT: ClassVar[str] = "Ed25519 (0x01)"

    def verify(self, text: bytes, signature: bytes) -> None:
        """RFC 8032 Ed25519 over the note text."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            raise VerificationError(
                f"the signature by {self.name} ({self.key_id:08x}) does not verify"
            ) from None


class TypedPrivateKey(Generic[V]):
    """An Ed25519 private key of one signed-note signature type, with its public half.

    Subclasses set ``VERIFIER`` (the public key class, which gives the signature type) and
    ``NAME_ERROR`` (the complaint about a bad key name, after the name), and define ``sign``.
    """

    VERIFIER: ClassVar[type[TypedPublicKey]]
    NAME_ERROR: ClassVar[str]

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        if not is_valid_key_name(name):
            raise ConfigError(f"invalid {self.NAME_ERROR.format(name=name)}")
        self._name = name
        self._private = private_key
        public = private_key.public_key().public_bytes_raw()
        self._verifier = cast(V, self.VERIFIER(name, public))

    @property
    def name(self) -> str:
        """Key name."""
        return self._name

    @property
    def key_id(self) -> int:
        """Key id (uint32, computed with the key's signature type)."""
        return self._verifier.key_id

    @property
    def skey(self) -> str:
        """The private signer key text (keep it secret)."""
        return format_skey(self._name, self.VERIFIER.SIG_TYPE, self._private)

    def verifier(self) -> V:
        """The matching public verifier."""
        return self._verifier


class Ed25519Signer(TypedPrivateKey[Ed25519Verifier]):
    """An Ed25519 note signer (signature type 0x01)."""

    VERIFIER = Ed25519Verifier
    NAME_ERROR = "key name {name!r}: no spaces or '+' allowed, not empty"

    @classmethod
    def from_skey(cls, skey: str) -> Ed25519Signer:
        """Parse a ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`` signer key."""
        return cls(*parse_skey(skey, SIG_TYPE_ED25519))

    def sign(self, text: bytes) -> bytes:
        """Ed25519 signature over the note text (deterministic, RFC 8032)."""
        return self._private.sign(text)


def generate_key(name: str) -> tuple[str, str]:
    """A new Ed25519 note key: ``(skey, vkey)``."""
    signer = Ed25519Signer(name, Ed25519PrivateKey.generate())
    return signer.skey, signer.verifier().vkey


# --- notes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key id and the signature bytes after the id."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """The signature line, with its trailing newline."""
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(raw).decode()}\n"


@dataclass(frozen=True)
class UnverifiedNote:
    """A note split into text and signature lines, with nothing verified yet."""

    text: str
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class OpenedNote:
    """A note whose ``verified`` signatures all checked; ``unverified`` are from unknown keys."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def _malformed(reason: str) -> VerificationError:
    return VerificationError(f"malformed note: {reason}")


def _check_characters(text: str, what: str) -> None:
    """signed-note §Format: valid UTF-8 with no control characters other than newline."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _malformed(f"{what} is not valid UTF-8") from None
    for c in text:
        if c < " " and c != "\n":
            raise _malformed(f"{what} contains control character U+{ord(c):04X}")


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise _malformed(f"expected a signature line starting with an em dash, got {line[:40]!r}")
    name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        raw = _b64decode(b64)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if not is_valid_key_name(name) or len(raw) < 5:
        raise _malformed(f"bad signature line for key {name!r}")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def parse_note_unverified(note: str | bytes) -> UnverifiedNote:
    """Split a signed note into text and signatures, strictly, without verifying anything.

    The text MUST be ignored until a trusted signature is verified (signed-note §Note); use
    :func:`open_note` for that. This exists for tooling and for adding signatures.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("not valid UTF-8") from None
    _check_characters(note, "note")
    split = note.rfind("\n\n")  # the text ends at the last blank line
    if split < 0:
        raise _malformed("no blank line before a signature block")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise _malformed("the signature block is empty or does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"more than {MAX_SIGNATURES} signatures")
    return UnverifiedNote(text, tuple(_parse_signature_line(line) for line in lines))


def _index_verifiers(verifiers: Sequence[NoteVerifier]) -> dict[tuple[str, int], NoteVerifier]:
    known: dict[tuple[str, int], NoteVerifier] = {}
    for v in verifiers:
        if (v.name, v.key_id) in known:
            raise ConfigError(f"two trusted keys share name {v.name} and id {v.key_id:08x}")
        known[(v.name, v.key_id)] = v
    return known


def open_note(note: str | bytes, verifiers: Sequence[NoteVerifier]) -> OpenedNote:
    """Parse a note and verify its signatures against trusted keys (signed-note §Signatures).

    Signatures by unknown keys (name and id not both matching) are ignored and returned as
    ``unverified``; a known key's signature that fails rejects the whole note; with no
    verified signature the note is rejected. Raises :class:`VerificationError`.
    """
    parsed = parse_note_unverified(note)
    known = _index_verifiers(verifiers)
    text = parsed.text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for sig in parsed.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if any(v.name == sig.name and v.key_id == sig.key_id for v in verified):
            continue  # Go's sumdb/note drops repeated signatures by one key
        verifier.verify(text, sig.signature)
        verified.append(sig)
    if not verified:
        names = ", ".join(f"{v.name}+{v.key_id:08x}" for v in verifiers) or "none"
        raise VerificationError(
            f"note has no valid signature from a trusted key (trusted: {names}; "
            f"found: {', '.join(s.name for s in parsed.signatures)})"
        )
    return OpenedNote(parsed.text, tuple(verified), tuple(unverified))


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise _malformed("the text must end with a newline")
    _check_characters(text, "text")


def _signature_for(signer: NoteSigner, text: str) -> NoteSignature:
    if not is_valid_key_name(signer.name):
        raise ConfigError(f"invalid signer name {signer.name!r}")
    return NoteSignature(signer.name, signer.key_id, signer.sign(text.encode("utf-8")))


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign ``text`` (which must end in a newline) with each signer; return the signed note."""
    _check_text(text)
    if not signers:
        raise ConfigError("a signed note needs at least one signer")
    lines = [_signature_for(s, text).line() for s in signers]
    return text + "\n" + "".join(lines)


def add_signatures(note: str, signers: Sequence[NoteSigner]) -> str:
    """Add signatures to an existing note, keeping its other signature lines.

    An existing line by the same key (name and id) is replaced, as Go's ``note.Sign`` does.
    The existing signatures are not verified here; the caller has already opened the note.
    """
    parsed = parse_note_unverified(note)
    new = [_signature_for(s, parsed.text) for s in signers]
    replaced = {(s.name, s.key_id) for s in new}
    kept = [s for s in parsed.signatures if (s.name, s.key_id) not in replaced]
    return parsed.text + "\n" + "".join(s.line() for s in [*kept, *new])
