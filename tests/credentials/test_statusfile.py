"""The issuer's status list on disk: created, updated, kept in step with its state file."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from credential_support import NOW

from raretrace.credentials import load_state, open_secured, publish_status_list, save_state
from raretrace.credentials.statusfile import state_path
from raretrace.credentials.statuslist import StatusBits
from raretrace.domain.errors import ConfigError


def _bits(path: Path, trust: Any) -> list[int]:
    listed = open_secured(path.read_text(), trust)
    return StatusBits.decode(listed.credential["credentialSubject"]["encodedList"]).set_indexes()


def test_a_new_list_is_signed_valid_and_has_a_private_state(issuers: Any, tmp_path: Path) -> None:
    out = tmp_path / "revocation.jwt"
    done = publish_status_list(issuers.council, out, now=NOW, valid_days=3)
    listed = open_secured(out.read_text(), issuers.trust)
    assert listed.credential["id"] == done.list_url
    assert done.list_url == "https://council.example/credentials/status/revocation-1"
    assert listed.credential["validUntil"] == "2026-06-04T12:00:00Z"
    assert listed.credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert stat.S_IMODE(state_path(out).stat().st_mode) == 0o600
    assert load_state(out).issuer == issuers.council.did


def test_revocations_persist_across_runs_and_formats(issuers: Any, tmp_path: Path) -> None:
    out = tmp_path / "list.json"
    publish_status_list(issuers.council, out, url="https://council.example/s/1", fmt="di", now=NOW)
    state = load_state(out)
    for n in range(3):
        state, _ = state.allocate(f"urn:cred:{n}")
    save_state(out, state)
    first, second, _third = sorted(state.allocated)
    done = publish_status_list(
        issuers.council, out, fmt="di", revoke=[first], reason="fraud", now=NOW
    )
    assert done.newly_set == (first,)
    done = publish_status_list(
        issuers.council,
        out,
        fmt="di",
        revoke=[second],
        reason="recall",
        now=NOW + timedelta(days=1),
    )
    assert done.set_indexes == (first, second) and done.newly_set == (second,)
    assert _bits(out, issuers.trust) == [first, second]
    assert json.loads(out.read_text())["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert load_state(out).changes[first].reason == "fraud"


def test_a_list_without_its_state_is_never_started_over(issuers: Any, tmp_path: Path) -> None:
    out = tmp_path / "revocation.jwt"
    publish_status_list(issuers.council, out, now=NOW)
    state_path(out).unlink()
    before = out.read_bytes()
    with pytest.raises(ConfigError, match="clear every revocation"):
        publish_status_list(issuers.council, out, now=NOW)
    assert out.read_bytes() == before


def test_an_older_state_than_the_published_list_is_refused(issuers: Any, tmp_path: Path) -> None:
    out = tmp_path / "revocation.jwt"
    publish_status_list(issuers.council, out, now=NOW)
    state, index = load_state(out).allocate("urn:cred:1")
    save_state(out, state)
    old_state = state_path(out).read_text()
    publish_status_list(issuers.council, out, revoke=[index], reason="fraud", now=NOW)
    state_path(out).write_text(old_state)  # a backup from before the revocation
    with pytest.raises(ConfigError, match="older than the list"):
        publish_status_list(issuers.council, out, now=NOW)
    assert _bits(out, issuers.trust) == [index]


@pytest.mark.parametrize(
    ("who", "options", "message"),
    [
        ("certifier", {}, "belongs to did:web:council.example"),
        ("council", {"url": "https://council.example/other"}, "is published at"),
        ("council", {"purpose": "suspension"}, "is a revocation list"),
        ("council", {"valid_days": 0}, "at least 1"),
    ],
)
def test_an_update_that_does_not_fit_the_list_is_refused(
    issuers: Any, tmp_path: Path, who: str, options: dict[str, Any], message: str
) -> None:
    out = tmp_path / "revocation.jwt"
    publish_status_list(issuers.council, out, now=NOW)
    with pytest.raises(ConfigError, match=message):
        publish_status_list(getattr(issuers, who), out, now=NOW, **options)
