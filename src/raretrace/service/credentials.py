"""Certificates through the service: ``certify`` as the council, ``verify-credential`` for
anyone (docs/credentials.md)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from raretrace.credentials.diddoc import build_trust
from raretrace.credentials.files import read_issuer_key
from raretrace.credentials.securing import Format
from raretrace.credentials.verify import verify_credential
from raretrace.domain.errors import ConfigError
from raretrace.ledger.certify import CertifyRequest, certify_lot
from raretrace.service.access import Principal, require
from raretrace.service.scoped import visible_lot
from raretrace.store.store import Store


@dataclass(frozen=True, slots=True)
class IssuerSetup:
    """What the service issues with: the council's issuer key and status list, the folder
    credentials are written to, and the URL that folder is published under."""

    issuer_key: Path | None
    status_list: Path | None
    out_dir: Path | None
    base_url: str | None

    def require(self) -> tuple[Path, Path, Path]:
        """The three paths; ConfigError naming the missing settings."""
        if self.issuer_key is None or self.status_list is None or self.out_dir is None:
            raise ConfigError(
                "this service issues no credentials: set RARETRACE_ISSUER_KEY,"
                " RARETRACE_STATUS_LIST and RARETRACE_CREDENTIALS_DIR (docs/service.md)"
            )
        return self.issuer_key, self.status_list, self.out_dir


def certify(
    store: Store, principal: Principal, setup: IssuerSetup, lot_id: str, *, as_of: date,
    fmt: Format = "jose", declared_value_usd: float | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Issue the lot's passport and conformity credentials (as ``raretrace certify``) into a
    new folder of the credentials directory; the credentials' texts and where they are."""
    require(principal, "certify")
    key_path, status_list, out_dir = setup.require()
    visible_lot(store, principal, lot_id)
    now = datetime.now(UTC)
    folder = out_dir / f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    req = CertifyRequest(
        lot=lot_id, issuer=read_issuer_key(key_path), status_list=status_list, out=folder,
        as_of=as_of, now=now, fmt=fmt, declared_value_usd=declared_value_usd,
        base_url=setup.base_url,
    )  # fmt: skip
    done = certify_lot(store.url, req)
    files = [done.passport, *done.conformity]
    return {
        "lot": done.lot,
        "folder": folder.name,
        "folder_url": done.folder_url,
        "checkpoint_size": done.checkpoint_size,
        "credentials": [_credential_json(f.credential_id, f.url, f.path) for f in files],
    }


def _credential_json(credential_id: str, url: str, path: Path) -> dict[str, str]:
    return {
        "id": credential_id,
        "url": url,
        "file": path.name,
        "text": path.read_text(encoding="utf-8"),
    }


def verify(
    principal: Principal, *, credential: str, trust: list[Any], status_lists: list[str],
    at: datetime | None,
) -> dict[str, Any]:  # fmt: skip
    """``verify-credential --json``: the checks that ran and the credential; never raises
    for a credential that does not verify (``valid`` is false)."""
    require(principal, "verify-credential")
    if not trust:
        raise ConfigError("give trust: the DID documents of the issuers you trust")
    report = verify_credential(
        credential,
        trust=build_trust((f"trust[{i}]", doc) for i, doc in enumerate(trust)),
        at=at or datetime.now(UTC),
        status_lists=[(f"status_lists[{i}]", text) for i, text in enumerate(status_lists)],
    )
    return report.to_json()
