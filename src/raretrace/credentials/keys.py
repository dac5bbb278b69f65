"""An issuer's Ed25519 key: its DID, its two verification method ids, its key file.

One key appears in the issuer's DID document as two verification methods, because DID Core
1.0 §5.2.1 allows one verification material property per method: a ``JsonWebKey`` with
``publicKeyJwk`` (what VC-JOSE-COSE §"Using Controlled Identifier Documents" requires; its id
is the JWS ``kid``) and a ``Multikey`` with ``publicKeyMultibase`` (what Data Integrity
proofs name in ``verificationMethod``). Their fragments come from the key itself — the JWK
thumbprint (RFC 7638) and the Multikey value — so a new key never collides with an old one.

The key file is JSON, readable only by its owner (``files.write_issuer_key``)::

    {"type": "raretrace-issuer-key", "did": "did:web:council.example",
     "key_id": "did:web:council.example#<thumbprint>",
     "multikey_id": "did:web:council.example#z6Mk...",
     "publicKeyMultibase": "z6Mk...", "secretKeyMultibase": "z3u2...", "created": "..."}
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from raretrace.credentials.didweb import parse_did_web
from raretrace.credentials.multibase import (
    parse_public_multikey,
    parse_secret_multikey,
    public_multikey,
    secret_multikey,
)
from raretrace.domain.errors import ConfigError, VerificationError

KEY_FILE_TYPE = "raretrace-issuer-key"


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ed25519_jwk(raw_public: bytes) -> dict[str, str]:
    """The public JWK of an Ed25519 key (RFC 8037 §2): kty OKP, crv Ed25519, x."""
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public)}


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url) of an OKP JWK: its required members only."""
    members = {k: jwk[k] for k in ("crv", "kty", "x")}
    data = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(data).digest())


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """An issuer's signing key and the ids it is published under."""

    did: str
    private_key: Ed25519PrivateKey
    created: str

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def jwk(self) -> dict[str, str]:
        return ed25519_jwk(self.public_bytes)

    @property
    def key_id(self) -> str:
        """The ``JsonWebKey`` verification method id: the JWS ``kid``."""
        return f"{self.did}#{jwk_thumbprint(self.jwk)}"

    @property
    def multikey(self) -> str:
        return public_multikey(self.public_bytes)

    @property
    def multikey_id(self) -> str:
        """The ``Multikey`` verification method id: a Data Integrity ``verificationMethod``."""
        return f"{self.did}#{self.multikey}"

    def to_json(self) -> dict[str, Any]:
        """The key file's content (holds the secret key)."""
        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {
            "type": KEY_FILE_TYPE,
            "did": self.did,
            "key_id": self.key_id,
            "multikey_id": self.multikey_id,
            "publicKeyMultibase": self.multikey,
            "secretKeyMultibase": secret_multikey(seed),
            "created": self.created,
        }


def new_issuer_key(did: str, *, created: str, seed: bytes | None = None) -> IssuerKey:
    """A fresh key for ``did`` (checked as did:web), or one from ``seed`` (tests, demo)."""
    parse_did_web(did)
    private = Ed25519PrivateKey.from_private_bytes(seed) if seed else Ed25519PrivateKey.generate()
    return IssuerKey(did=did, private_key=private, created=created)


def parse_issuer_key(obj: object, source: str) -> IssuerKey:
    """An IssuerKey from a key file's JSON; ConfigError naming what is wrong with it."""
    if not isinstance(obj, dict) or obj.get("type") != KEY_FILE_TYPE:
        raise ConfigError(
            f'{source} is not an issuer key file (no "type": "{KEY_FILE_TYPE}");'
            " make one with `raretrace issuer keygen`"
        )
    did = obj.get("did")
    if not isinstance(did, str):
        raise ConfigError(f'{source}: "did" is missing')
    parse_did_web(did)
    try:
        seed = parse_secret_multikey(obj.get("secretKeyMultibase"), f"{source}: secretKeyMultibase")
        private = Ed25519PrivateKey.from_private_bytes(seed)
        key = IssuerKey(did=did, private_key=private, created=str(obj.get("created", "")))
        if parse_public_multikey(obj.get("publicKeyMultibase"), "publicKeyMultibase") != (
            key.public_bytes
        ):
            raise VerificationError("its publicKeyMultibase is not the secret key's public key")
    except VerificationError as exc:
        raise ConfigError(f"{source}: {exc.message}") from None
    for field, expected in (("key_id", key.key_id), ("multikey_id", key.multikey_id)):
        if obj.get(field) != expected:
            raise ConfigError(
                f"{source}: {field} {obj.get(field)!r} does not match the key "
                f"({expected!r}); the file was edited — restore it"
            )
    return key
