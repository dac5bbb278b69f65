"""DID documents: the one an issuer publishes, and the ones a verifier trusts.

A verifier's trust is a list of DID documents it was given as files (``--trust``); nothing
is resolved over the network. A key counts for a credential only when a trusted document
lists it as a verification method, names it in ``assertionMethod`` (DID Core 1.0 §5.3.2),
and is the document of the DID the credential names as its issuer.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from raretrace.credentials.keys import IssuerKey, b64url
from raretrace.credentials.multibase import parse_public_multikey
from raretrace.domain.errors import ConfigError, VerificationError

DID_CONTEXTS = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/jwk/v1",
    "https://w3id.org/security/multikey/v1",
]


def did_document(keys: Iterable[IssuerKey]) -> dict[str, Any]:
    """The did:web DID document listing ``keys`` (all of one DID), for /.well-known/did.json.

    Each key is published twice (see ``keys``): as a JsonWebKey and as a Multikey; both are
    assertion and authentication methods. Keep old keys listed while credentials they signed
    are still in use.
    """
    keys = list(keys)
    dids = {k.did for k in keys}
    if len(dids) != 1:
        raise ConfigError(
            f"the keys belong to {len(dids)} DIDs ({', '.join(sorted(dids))}); a DID"
            " document lists the keys of one DID: pass keys of one issuer"
        )
    did = keys[0].did
    methods: list[dict[str, Any]] = []
    for key in keys:
        methods.append(
            {"id": key.key_id, "type": "JsonWebKey", "controller": did, "publicKeyJwk": key.jwk}
        )
        methods.append(
            {
                "id": key.multikey_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.multikey,
            }
        )
    ids = [m["id"] for m in methods]
    return {
        "@context": DID_CONTEXTS,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": list(ids),
    }


@dataclass(frozen=True, slots=True)
class TrustedMethod:
    """A verification method of a trusted DID document, with its raw Ed25519 key."""

    id: str
    did: str
    public_key: bytes
    assertion: bool


@dataclass(frozen=True, slots=True)
class Trust:
    """What a verifier trusts: verification methods by id, and the trusted DIDs."""

    methods: Mapping[str, TrustedMethod]
    dids: frozenset[str]
    sources: Mapping[str, str]

    def assertion_key(self, method_id: str, issuer: str, what: str) -> TrustedMethod:
        """The trusted key ``method_id`` names, for a credential claiming ``issuer``.

        Fails with the named reason: unknown issuer (no trusted document for its DID),
        untrusted key (the issuer's document does not list it), key not for assertions, or
        issuer mismatch (the key belongs to another trusted issuer).
        """
        method = self.methods.get(method_id)
        if method is None:
            if issuer not in self.dids:
                raise VerificationError(
                    f"unknown issuer: {what} names issuer {issuer!r}, and no trusted DID"
                    f" document is for it (trusted: {', '.join(sorted(self.dids)) or 'none'});"
                    " pass the issuer's did.json with --trust if you trust it"
                )
            raise VerificationError(
                f"untrusted key: {what} is signed with {method_id!r}, which the trusted DID"
                f" document of {issuer} ({self.sources[issuer]}) does not list; get the"
                " issuer's current did.json"
            )
        if not method.assertion:
            raise VerificationError(
                f"untrusted key: {method_id!r} is not an assertionMethod of "
                f"{method.did}, so it may not issue credentials"
            )
        if method.did != issuer:
            raise VerificationError(
                f"issuer mismatch: {what} names issuer {issuer!r} but is signed with"
                f" {method_id!r}, a key of {method.did!r}"
            )
        return method


def build_trust(documents: Iterable[tuple[str, object]]) -> Trust:
    """Trust from ``(source name, parsed JSON)`` DID documents; ConfigError on a bad one."""
    methods: dict[str, TrustedMethod] = {}
    sources: dict[str, str] = {}
    for source, doc in documents:
        did, found = _parse_document(doc, source)
        if did in sources:
            raise ConfigError(
                f"two trusted DID documents for {did} ({sources[did]} and"
                f" {source}); pass one, listing every key"
            )
        sources[did] = source
        methods.update({m.id: m for m in found})
    return Trust(methods=methods, dids=frozenset(sources), sources=sources)


def _parse_document(doc: object, source: str) -> tuple[str, list[TrustedMethod]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        raise ConfigError(f'{source} is not a DID document (a JSON object with an "id")')
    did: str = doc["id"]
    if not did.startswith("did:"):
        raise ConfigError(f"{source}: id {did!r} is not a DID")
    assertion = {
        _absolute(did, ref if isinstance(ref, str) else _get_id(ref))
        for ref in _list(doc.get("assertionMethod"))
    }
    raw = _list(doc.get("verificationMethod")) + [
        m for m in _list(doc.get("assertionMethod")) if isinstance(m, dict)
    ]
    found: list[TrustedMethod] = []
    for method in raw:
        parsed = _parse_method(method, did, source)
        if parsed is not None:
            found.append(
                TrustedMethod(
                    id=parsed[0], did=did, public_key=parsed[1], assertion=parsed[0] in assertion
                )
            )
    return did, found


def _parse_method(method: object, did: str, source: str) -> tuple[str, bytes] | None:
    """``(absolute id, raw Ed25519 key)``, or None for key types raretrace does not use."""
    if not isinstance(method, dict) or not isinstance(method.get("id"), str):
        raise ConfigError(f'{source}: a verificationMethod has no "id"')
    vm_id = _absolute(did, method["id"])
    controller = method.get("controller", did)
    if controller != did or not vm_id.startswith(did + "#"):
        raise ConfigError(
            f"{source}: verification method {vm_id!r} is controlled by"
            f" {controller!r}, not by the document's DID {did!r}"
        )
    if "publicKeyJwk" in method and "publicKeyMultibase" in method:
        raise ConfigError(
            f"{source}: {vm_id!r} has both publicKeyJwk and publicKeyMultibase"
            " (DID Core 1.0 §5.2.1 allows one); list them as two methods"
        )
    try:
        if isinstance(method.get("publicKeyJwk"), dict):
            raw = _jwk_key(method["publicKeyJwk"], vm_id)
            return None if raw is None else (vm_id, raw)
        if "publicKeyMultibase" in method:
            text = method["publicKeyMultibase"]
            if isinstance(text, str) and text.startswith("z6Mk"):
                return vm_id, parse_public_multikey(text, f"{vm_id} publicKeyMultibase")
    except VerificationError as exc:
        raise ConfigError(f"{source}: {exc.message}") from None
    return None  # another key type (P-256, RSA ...): never matches an Ed25519 signature


def _jwk_key(jwk: dict[str, Any], vm_id: str) -> bytes | None:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    if "d" in jwk:
        raise VerificationError(
            f'{vm_id} publishes a private key ("d"); never trust this file,'
            " and have the issuer make a new key"
        )
    x = jwk.get("x")
    raw = _b64url_decode(x) if isinstance(x, str) else b""
    if len(raw) != 32:
        raise VerificationError(f"{vm_id} publicKeyJwk x is not a 32-byte base64url Ed25519 key")
    return raw


def _b64url_decode(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return b""
    return raw if b64url(raw) == text else b""


def _absolute(did: str, ref: str) -> str:
    return did + ref if ref.startswith("#") else ref


def _get_id(obj: object) -> str:
    return obj["id"] if isinstance(obj, dict) and isinstance(obj.get("id"), str) else ""


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
