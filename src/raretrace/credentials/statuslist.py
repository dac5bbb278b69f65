"""Revocation with the W3C Bitstring Status List v1.0: entries, lists, their state.

A credential's ``credentialStatus`` is a ``BitstringStatusListEntry`` pointing at bit
``statusListIndex`` of a status list credential (a ``BitstringStatusListCredential`` the
issuer signs and publishes as a static file). The list's ``encodedList`` is ``u`` +
base64url (no padding) of the GZIP of the bitstring (§2.2), at least 16 KB = 131,072
entries (§6.1 "herd privacy"), index 0 being the left-most bit: the most significant bit of
the first byte (§5.1 Bitstring Encoding). Indexes are handed out at random (§2.1 SHOULD).
Everything here is pure; ``statusfile`` keeps a list's state on disk.
"""

from __future__ import annotations

import gzip
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from raretrace.credentials.datamodel import VC_CONTEXT
from raretrace.credentials.multibase import decode_base64url, encode_base64url
from raretrace.domain.errors import ConfigError, NotFound, ValidationError, VerificationError

MIN_ENTRIES = 131_072
PURPOSES = ("revocation", "suspension")
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_TYPE = "BitstringStatusListCredential"
SUBJECT_TYPE = "BitstringStatusList"
# A list larger than this (134 million entries) is refused rather than inflated.
MAX_LIST_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class StatusBits:
    """A status bitstring; bit ``i`` is bit ``7 - i % 8`` of byte ``i // 8``."""

    data: bytes

    @classmethod
    def zeros(cls, length: int = MIN_ENTRIES) -> StatusBits:
        if length < MIN_ENTRIES or length % 8:
            raise ConfigError(
                f"a status list holds at least {MIN_ENTRIES} entries, a multiple of"
                f" 8 (Bitstring Status List §6.1); got {length}"
            )
        return cls(bytes(length // 8))

    def __len__(self) -> int:
        return len(self.data) * 8

    def get(self, index: int) -> bool:
        self._check(index)
        return bool(self.data[index // 8] & (0x80 >> (index % 8)))

    def with_bit(self, index: int, value: bool) -> StatusBits:
        """A copy with bit ``index`` set (True) or cleared (False)."""
        self._check(index)
        data = bytearray(self.data)
        mask = 0x80 >> (index % 8)
        data[index // 8] = data[index // 8] | mask if value else data[index // 8] & ~mask
        return StatusBits(bytes(data))

    def set_indexes(self) -> list[int]:
        """The indexes whose bit is 1, ascending."""
        return [
            i * 8 + b
            for i, byte in enumerate(self.data)
            if byte
            for b in range(8)
            if byte & (0x80 >> b)
        ]

    def encode(self) -> str:
        """``encodedList``: multibase base64url of the GZIP (fixed mtime: same bits, same text)."""
        return encode_base64url(gzip.compress(self.data, mtime=0))

    @classmethod
    def decode(cls, encoded: object) -> StatusBits:
        """The bits of an ``encodedList``; VerificationError if it is not one."""
        compressed = decode_base64url(encoded, "encodedList")
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP framing, RFC 1952
        try:
            data = inflater.decompress(compressed, MAX_LIST_BYTES + 1)
        except zlib.error as exc:
            raise VerificationError(f"encodedList is not GZIP data (RFC 1952): {exc}") from None
        if len(data) > MAX_LIST_BYTES:
            raise VerificationError(
                f"encodedList inflates to more than {MAX_LIST_BYTES} bytes; refused"
            )
        if not inflater.eof:
            raise VerificationError("encodedList is a truncated GZIP stream")
        return cls(data)

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self):
            raise VerificationError(
                f"status index {index} is outside the list (0 to"
                f" {len(self) - 1}; Bitstring Status List RANGE_ERROR)"
            )


def status_entry(*, list_url: str, index: int, purpose: str = "revocation") -> dict[str, Any]:
    """The ``credentialStatus`` of a credential holding bit ``index`` of the list (§2.1)."""
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    *,
    list_url: str,
    issuer: str,
    purpose: str,
    bits: StatusBits,
    valid_from: str,
    valid_until: str,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` publishing ``bits`` (§2.2)."""
    return {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_TYPE],
        "issuer": issuer,
        "validFrom": valid_from,
        "validUntil": valid_until,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": SUBJECT_TYPE,
            "statusPurpose": purpose,
            "encodedList": bits.encode(),
        },
    }


@dataclass(frozen=True, slots=True)
class StatusResult:
    """What a status list says about one credential's entry."""

    purpose: str
    index: int
    list_url: str
    is_set: bool


def parse_entry(entry: object) -> tuple[str, str, int]:
    """``(list URL, purpose, index)`` of a BitstringStatusListEntry; VerificationError else."""
    if not isinstance(entry, dict) or entry.get("type") != ENTRY_TYPE:
        kind = entry.get("type") if isinstance(entry, dict) else type(entry).__name__
        raise VerificationError(
            f"credentialStatus of type {kind!r} is not supported (raretrace checks {ENTRY_TYPE})"
        )
    url, purpose, index = (
        entry.get(k) for k in ("statusListCredential", "statusPurpose", "statusListIndex")
    )
    if not isinstance(url, str) or not isinstance(purpose, str):
        raise VerificationError(f"the {ENTRY_TYPE} lacks statusListCredential or statusPurpose")
    if not isinstance(index, str) or not index.isascii() or not index.isdigit():
        raise VerificationError(
            f"statusListIndex {index!r} is not a base-10 integer string"
            " (Bitstring Status List §2.1)"
        )
    if entry.get("statusSize", 1) != 1:
        raise VerificationError(
            f"statusSize {entry.get('statusSize')!r} is not supported"
            " (raretrace checks 1-bit revocation and suspension entries)"
        )
    return url, purpose, int(index)


def check_status(entry: object, list_credential: Mapping[str, Any]) -> StatusResult:
    """Read an entry's bit from an (already verified) status list credential (§3.2)."""
    url, purpose, index = parse_entry(entry)
    types = list_credential.get("type")
    if not isinstance(types, list) or LIST_TYPE not in types:
        raise VerificationError(f"the status list is not a {LIST_TYPE} (type {types!r})")
    if list_credential.get("id", url) != url:
        raise VerificationError(
            f"the status list is {list_credential.get('id')!r}, not"
            f" {url!r} that the credential names"
        )
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("type") != SUBJECT_TYPE:
        raise VerificationError(f"the status list's credentialSubject is not a {SUBJECT_TYPE}")
    purposes = subject.get("statusPurpose")
    purposes = purposes if isinstance(purposes, list) else [purposes]
    if purpose not in purposes:
        raise VerificationError(
            f"the status list is for {purposes!r}, not {purpose!r} (STATUS_VERIFICATION_ERROR)"
        )
    bits = StatusBits.decode(subject.get("encodedList"))
    if len(bits) < MIN_ENTRIES:
        raise VerificationError(
            f"the status list has {len(bits)} entries, fewer than the"
            f" {MIN_ENTRIES} herd privacy needs (STATUS_LIST_LENGTH_ERROR)"
        )
    return StatusResult(purpose=purpose, index=index, list_url=url, is_set=bits.get(index))


@dataclass(frozen=True, slots=True)
class StatusChange:
    """Why and when a bit was set."""

    reason: str
    time: str


@dataclass(frozen=True, slots=True)
class StatusListState:
    """An issuer's status list between runs: which indexes are handed out, which are set."""

    list_url: str
    issuer: str
    purpose: str
    length: int = MIN_ENTRIES
    allocated: Mapping[int, str] = field(default_factory=dict)
    changes: Mapping[int, StatusChange] = field(default_factory=dict)
    #: What each allocated index's credential is about (e.g. ``lot MAG-1``), if known.
    about: Mapping[int, str] = field(default_factory=dict)

    def bits(self) -> StatusBits:
        bits = StatusBits.zeros(self.length)
        data = bytearray(bits.data)
        for index in self.changes:
            data[index // 8] |= 0x80 >> (index % 8)
        return StatusBits(bytes(data))

    def allocate(
        self, credential_id: str, *, about: str | None = None
    ) -> tuple[StatusListState, int]:
        """A fresh random index for ``credential_id`` and the state that records it."""
        if len(self.allocated) >= self.length:
            raise ConfigError(
                f"status list {self.list_url} is full ({self.length} entries);"
                " start a new list with another --url and --out"
            )
        while (index := secrets.randbelow(self.length)) in self.allocated:
            pass
        described = {**self.about, index: about} if about else self.about
        state = replace(self, allocated={**self.allocated, index: credential_id}, about=described)
        return state, index

    def index_of(self, credential_id: str) -> int:
        """The index given to ``credential_id``; NotFound naming the list if none was."""
        for index, given in self.allocated.items():
            if given == credential_id:
                return index
        raise NotFound(
            f"credential {credential_id!r} holds no index of status list {self.list_url}"
            " (it was not issued with this list); give the credential's id as `certify`"
            " printed it, and the --status-list it was issued with"
        )

    def set(self, index: int, *, reason: str, time: str) -> StatusListState:
        """The state with bit ``index`` set (revoked or suspended) for ``reason``."""
        if index not in self.allocated:
            raise ValidationError(
                "status-index-unknown",
                f"status list {self.list_url}",
                f"index {index} was never given to a credential; check the"
                " credential's credentialStatus.statusListIndex",
            )
        if not reason.strip():
            raise ValidationError(
                "status-reason",
                f"index {index}",
                "say why (--reason); the reason is kept in the state file",
            )
        if index in self.changes:
            return self
        return replace(self, changes={**self.changes, index: StatusChange(reason, time)})

    def clear(self, index: int) -> StatusListState:
        """The state with bit ``index`` cleared: only for suspension, which is reversible."""
        if self.purpose == "revocation":
            raise ValidationError(
                "revocation-final",
                f"status list {self.list_url}",
                f"index {index} cannot be cleared: revocation is not"
                " reversible (Bitstring Status List §2.1); use a suspension"
                " list for holds that may be lifted",
            )
        return replace(self, changes={k: v for k, v in self.changes.items() if k != index})
