"""Multibase and Multikey codecs for Ed25519 keys, proof values and status lists.

Multibase prefixes (W3C Controlled Identifiers v1.0 §2.4 and the multibase table): ``z`` is
base58btc (Bitcoin alphabet), ``u`` is base64url without padding. A Multikey is the
multicodec header of the key type followed by the raw key: ``0xed 0x01`` for an Ed25519
public key, ``0x80 0x26`` for an Ed25519 secret key (CID v1.0 §2.2.2), so an Ed25519 public
Multikey always starts ``z6Mk``.
"""

from __future__ import annotations

import base64
import binascii

import base58

from raretrace.domain.errors import VerificationError

ED25519_PUBLIC_HEADER = b"\xed\x01"
ED25519_SECRET_HEADER = b"\x80\x26"
ED25519_KEY_BYTES = 32


def encode_base58btc(data: bytes) -> str:
    """``z`` + base58btc(data)."""
    return "z" + base58.b58encode(data, alphabet=base58.BITCOIN_ALPHABET).decode("ascii")


def decode_base58btc(text: object, what: str) -> bytes:
    """The bytes of a ``z``-prefixed base58btc multibase string, or VerificationError."""
    if not isinstance(text, str) or not text.startswith("z") or len(text) < 2:
        raise VerificationError(f"{what} must be a base58btc multibase string (z...), got {text!r}")
    try:
        return base58.b58decode(text[1:], alphabet=base58.BITCOIN_ALPHABET)
    except ValueError:
        raise VerificationError(f"{what} {text[:24]!r}... is not valid base58btc") from None


def encode_base64url(data: bytes) -> str:
    """``u`` + base64url(data) without padding (RFC 4648 §5)."""
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_base64url(text: object, what: str) -> bytes:
    """The bytes of a ``u``-prefixed base64url (no padding) multibase string."""
    if not isinstance(text, str) or not text.startswith("u"):
        raise VerificationError(
            f"{what} must be a base64url multibase string (u...), got {str(text)[:24]!r}"
        )
    body = text[1:]
    if "=" in body or any(c in body for c in "+/"):
        raise VerificationError(f"{what} is not base64url without padding (RFC 4648 §5)")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise VerificationError(f"{what} is not valid base64url") from None


def public_multikey(raw: bytes) -> str:
    """The ``publicKeyMultibase`` of a 32-byte Ed25519 public key (``z6Mk...``)."""
    return encode_base58btc(ED25519_PUBLIC_HEADER + raw)


def secret_multikey(seed: bytes) -> str:
    """The ``secretKeyMultibase`` of a 32-byte Ed25519 private key seed."""
    return encode_base58btc(ED25519_SECRET_HEADER + seed)


def parse_public_multikey(text: object, what: str) -> bytes:
    """The raw 32-byte Ed25519 public key of a ``publicKeyMultibase`` value."""
    return _unwrap(decode_base58btc(text, what), ED25519_PUBLIC_HEADER, what, "public")


def parse_secret_multikey(text: object, what: str) -> bytes:
    """The 32-byte Ed25519 seed of a ``secretKeyMultibase`` value."""
    return _unwrap(decode_base58btc(text, what), ED25519_SECRET_HEADER, what, "secret")


def _unwrap(data: bytes, header: bytes, what: str, kind: str) -> bytes:
    if data[:2] != header or len(data) != 2 + ED25519_KEY_BYTES:
        raise VerificationError(
            f"{what} is not an Ed25519 {kind} Multikey (expected header 0x{header.hex()} and "
            f"{ED25519_KEY_BYTES} key bytes, got header 0x{data[:2].hex()} and "
            f"{max(len(data) - 2, 0)} bytes)"
        )
    return data[2:]
