"""The demo's certificates: a demo council issues a magnet lot's passport and conformity
credentials (``raretrace certify``) and verifies them offline with the evidence, for the tour.

The council's key is derived from the demo seed (a demo key: anyone can derive it) and kept
with the demo's other keys in its log folder, outside the working tree; the DID document, the
status list and the credentials go in ``<log folder>/credentials/``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from raretrace.credentials import (
    CredentialReport,
    did_document,
    new_issuer_key,
    publish_status_list,
    read_trust,
    verify_credential,
    write_issuer_key,
)
from raretrace.credentials.evidence import evidence_check
from raretrace.ledger.bundle import trust_file
from raretrace.ledger.certify import Certified, CertifyRequest, certify_lot
from raretrace.ledger.recompute import StoredHistory
from raretrace.service.ledgers import Store
from raretrace.trust import read_trust_file
from raretrace.verify import closure_events, lineage_closure

DEMO_ISSUER = "did:web:council.example"


@dataclass(frozen=True, slots=True)
class DemoCertificates:
    """What the demo issued and how its passport verified."""

    certified: Certified
    folder: Path
    did_json: Path
    status_list: Path
    ledger_trust: Path
    report: CredentialReport


def certified_magnet(store: Store, sample: int = 40) -> str | None:
    """The magnet the demo certifies: of the first ``sample`` active magnet lots, the one
    with the median lineage (a typical evidence bundle, checked in well under a second)."""
    lots = [lot.id for lot in store.lots(form="magnet", status="active", limit=sample)]
    if not lots:
        return None
    with store.engine.connect() as conn:
        history = StoredHistory(conn)
        sizes = sorted((len(closure_events(history, lineage_closure(history, lot))), lot)
                       for lot in lots)  # fmt: skip
    return sizes[len(sizes) // 2][1]


def issue_demo_certificates(
    db: str, store: Store, directory: Path, *, as_of: date, seed: int = 2025
) -> DemoCertificates | None:
    """Issue and verify a magnet's credentials in ``directory/credentials`` (None: no magnet)."""
    lot = certified_magnet(store)
    if lot is None:
        return None
    where = directory / "credentials"
    where.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    material = hashlib.sha256(f"raretrace demo issuer/{seed}".encode()).digest()
    key = new_issuer_key(DEMO_ISSUER, created=now.strftime("%Y-%m-%dT%H:%M:%SZ"), seed=material)
    key_file = directory / "council.key"
    if not key_file.exists():
        write_issuer_key(key_file, key)
    did_json = where / "did.json"
    did_json.write_text(json.dumps(did_document([key]), indent=2) + "\n", encoding="utf-8")
    status_list = where / "revocation.jwt"
    publish_status_list(key, status_list, now=now)
    ledger_trust = where / "ledger-trust.txt"
    ledger_trust.write_text(trust_file(store), encoding="utf-8")
    folder = where / lot.replace("/", "_")
    request = CertifyRequest(
        lot=lot, issuer=key, status_list=status_list, out=folder, as_of=as_of, now=now
    )
    certified = certify_lot(db, request)
    check = evidence_check(
        certified.evidence.read_bytes(), read_trust_file(ledger_trust),
        source=str(certified.evidence),
    )  # fmt: skip
    report = verify_credential(
        certified.passport.path.read_text(encoding="utf-8"), trust=read_trust([did_json]),
        at=now, status_lists=[(str(status_list), status_list.read_text(encoding="utf-8"))],
        extra=[check],
    )  # fmt: skip
    return DemoCertificates(certified, folder, did_json, status_list, ledger_trust, report)
