"""VC-JOSE: credentials secured as a JWS (W3C "Securing Verifiable Credentials using JOSE and
COSE", §3.1.1), signed and checked with joserfc.

The JWS is the compact serialization; its protected header is ``alg`` EdDSA (RFC 8037),
``typ`` ``vc+jwt`` and ``kid`` the verification method id (a DID URL, which makes ``kid``
mandatory, §"kid"); its payload is the credential itself, serialized as RFC 8785 JCS so the
same credential always gives the same bytes. Any JOSE library verifies it with the
``publicKeyJwk`` of the issuer's DID document.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import rfc8785
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError, SecurityWarning
from joserfc.jwk import OKPKey

from raretrace.credentials.datamodel import credential_issuer
from raretrace.credentials.diddoc import Trust
from raretrace.credentials.keys import IssuerKey, b64url
from raretrace.domain.errors import ConfigError, VerificationError

MEDIA_TYPE = "vc+jwt"
SIGN_ALG = "EdDSA"
# RFC 9864 names the same signature "Ed25519" (fully specified); accept either when checking.
ACCEPTED_ALGS = ("EdDSA", "Ed25519")


@dataclass(frozen=True, slots=True)
class Secured:
    """A credential whose securing checked: what it says, how, and by which key."""

    credential: dict[str, Any]
    securing: str  # "jose" or "di"
    method: str
    issuer: str


def sign_jose(credential: Mapping[str, Any], key: IssuerKey) -> str:
    """The credential as a VC-JOSE JWS (compact serialization) signed by ``key``."""
    if credential_issuer(credential) != key.did:
        raise ConfigError(
            f"the credential's issuer {credential_issuer(credential)!r} is not the"
            f" key's DID {key.did!r}; set \"issuer\" to the key's DID"
        )
    header = {"alg": SIGN_ALG, "typ": MEDIA_TYPE, "kid": key.key_id}
    with _eddsa_quiet():
        return jws.serialize_compact(
            header,
            rfc8785.dumps(dict(credential)),
            OKPKey.import_key(key.private_key),
            algorithms=[SIGN_ALG],
        )


def decode_jose(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(header, credential)`` of a compact JWS, NOT verified: for reading and reporting."""
    try:
        obj = jws.extract_compact(token.strip().encode("ascii"))
        credential = json.loads(obj.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise VerificationError(
            f"not a JWS compact serialization (header.payload.signature in base64url): {exc}"
        ) from None
    if not isinstance(credential, dict):
        raise VerificationError("the JWS payload is not a JSON object (a credential)")
    return dict(obj.headers()), credential


def verify_jose(token: str, trust: Trust, *, what: str = "the credential") -> Secured:
    """Check a VC-JOSE JWS against ``trust``; the credential, or VerificationError naming why."""
    header, credential = decode_jose(token)
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ACCEPTED_ALGS:
        raise VerificationError(
            f"{what}: JWS alg {alg!r} is not accepted; raretrace checks"
            f" Ed25519 signatures ({' or '.join(ACCEPTED_ALGS)})"
        )
    if header.get("typ", MEDIA_TYPE) != MEDIA_TYPE:
        raise VerificationError(f"{what}: JWS typ {header.get('typ')!r} is not {MEDIA_TYPE!r}")
    if not isinstance(kid, str):
        raise VerificationError(
            f"{what}: the JWS header has no kid (the issuer's verification"
            " method id, required for DID issuers)"
        )
    if "vc" in credential or "vp" in credential:
        raise VerificationError(
            f'{what}: JWT claims "vc"/"vp" are not allowed in a VC 2.0'
            " JWS (VC-JOSE-COSE §3.1.1); this looks like a VC 1.1 JWT"
        )
    issuer = credential_issuer(credential)
    if "iss" in credential and credential["iss"] != issuer:
        raise VerificationError(
            f"issuer mismatch: JWT iss {credential['iss']!r} is not the"
            f" credential's issuer {issuer!r}"
        )
    method = trust.assertion_key(kid, issuer, what)
    public = OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": b64url(method.public_key)})
    try:
        with _eddsa_quiet():
            jws.deserialize_compact(token.strip(), public, algorithms=[alg])
    except BadSignatureError:
        raise VerificationError(
            f"bad signature: {what}'s JWS signature does not verify with {kid}; it was changed"
            " after signing"
        ) from None
    except JoseError as exc:
        raise VerificationError(f"{what}: the JWS cannot be checked: {exc}") from None
    return Secured(credential=credential, securing="jose", method=kid, issuer=issuer)


@contextmanager
def _eddsa_quiet() -> Iterator[None]:
    # joserfc warns that "EdDSA" is deprecated by RFC 9864 in favour of "Ed25519". UNTP and
    # deployed VC-JOSE verifiers use EdDSA; the signature is the same Ed25519 either way.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)
        yield
