"""verify_credential: the checks in order, the first failure named, the report's shape."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from credential_support import NOW, credential

from raretrace.credentials import (
    NamedCheck,
    load_state,
    publish_status_list,
    save_state,
    secure,
    status_entry,
    verify_credential,
)
from raretrace.credentials.securing import Format
from raretrace.domain.errors import ConfigError, VerificationError

FORMATS: tuple[Format, ...] = ("jose", "di")


def _names(report: Any) -> list[tuple[str, bool]]:
    return [(c.check, c.ok) for c in report.checks]


@pytest.fixture
def revocable(issuers: Any, tmp_path: Path) -> dict[str, Any]:
    """A council status list with one credential's index allocated (not yet revoked)."""
    out = tmp_path / "revocation.jwt"
    publish_status_list(issuers.council, out, now=NOW)
    state, index = load_state(out).allocate("urn:uuid:0e1f6a52-6f0a-4d0e-9a51-7d1d1c3b2a10")
    save_state(out, state)
    publish_status_list(issuers.council, out, now=NOW)
    entry = status_entry(list_url=state.list_url, index=index)
    return {"out": out, "index": index, "entry": entry}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_good_credential_passes_every_check_in_order(
    issuers: Any, revocable: dict[str, Any], fmt: Format
) -> None:
    vc = credential(issuers.council.did, credentialStatus=revocable["entry"])
    report = verify_credential(
        secure(vc, issuers.council, fmt=fmt, now=NOW),
        trust=issuers.trust,
        at=NOW,
        status_lists=[("list", revocable["out"].read_text())],
    )
    assert _names(report) == [
        ("securing", True),
        ("validity", True),
        ("data-model", True),
        ("status", True),
    ]
    assert report.valid and report.require_valid()["id"] == vc["id"]
    assert "not revoked" in report.checks[-1].detail
    assert set(report.to_json()) == {"valid", "checks", "credential"}
    assert set(report.to_json()["checks"][0]) == {"check", "ok", "detail"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_revoked_credential_fails_at_status(
    issuers: Any, revocable: dict[str, Any], fmt: Format
) -> None:
    vc = credential(issuers.council.did, credentialStatus=revocable["entry"])
    text = secure(vc, issuers.council, fmt=fmt, now=NOW)
    publish_status_list(
        issuers.council, revocable["out"], revoke=[revocable["index"]], reason="fraud", now=NOW
    )
    report = verify_credential(
        text, trust=issuers.trust, at=NOW, status_lists=[("list", revocable["out"].read_text())]
    )
    assert not report.valid
    failure = report.first_failure
    assert failure is not None and failure.check == "status"
    assert failure.detail.startswith(f"revoked: index {revocable['index']}")
    with pytest.raises(VerificationError, match="credential NOT valid: status: revoked"):
        report.require_valid()


def test_status_needs_the_list_and_a_trusted_fresh_one(
    issuers: Any, revocable: dict[str, Any], tmp_path: Path
) -> None:
    vc = credential(issuers.council.did, credentialStatus=revocable["entry"])
    text = secure(vc, issuers.council, fmt="jose", now=NOW)
    missing = verify_credential(text, trust=issuers.trust, at=NOW)
    assert "pass it with --status-list" in missing.checks[-1].detail
    stale = verify_credential(
        text,
        trust=issuers.trust,
        at=NOW + timedelta(days=8),
        status_lists=[("list", revocable["out"].read_text())],
    )
    assert stale.checks[-1].detail.startswith("expired: the status list")
    # A list under the same URL signed by a key the verifier does not trust
    forged = tmp_path / "forged.jwt"
    publish_status_list(
        issuers.certifier, forged, url=revocable["entry"]["statusListCredential"], now=NOW
    )
    trust_council_only = issuers.trust.__class__(
        methods={k: m for k, m in issuers.trust.methods.items() if m.did == issuers.council.did},
        dids=frozenset({issuers.council.did}),
        sources={issuers.council.did: "council.json"},
    )
    report = verify_credential(
        text, trust=trust_council_only, at=NOW, status_lists=[("forged", forged.read_text())]
    )
    assert report.first_failure is not None
    assert report.first_failure.detail.startswith("unknown issuer: the status list")


def test_an_unreadable_status_list_file_is_a_configuration_error(issuers: Any) -> None:
    text = secure(credential(issuers.council.did), issuers.council, fmt="jose", now=NOW)
    with pytest.raises(ConfigError, match=r"status list x\.txt"):
        verify_credential(text, trust=issuers.trust, at=NOW, status_lists=[("x.txt", "hello")])


@pytest.mark.parametrize(
    ("at", "vc_change", "check", "message"),
    [
        (NOW + timedelta(days=400), {}, "validity", "expired"),
        (NOW - timedelta(days=400), {}, "validity", "not yet valid"),
        (NOW, {"credentialSubject": []}, "data-model", "credentialSubject"),
    ],
)
def test_the_first_failure_stops_the_checks(
    issuers: Any, at: Any, vc_change: dict[str, Any], check: str, message: str
) -> None:
    vc = {**credential(issuers.council.did), **vc_change}
    report = verify_credential(
        secure(vc, issuers.council, fmt="di", now=NOW), trust=issuers.trust, at=at
    )
    assert _names(report)[-1] == (check, False)
    assert message in report.checks[-1].detail
    assert len(report.checks) == 1 + ["validity", "data-model"].index(check) + 1


def test_a_securing_failure_still_shows_what_the_file_claims(issuers: Any) -> None:
    text = secure(credential(issuers.stranger.did), issuers.stranger, fmt="jose", now=NOW)
    report = verify_credential(text, trust=issuers.trust, at=NOW)
    assert _names(report) == [("securing", False)]
    assert report.checks[0].detail.startswith("unknown issuer")
    assert report.credential is not None and report.credential["issuer"] == issuers.stranger.did
    unsigned = verify_credential(
        json.dumps(credential(issuers.council.did)), trust=issuers.trust, at=NOW
    )
    assert "is not secured" in unsigned.checks[0].detail


def test_an_enveloped_credential_is_opened(issuers: Any) -> None:
    token = secure(credential(issuers.council.did), issuers.council, fmt="jose", now=NOW).strip()
    envelope = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"data:application/vc+jwt,{token}",
        "type": "EnvelopedVerifiableCredential",
    }
    assert verify_credential(json.dumps(envelope), trust=issuers.trust, at=NOW).valid


def test_more_checks_plug_in_after_status(issuers: Any) -> None:
    seen: list[str] = []

    def evidence(_inputs: Any, secured: Any) -> str:
        seen.append(secured.credential["id"])
        raise VerificationError("the bundle does not match")

    text = secure(credential(issuers.council.did), issuers.council, fmt="jose", now=NOW)
    report = verify_credential(
        text, trust=issuers.trust, at=NOW, extra=[NamedCheck("evidence", evidence)]
    )
    assert _names(report)[-1] == ("evidence", False) and seen
