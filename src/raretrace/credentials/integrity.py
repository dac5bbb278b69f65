"""Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite (W3C Data Integrity EdDSA
Cryptosuites v1.0, §3.3), byte for byte as the W3C test vectors.

Signing (§3.3.1 Create Proof): the proof options, given the document's ``@context``, are the
proof configuration; both it and the document (without ``proof``) are canonicalized with RFC
8785 JCS (§3.3.3, §3.3.5); the signed data is SHA-256(config) ‖ SHA-256(document) (§3.3.4,
proof hash first); ``proofValue`` is ``z`` + base58btc of the 64-byte Ed25519 signature.
Checking (§3.3.2 Verify Proof) rebuilds the same bytes from the secured document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from raretrace.credentials.datamodel import credential_issuer, parse_datetime
from raretrace.credentials.diddoc import Trust
from raretrace.credentials.jose import Secured
from raretrace.credentials.keys import IssuerKey
from raretrace.credentials.multibase import decode_base58btc, encode_base58btc
from raretrace.domain.errors import ConfigError, VerificationError

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PURPOSE = "assertionMethod"


def jcs(value: Any, what: str) -> bytes:
    """RFC 8785 canonical bytes, or VerificationError if the value has none."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise VerificationError(f"{what} has no RFC 8785 canonical form: {exc}") from None


def proof_configuration(unsecured: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The proof options with the document's ``@context`` (§3.3.1 step 2, §3.3.5)."""
    config = dict(options)
    if config.get("type") != PROOF_TYPE or config.get("cryptosuite") != CRYPTOSUITE:
        raise VerificationError(
            f"the proof is not a {PROOF_TYPE} of cryptosuite {CRYPTOSUITE} (type"
            f" {config.get('type')!r}, cryptosuite {config.get('cryptosuite')!r})"
        )
    if "created" in config:
        parse_datetime(config["created"], "proof created")
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    return config


def hash_data(canonical_document: bytes, canonical_config: bytes) -> bytes:
    """SHA-256(proof configuration) ‖ SHA-256(document): 64 bytes (§3.3.4)."""
    return hashlib.sha256(canonical_config).digest() + hashlib.sha256(canonical_document).digest()


def add_proof(
    unsecured: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: str,
) -> dict[str, Any]:
    """The document with an ``eddsa-jcs-2022`` proof by ``private_key`` (§3.3.1)."""
    if "proof" in unsecured:
        raise ConfigError("the document already has a proof; sign the unsecured document")
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": PURPOSE,
    }
    proof = proof_configuration(unsecured, options)
    data = hash_data(jcs(dict(unsecured), "the document"), jcs(proof, "the proof options"))
    proof["proofValue"] = encode_base58btc(private_key.sign(data))
    return {**unsecured, "proof": proof}


def sign_data_integrity(
    credential: Mapping[str, Any], key: IssuerKey, *, created: str
) -> dict[str, Any]:
    """The credential secured with an eddsa-jcs-2022 proof by the issuer's Multikey method."""
    if credential_issuer(credential) != key.did:
        raise ConfigError(
            f"the credential's issuer {credential_issuer(credential)!r} is not the"
            f" key's DID {key.did!r}; set \"issuer\" to the key's DID"
        )
    return add_proof(
        credential, key.private_key, verification_method=key.multikey_id, created=created
    )


def verify_proof(
    secured: Mapping[str, Any], public_key: bytes, *, what: str = "the credential"
) -> dict[str, Any]:
    """Check the proof against a raw Ed25519 key; returns the unsecured document (§3.3.2)."""
    unsecured, options, signature = _split(secured, what)
    data = hash_data(
        jcs(unsecured, what), jcs(proof_configuration(unsecured, options), "the proof")
    )
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except InvalidSignature:
        raise VerificationError(
            f"bad signature: {what}'s Data Integrity proof does not verify with"
            f" {options.get('verificationMethod')}; it was changed after signing"
        ) from None
    return unsecured


def verify_data_integrity(
    secured: Mapping[str, Any], trust: Trust, *, what: str = "the credential"
) -> Secured:
    """Check an eddsa-jcs-2022 secured credential against ``trust``; VerificationError if not."""
    _unsecured, options, _signature = _split(secured, what)
    method_id = options.get("verificationMethod")
    if not isinstance(method_id, str):
        raise VerificationError(f"{what}: the proof has no verificationMethod")
    issuer = credential_issuer(secured)
    method = trust.assertion_key(method_id, issuer, what)
    verify_proof(secured, method.public_key, what=what)
    return Secured(credential=dict(secured), securing="di", method=method_id, issuer=issuer)


def _split(secured: Mapping[str, Any], what: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    proof = secured.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if not isinstance(proof, dict):
        raise VerificationError(
            f'{what} has no single Data Integrity proof ("proof" is '
            f"{type(proof).__name__}); proof sets and chains are not supported"
        )
    if proof.get("proofPurpose") != PURPOSE:
        raise VerificationError(
            f"{what}: proofPurpose {proof.get('proofPurpose')!r} is not"
            f" {PURPOSE!r}, so the proof does not assert the credential"
        )
    signature = decode_base58btc(proof.get("proofValue"), f"{what} proofValue")
    if len(signature) != 64:
        raise VerificationError(
            f"{what} proofValue holds {len(signature)} bytes, not a 64-byte Ed25519 signature"
        )
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options:
        # §3.3.2 step 4: the document's @context must start with the proof's, in order.
        mine, theirs = _as_list(unsecured.get("@context")), _as_list(options["@context"])
        if mine[: len(theirs)] != theirs:
            raise VerificationError(
                f"{what}: the document's @context does not start with the"
                " proof's @context; it was changed after signing"
            )
        unsecured["@context"] = options["@context"]
    return unsecured, options, signature


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]
