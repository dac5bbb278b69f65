"""Secure a credential in either format, and open a secured credential of either format.

``jose``: a VC-JOSE JWS (``jose.py``), the file holds the compact serialization.
``di``: a Data Integrity ``eddsa-jcs-2022`` proof (``integrity.py``), the file holds JSON.
A JSON file may also hold an ``EnvelopedVerifiableCredential`` (VCDM 2.0 §4.13) whose ``id``
is a ``data:application/vc+jwt,<JWS>`` URL, as UNTP registers carry VC-JOSE credentials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from raretrace.credentials.datamodel import format_datetime
from raretrace.credentials.diddoc import Trust
from raretrace.credentials.integrity import sign_data_integrity, verify_data_integrity
from raretrace.credentials.jose import Secured, decode_jose, sign_jose, verify_jose
from raretrace.credentials.keys import IssuerKey
from raretrace.domain.errors import VerificationError

Format = Literal["jose", "di"]
FORMATS: tuple[Format, ...] = ("jose", "di")
ENVELOPE_PREFIX = "data:application/vc+jwt,"


def secure(credential: Mapping[str, Any], key: IssuerKey, *, fmt: Format, now: datetime) -> str:
    """The text of the secured credential file (ends with a newline)."""
    if fmt == "jose":
        return sign_jose(credential, key) + "\n"
    signed = sign_data_integrity(credential, key, created=format_datetime(now))
    return json.dumps(signed, indent=2, ensure_ascii=False) + "\n"


def open_secured(text: str, trust: Trust, *, what: str = "the credential") -> Secured:
    """Check the securing of ``text`` (a JWS or a JSON credential) against ``trust``."""
    body = text.strip()
    if not body.startswith("{"):
        return verify_jose(body, trust, what=what)
    document = _json_object(body, what)
    token = _enveloped_token(document)
    if token is not None:
        return verify_jose(token, trust, what=what)
    if "proof" not in document:
        raise VerificationError(
            f'{what} is not secured: a JSON credential without a "proof"'
            " (and not a JWS); ask the issuer for the signed file"
        )
    return verify_data_integrity(document, trust, what=what)


def decode_unverified(text: str) -> dict[str, Any] | None:
    """What the file claims, without any check (for reports); None if it cannot be read."""
    body = text.strip()
    try:
        if not body.startswith("{"):
            return decode_jose(body)[1]
        document = _json_object(body, "the file")
        token = _enveloped_token(document)
        return document if token is None else decode_jose(token)[1]
    except VerificationError:
        return None


def _json_object(body: str, what: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise VerificationError(f"{what} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise VerificationError(f"{what} is not a JSON object (a credential)")
    return document


def _enveloped_token(document: Mapping[str, Any]) -> str | None:
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    if "EnvelopedVerifiableCredential" not in types:
        return None
    ident = document.get("id")
    if not isinstance(ident, str) or not ident.startswith(ENVELOPE_PREFIX):
        raise VerificationError(
            f"an EnvelopedVerifiableCredential whose id is not a"
            f" {ENVELOPE_PREFIX}<JWS> URL is not supported"
        )
    return ident[len(ENVELOPE_PREFIX) :]
