"""eddsa-jcs-2022 reproduces the W3C test vectors byte for byte, and no byte can change."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from credential_support import NOW, credential, read_vector, vector_json
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from raretrace.credentials import (
    add_proof,
    build_trust,
    secure,
    verify_data_integrity,
    verify_proof,
)
from raretrace.credentials.integrity import hash_data, jcs, proof_configuration
from raretrace.credentials.multibase import (
    decode_base58btc,
    parse_public_multikey,
    parse_secret_multikey,
    public_multikey,
)
from raretrace.domain.errors import ConfigError, VerificationError

KEYS = vector_json("keyPair.json")
SEED = parse_secret_multikey(KEYS["privateKeyMultibase"], "privateKeyMultibase")
PUBLIC = parse_public_multikey(KEYS["publicKeyMultibase"], "publicKeyMultibase")
UNSIGNED = vector_json("unsigned.json")
OPTIONS = vector_json("eddsa-jcs-2022/proofConfigJCS.json")
SIGNED_BYTES = read_vector("eddsa-jcs-2022/signedJCS.json")
DID_KEY = OPTIONS["verificationMethod"].split("#")[0]


def _text(name: str) -> str:
    return read_vector(f"eddsa-jcs-2022/{name}").decode("ascii").strip()


def _options_without_context() -> dict[str, Any]:
    return {k: v for k, v in OPTIONS.items() if k != "@context"}


def test_the_key_pair_decodes_to_a_matching_ed25519_pair() -> None:
    derived = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes_raw()
    assert derived == PUBLIC
    assert public_multikey(PUBLIC) == KEYS["publicKeyMultibase"]


def test_canonical_document_and_proof_configuration_equal_the_vectors() -> None:
    assert jcs(UNSIGNED, "doc") == read_vector("eddsa-jcs-2022/canonDocJCS.txt")
    config = proof_configuration(UNSIGNED, _options_without_context())
    assert config == OPTIONS  # the document's @context is carried into the proof options
    assert jcs(config, "proof") == read_vector("eddsa-jcs-2022/proofCanonJCS.txt")


def test_both_hashes_and_the_combined_hash_equal_the_vectors() -> None:
    doc = read_vector("eddsa-jcs-2022/canonDocJCS.txt")
    proof = read_vector("eddsa-jcs-2022/proofCanonJCS.txt")
    assert hashlib.sha256(doc).hexdigest() == _text("docHashJCS.txt")
    assert hashlib.sha256(proof).hexdigest() == _text("proofHashJCS.txt")
    assert hash_data(doc, proof).hex() == _text("combinedHashJCS.txt")


def test_signature_proof_value_and_the_whole_signed_document_equal_the_vectors() -> None:
    signed = add_proof(
        UNSIGNED,
        Ed25519PrivateKey.from_private_bytes(SEED),
        verification_method=OPTIONS["verificationMethod"],
        created=OPTIONS["created"],
    )
    proof_value = signed["proof"]["proofValue"]
    assert proof_value == _text("sigBTC58JCS.txt")
    assert decode_base58btc(proof_value, "proofValue").hex() == _text("sigHexJCS.txt")
    assert signed == json.loads(SIGNED_BYTES)
    # Same members in the same order: the vector file's own bytes, as printed with indent 2.
    assert json.dumps(signed, indent=2, ensure_ascii=False).encode() == SIGNED_BYTES


def _did_key_document() -> dict[str, Any]:
    vm = OPTIONS["verificationMethod"]
    return {
        "id": DID_KEY,
        "assertionMethod": [vm],
        "verificationMethod": [
            {
                "id": vm,
                "type": "Multikey",
                "controller": DID_KEY,
                "publicKeyMultibase": KEYS["publicKeyMultibase"],
            }
        ],
    }


def test_the_signed_vector_verifies_with_its_key_and_through_trust() -> None:
    signed = json.loads(SIGNED_BYTES)
    assert verify_proof(signed, PUBLIC) == UNSIGNED
    # Through trust: the vector's issuer is an https URL, not the did:key that signed it, so
    # a verifier trusting that did:key still refuses it by name; with the issuer set to the
    # did:key (and signed again) the full path passes.
    trust = build_trust([("did-key.json", _did_key_document())])
    with pytest.raises(VerificationError, match="issuer mismatch"):
        verify_data_integrity(signed, trust)
    rebound = add_proof(
        {**UNSIGNED, "issuer": DID_KEY},
        Ed25519PrivateKey.from_private_bytes(SEED),
        verification_method=OPTIONS["verificationMethod"],
        created=OPTIONS["created"],
    )
    assert verify_data_integrity(rebound, trust).issuer == DID_KEY


def _mutations(data: bytes) -> list[bytes]:
    """Every single-byte change of ``data``: each byte XOR 0x01 (never equal to the original)."""
    return [data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :] for i in range(len(data))]


def test_any_single_byte_change_of_the_signed_vector_fails() -> None:
    canonical = jcs(json.loads(SIGNED_BYTES), "signed")
    refused = 0
    for mutated in _mutations(canonical):
        try:
            document = json.loads(mutated)
        except ValueError:
            refused += 1  # no longer JSON: nothing to verify
            continue
        with pytest.raises(VerificationError):
            verify_proof(document, PUBLIC)
        refused += 1
    assert refused == len(canonical)


def test_signing_and_checking_our_own_credential_through_trust(issuers: Any) -> None:
    text = secure(credential(issuers.council.did), issuers.council, fmt="di", now=NOW)
    signed = json.loads(text)
    assert signed["proof"]["verificationMethod"] == issuers.council.multikey_id
    assert signed["proof"]["created"] == "2026-06-01T12:00:00Z"
    secured = verify_data_integrity(signed, issuers.trust)
    assert (secured.securing, secured.issuer) == ("di", issuers.council.did)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["credentialSubject"].update(massFraction=0.3126), "bad signature"),
        (lambda d: d.update(issuer="did:web:certifier.example%3A8443:bodies:7"), "issuer mismatch"),
        (lambda d: d.update(issuer="did:web:stranger.example"), "issuer mismatch"),
        (
            lambda d: d["proof"].update(verificationMethod="did:web:council.example#other"),
            "untrusted key",
        ),
        (lambda d: d["proof"].update(proofPurpose="authentication"), "proofPurpose"),
        (lambda d: d["proof"].update(cryptosuite="eddsa-rdfc-2022"), "cryptosuite"),
        (lambda d: d["@context"].reverse(), "@context"),
        (lambda d: d.pop("proof"), "no single Data Integrity proof"),
        (lambda d: d["proof"].update(proofValue="z" + "1" * 80), "64-byte"),
    ],
)
def test_tampering_fails_with_a_named_reason(issuers: Any, change: Any, message: str) -> None:
    signed = json.loads(secure(credential(issuers.council.did), issuers.council, fmt="di", now=NOW))
    change(signed)
    with pytest.raises(VerificationError, match=message):
        verify_data_integrity(signed, issuers.trust)


def test_a_credential_of_an_issuer_nobody_trusts_names_it(issuers: Any) -> None:
    signed = json.loads(
        secure(credential(issuers.stranger.did), issuers.stranger, fmt="di", now=NOW)
    )
    with pytest.raises(VerificationError, match=r"unknown issuer: .*did:web:stranger\.example"):
        verify_data_integrity(signed, issuers.trust)


def test_a_key_cannot_sign_for_another_issuer(issuers: Any) -> None:
    with pytest.raises(ConfigError, match="not the key's DID"):
        secure(credential(issuers.certifier.did), issuers.council, fmt="di", now=NOW)
