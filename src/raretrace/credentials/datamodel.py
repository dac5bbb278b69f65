"""The Verifiable Credentials Data Model v2.0: its JSON Schema, issuer and validity period.

The schema is the W3C's own (``raretrace/schemas/verifiable-credential-schema.json``, copied
unchanged; source and licence beside it). ``validFrom``/``validUntil`` are XML Schema
dateTimeStamps (VCDM 2.0 §4.9): a time zone is required.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema  # type: ignore[import-untyped]

from raretrace.domain.errors import VerificationError

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
SCHEMA_FILE = "verifiable-credential-schema.json"
# The schema's own pattern for validFrom/validUntil (XML Schema dateTimeStamp).
_DATETIME = re.compile(
    r"-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T"
    r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|(24:00:00(\.0+)?))"
    r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)


@cache
def _validator() -> Any:
    text = (files("raretrace") / "schemas" / SCHEMA_FILE).read_text(encoding="utf-8")
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def check_data_model(credential: Mapping[str, Any]) -> None:
    """Raise VerificationError naming the first place ``credential`` breaks the VC 2.0 schema."""
    errors = list(_validator().iter_errors(credential))
    if not errors:
        return
    best = jsonschema.exceptions.best_match(errors)
    where = "/".join(str(p) for p in best.absolute_path) or "(top level)"
    raise VerificationError(
        f"not a VC 2.0 credential (W3C JSON Schema): at {where}: {_short(best.message)}"
    )


def _short(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "..."


def credential_issuer(credential: Mapping[str, Any]) -> str:
    """The issuer's id: ``issuer`` as a string, or ``issuer.id`` (VCDM 2.0 §4.7)."""
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str) or not issuer:
        raise VerificationError(
            'the credential names no issuer (VCDM 2.0 §4.7: "issuer" is'
            ' a URL or an object with an "id")'
        )
    return issuer


def parse_datetime(value: object, what: str) -> datetime:
    """An aware datetime from an XML Schema dateTimeStamp; VerificationError otherwise."""
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        raise VerificationError(
            f"{what} {value!r} is not a date-time with a time zone (e.g. 2026-01-31T12:00:00Z)"
        )
    # 24:00:00 is the end of the day: the next day's 00:00:00 (XML Schema 1.1 §3.3.7).
    end_of_day = "T24:00:00" in value
    try:
        moment = datetime.fromisoformat(re.sub(r"T24:00:00(\.0+)?", "T00:00:00", value))
        return moment + timedelta(days=1) if end_of_day else moment
    except ValueError:
        raise VerificationError(f"{what} {value!r} is not a real date-time") from None


def format_datetime(moment: datetime) -> str:
    """``2026-01-31T12:00:00Z``: UTC, whole seconds, as credentials carry it."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_validity(credential: Mapping[str, Any], at: datetime, what: str) -> str:
    """Raise unless ``at`` lies in [validFrom, validUntil]; returns a one-line detail."""
    start = credential.get("validFrom")
    end = credential.get("validUntil")
    moment = format_datetime(at)
    if start is not None and parse_datetime(start, f"{what} validFrom") > at:
        raise VerificationError(f"not yet valid: {what} is valid from {start}, checked at {moment}")
    if end is not None and parse_datetime(end, f"{what} validUntil") < at:
        raise VerificationError(f"expired: {what} was valid until {end}, checked at {moment}")
    if start is None and end is None:
        return f"no validity period stated; checked at {moment}"
    return f"valid from {start or '(unstated)'} until {end or '(no end)'}; checked at {moment}"
