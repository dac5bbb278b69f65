"""Verify a credential offline: an ordered list of named checks, stopping at the first failure.

The checks, in order (issue 10 §4): ``securing`` — the JWS or Data Integrity proof checks
against a trusted DID document, with the named failures of ``Trust.assertion_key``;
``validity`` — ``validFrom``/``validUntil`` (and a JWT ``exp``/``nbf``) around the time of the
check; ``data-model`` — the W3C VC 2.0 JSON Schema; ``status`` — each
``BitstringStatusListEntry`` against a status list file, itself checked against the same
trust and validity. Callers add checks after these (``extra``): the evidence-bundle check of
issue 10 plugs in there, as a ``NamedCheck`` that reads the opened credential.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from raretrace.credentials.datamodel import (
    check_data_model,
    check_validity,
    format_datetime,
)
from raretrace.credentials.diddoc import Trust
from raretrace.credentials.jose import Secured
from raretrace.credentials.securing import decode_unverified, open_secured
from raretrace.credentials.statuslist import check_status, parse_entry
from raretrace.domain.errors import ConfigError, VerificationError


@dataclass(frozen=True, slots=True)
class Check:
    """One check's outcome: its name, whether it passed, and what it found."""

    check: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyInputs:
    """What a verification works from: the trust, the time, the status list files' texts."""

    trust: Trust
    at: datetime
    status_lists: Mapping[str, str] = field(default_factory=dict)


CheckFn = Callable[[VerifyInputs, Secured], str]


@dataclass(frozen=True, slots=True)
class NamedCheck:
    """A check after securing: returns a one-line detail or raises VerificationError."""

    name: str
    run: CheckFn


@dataclass(frozen=True, slots=True)
class CredentialReport:
    """The verdict: the checks that ran (up to the first failure) and the credential."""

    checks: tuple[Check, ...]
    credential: dict[str, Any] | None

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if not c.ok), None)

    def to_json(self) -> dict[str, Any]:
        """``{"valid", "checks": [{"check", "ok", "detail"}], "credential"}``."""
        return {
            "valid": self.valid,
            "checks": [{"check": c.check, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "credential": self.credential,
        }

    def require_valid(self) -> dict[str, Any]:
        """The credential if every check passed; VerificationError naming the first failure."""
        failure = self.first_failure
        if failure is not None or self.credential is None:
            raise VerificationError(
                f"credential NOT valid: {failure.check}: {failure.detail}"
                if failure
                else "credential NOT valid: no check ran"
            )
        return self.credential


def verify_credential(
    text: str,
    *,
    trust: Trust,
    at: datetime,
    status_lists: Sequence[tuple[str, str]] = (),
    extra: Sequence[NamedCheck] = (),
) -> CredentialReport:
    """Run the checks on a secured credential file's ``text``; never raises for a bad one.

    ``status_lists`` are ``(source name, text)`` of status list files; one that is not a
    credential at all is a ConfigError naming it.
    """
    inputs = VerifyInputs(trust=trust, at=at, status_lists=_index_lists(status_lists))
    try:
        secured = open_secured(text, trust)
    except VerificationError as exc:
        return CredentialReport((Check("securing", False, exc.message),), decode_unverified(text))
    checks = [Check("securing", True, _securing_detail(secured, trust))]
    for step in (*CHECKS, *extra):
        try:
            checks.append(Check(step.name, True, step.run(inputs, secured)))
        except VerificationError as exc:
            checks.append(Check(step.name, False, exc.message))
            break
    return CredentialReport(tuple(checks), secured.credential)


def _securing_detail(secured: Secured, trust: Trust) -> str:
    how = "VC-JOSE JWS (EdDSA)" if secured.securing == "jose" else "Data Integrity eddsa-jcs-2022"
    source = trust.sources.get(secured.issuer, "?")
    return f"{how} signed by {secured.method}, a key of trusted issuer {secured.issuer} ({source})"


def _validity(inputs: VerifyInputs, secured: Secured) -> str:
    detail = check_validity(secured.credential, inputs.at, "the credential")
    if secured.securing == "jose":
        _jwt_times(secured.credential, inputs.at)
    return detail


def _jwt_times(claims: Mapping[str, Any], at: datetime) -> None:
    # VC-JOSE-COSE §3.1.1: exp/iat are the signature's times; honour exp and nbf if present.
    moment = at.timestamp()
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if isinstance(exp, int | float) and exp < moment:
        raise VerificationError(f"expired: the JWT exp {exp} has passed ({format_datetime(at)})")
    if isinstance(nbf, int | float) and nbf > moment:
        raise VerificationError(f"not yet valid: the JWT nbf {nbf} is after {format_datetime(at)}")


def _data_model(_inputs: VerifyInputs, secured: Secured) -> str:
    check_data_model(secured.credential)
    return "conforms to the W3C VC 2.0 JSON Schema"


def _status(inputs: VerifyInputs, secured: Secured) -> str:
    status = secured.credential.get("credentialStatus")
    if status is None:
        return "no credentialStatus: the issuer cannot revoke this credential"
    entries = status if isinstance(status, list) else [status]
    found = [_one_status(inputs, entry) for entry in entries]
    return "; ".join(found)


def _one_status(inputs: VerifyInputs, entry: object) -> str:
    url, purpose, index = parse_entry(entry)
    text = inputs.status_lists.get(url)
    if text is None:
        raise VerificationError(
            f"no status list for {url} was given; download it from that URL"
            " and pass it with --status-list FILE"
        )
    what = f"the status list {url}"
    listed = open_secured(text, inputs.trust, what=what)
    check_validity(listed.credential, inputs.at, what)
    result = check_status(entry, listed.credential)
    if result.is_set and purpose in ("revocation", "suspension"):
        state = "revoked" if purpose == "revocation" else "suspended"
        raise VerificationError(
            f"{state}: index {index} of {url} is set (list signed by"
            f" {listed.issuer}, valid until {listed.credential.get('validUntil')})"
        )
    word = {"revocation": "not revoked", "suspension": "not suspended"}.get(purpose, "bit clear")
    return f"{word} (index {index} of {url}, list signed by {listed.issuer})"


def _index_lists(files: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Status list texts by their ``id`` (read unverified: the status check verifies them)."""
    indexed: dict[str, str] = {}
    for source, text in files:
        ident = (decode_unverified(text) or {}).get("id")
        if not isinstance(ident, str):
            raise ConfigError(
                f"status list {source} is not a credential with an id (neither a"
                " VC-JOSE JWS nor JSON); pass the file published at the list's URL"
            )
        indexed[ident] = text
    return indexed


CHECKS: tuple[NamedCheck, ...] = (
    NamedCheck("validity", _validity),
    NamedCheck("data-model", _data_model),
    NamedCheck("status", _status),
)
