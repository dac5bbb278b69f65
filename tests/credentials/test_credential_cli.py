"""``raretrace issuer ...`` and ``raretrace verify-credential`` as real processes."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cli_support import run
from raretrace.credentials import (
    load_state,
    read_issuer_key,
    save_state,
    secure,
    status_entry,
)

pytestmark = pytest.mark.integration


def _ok(*args: str, cwd: Path) -> str:
    done = run(*args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A council key, its did.json and a status list, made with the CLI."""
    cwd = tmp_path_factory.mktemp("credentials-cli")
    said = _ok(
        "issuer", "keygen", "--did", "did:web:council.example", "--out", "council.key", cwd=cwd
    )
    assert "https://council.example/.well-known/did.json" in said
    (cwd / "did.json").write_text(_ok("issuer", "did-document", "--key", "council.key", cwd=cwd))
    _ok("issuer", "status-list", "--key", "council.key", "--out", "revocation.jwt", cwd=cwd)
    return cwd


def _issue(cwd: Path, name: str, *, fmt: str = "jose", revocable: bool = True) -> int:
    """Sign a credential with the council key (as `certify` will), holding a status entry."""
    key = read_issuer_key(cwd / "council.key")
    vc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"urn:raretrace:credential:{name}",
        "type": ["VerifiableCredential"],
        "issuer": key.did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "urn:lot:MAG-001"},
    }
    index = -1
    if revocable:
        state, index = load_state(cwd / "revocation.jwt").allocate(vc["id"])
        save_state(cwd / "revocation.jwt", state)
        vc["credentialStatus"] = status_entry(list_url=state.list_url, index=index)
    (cwd / name).write_text(
        secure(vc, key, fmt="jose" if fmt == "jose" else "di", now=datetime.now(UTC))
    )
    return index


def test_keygen_writes_an_owner_only_key_and_refuses_bad_dids(council: Path) -> None:
    assert stat.S_IMODE((council / "council.key").stat().st_mode) == 0o600
    doc = json.loads((council / "did.json").read_text())
    assert doc["id"] == "did:web:council.example"
    assert {m["type"] for m in doc["verificationMethod"]} == {"JsonWebKey", "Multikey"}
    for did in ("did:web:10.0.0.1", "did:web:council.example%3A0", "did:web:council"):
        done = run("issuer", "keygen", "--did", did, "--out", "bad.key", cwd=council)
        assert done.returncode == 2 and done.stderr.startswith("error: ")
        assert "Traceback" not in done.stderr and not (council / "bad.key").exists()
    again = run(
        "issuer", "keygen", "--did", "did:web:council.example", "--out", "council.key", cwd=council
    )
    assert again.returncode == 2 and "never overwritten" in again.stderr


@pytest.mark.parametrize("fmt", ["jose", "di"])
def test_a_good_credential_verifies_and_json_has_the_documented_shape(
    council: Path, fmt: str
) -> None:
    _issue(council, f"good-{fmt}", fmt=fmt)
    args = (
        "verify-credential",
        f"good-{fmt}",
        "--trust",
        "did.json",
        "--status-list",
        "revocation.jwt",
    )
    said = _ok(*args, cwd=council)
    assert said.splitlines()[-1] == f"credential urn:raretrace:credential:good-{fmt} is valid"
    report = json.loads(_ok(*args, "--json", cwd=council))
    assert set(report) == {"valid", "checks", "credential"} and report["valid"] is True
    assert [c["check"] for c in report["checks"]] == [
        "securing",
        "validity",
        "data-model",
        "status",
    ]
    assert report["credential"]["id"] == f"urn:raretrace:credential:good-{fmt}"


def test_revoking_with_the_cli_makes_verification_fail(council: Path) -> None:
    index = _issue(council, "to-revoke")
    said = _ok(
        "issuer",
        "status-list",
        "--key",
        "council.key",
        "--out",
        "revocation.jwt",
        "--revoke",
        str(index),
        "--reason",
        "mass fraction misstated",
        cwd=council,
    )
    assert f"newly set: {index}" in said
    done = run(
        "verify-credential",
        "to-revoke",
        "--trust",
        "did.json",
        "--status-list",
        "revocation.jwt",
        cwd=council,
    )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: credential NOT valid: status: revoked: index {index}")
    )
    as_json = run(
        "verify-credential",
        "to-revoke",
        "--trust",
        "did.json",
        "--status-list",
        "revocation.jwt",
        "--json",
        cwd=council,
    )
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["valid"] is False


def test_unknown_issuer_expired_and_usage_errors(council: Path, tmp_path: Path) -> None:
    _issue(council, "plain", revocable=False)
    other = tmp_path / "other.key"
    _ok("issuer", "keygen", "--did", "did:web:other.example", "--out", str(other), cwd=tmp_path)
    (tmp_path / "other.json").write_text(
        _ok("issuer", "did-document", "--key", str(other), cwd=tmp_path)
    )
    unknown = run(
        "verify-credential", str(council / "plain"), "--trust", "other.json", cwd=tmp_path
    )
    assert unknown.returncode == 1 and "securing: unknown issuer" in unknown.stderr
    late = run(
        "verify-credential",
        "plain",
        "--trust",
        "did.json",
        "--at",
        "2025-01-01T00:00:00Z",
        cwd=council,
    )
    assert late.returncode == 1 and "validity: not yet valid" in late.stderr
    no_trust = run("verify-credential", "plain", cwd=council)
    assert no_trust.returncode == 2 and "pass --trust" in no_trust.stderr
    bad_at = run(
        "verify-credential", "plain", "--trust", "did.json", "--at", "tomorrow", cwd=council
    )
    assert bad_at.returncode == 2 and "--at" in bad_at.stderr
    missing = run("verify-credential", "nope", "--trust", "did.json", cwd=council)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
