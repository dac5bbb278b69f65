"""VC-JOSE: the JWS shape, verification by any JOSE library, and named tampering failures."""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import pytest
from credential_support import credential
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc import jws
from joserfc.jwk import OKPKey

from raretrace.credentials import sign_jose, verify_jose
from raretrace.domain.errors import VerificationError


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _forge(key: Any, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A JWS signed by ``key`` with any header and payload (what an attacker can make)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jws.serialize_compact(
            header,
            json.dumps(payload).encode(),
            OKPKey.import_key(key.private_key),
            algorithms=["EdDSA"],
        )


def test_the_jws_header_and_payload_are_as_vc_jose_cose_says(issuers: Any) -> None:
    vc = credential(issuers.council.did)
    token = sign_jose(vc, issuers.council)
    header_b64, payload_b64, signature_b64 = token.split(".")
    assert json.loads(_b64decode(header_b64)) == {
        "alg": "EdDSA",
        "typ": "vc+jwt",
        "kid": issuers.council.key_id,
    }
    assert json.loads(_b64decode(payload_b64)) == vc  # the credential itself, no "vc" claim
    assert len(_b64decode(signature_b64)) == 64


def test_any_verifier_checks_it_with_the_did_documents_public_jwk(issuers: Any) -> None:
    token = sign_jose(credential(issuers.council.did), issuers.council)
    kid = json.loads(_b64decode(token.split(".")[0]))["kid"]
    method = next(m for m in issuers.council_doc["verificationMethod"] if m["id"] == kid)
    # joserfc, given only the published JWK
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jws.deserialize_compact(
            token, OKPKey.import_key(method["publicKeyJwk"]), algorithms=["EdDSA"]
        )
    # plain Ed25519 over "header.payload" (RFC 7515 §5.2), no JOSE library at all
    signing_input = token.rsplit(".", 1)[0].encode()
    public = Ed25519PublicKey.from_public_bytes(_b64decode(method["publicKeyJwk"]["x"]))
    public.verify(_b64decode(token.rsplit(".", 1)[1]), signing_input)


def test_verify_returns_the_credential_and_who_signed(issuers: Any) -> None:
    vc = credential(issuers.certifier.did)
    secured = verify_jose(sign_jose(vc, issuers.certifier), issuers.trust)
    assert secured.credential == vc
    assert (secured.securing, secured.method) == ("jose", issuers.certifier.key_id)


def test_the_rfc_9864_alg_name_is_accepted_too(issuers: Any) -> None:
    vc = credential(issuers.council.did)
    token = jws.serialize_compact(
        {"alg": "Ed25519", "typ": "vc+jwt", "kid": issuers.council.key_id},
        json.dumps(vc).encode(),
        OKPKey.import_key(issuers.council.private_key),
        algorithms=["Ed25519"],
    )
    assert verify_jose(token, issuers.trust).credential == vc


def test_a_changed_payload_fails_as_bad_signature(issuers: Any) -> None:
    token = sign_jose(credential(issuers.council.did), issuers.council)
    header, _, signature = token.split(".")
    changed = credential(issuers.council.did)
    changed["credentialSubject"]["massFraction"] = 0.9
    body = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    with pytest.raises(VerificationError, match="bad signature"):
        verify_jose(f"{header}.{body}.{signature}", issuers.trust)


def test_a_single_changed_character_anywhere_fails(issuers: Any) -> None:
    token = sign_jose(credential(issuers.council.did), issuers.council)
    for i in range(0, len(token), 7):
        if token[i] == ".":
            continue
        swapped = "A" if token[i] != "A" else "B"
        mutated = token[:i] + swapped + token[i + 1 :]
        with pytest.raises(VerificationError):
            verify_jose(mutated, issuers.trust)


@pytest.mark.parametrize(
    ("who", "header", "claims", "message"),
    [
        ("stranger", {}, {"issuer": "did:web:stranger.example"}, "unknown issuer"),
        (
            "stranger",
            {"kid": "did:web:council.example#forged"},
            {"issuer": "did:web:council.example"},
            "untrusted key",
        ),
        ("council", {}, {"issuer": "did:web:certifier.example%3A8443:bodies:7"}, "issuer mismatch"),
        ("council", {}, {"iss": "did:web:other.example"}, "issuer mismatch: JWT iss"),
        ("council", {"typ": "vp+jwt"}, {}, "typ"),
        ("council", {"kid": None}, {}, "no kid"),
        ("council", {}, {"vc": {}}, "VC 1.1"),
    ],
)
def test_forgeries_fail_with_a_named_reason(
    issuers: Any, who: str, header: dict[str, Any], claims: dict[str, Any], message: str
) -> None:
    key = getattr(issuers, who)
    base_header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": key.key_id}
    full_header = {k: v for k, v in {**base_header, **header}.items() if v is not None}
    payload = {**credential(issuers.council.did if who == "council" else key.did), **claims}
    with pytest.raises(VerificationError, match=message):
        verify_jose(_forge(key, full_header, payload), issuers.trust)


def test_unsigned_and_symmetric_algorithms_are_refused(issuers: Any) -> None:
    vc = credential(issuers.council.did)
    body = base64.urlsafe_b64encode(json.dumps(vc).encode()).rstrip(b"=").decode()
    for alg in ("none", "HS256"):
        head = json.dumps({"alg": alg, "typ": "vc+jwt", "kid": issuers.council.key_id})
        head64 = base64.urlsafe_b64encode(head.encode()).rstrip(b"=").decode()
        with pytest.raises(VerificationError, match="alg"):
            verify_jose(f"{head64}.{body}.", issuers.trust)


def test_garbage_is_not_a_jws(issuers: Any) -> None:
    with pytest.raises(VerificationError, match="not a JWS compact serialization"):
        verify_jose("not-a-token", issuers.trust)
