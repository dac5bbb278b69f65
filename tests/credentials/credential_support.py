"""Shared helpers for tests/credentials: fixed keys, trust, and an unsigned credential."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from raretrace.credentials import IssuerKey, Trust, build_trust, did_document, new_issuer_key

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
DI_VECTORS = VECTORS / "w3c-vc-di-eddsa" / "TestVectors"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Issuers:
    council: IssuerKey
    certifier: IssuerKey
    stranger: IssuerKey  # a well-formed issuer nobody trusts
    council_doc: dict[str, Any]
    certifier_doc: dict[str, Any]
    trust: Trust  # council and certifier


def make_issuers() -> Issuers:
    council = new_issuer_key(
        "did:web:council.example", created="2026-01-01T00:00:00Z", seed=bytes(range(32))
    )
    certifier = new_issuer_key(
        "did:web:certifier.example%3A8443:bodies:7",
        created="2026-01-01T00:00:00Z",
        seed=bytes(range(1, 33)),
    )
    stranger = new_issuer_key(
        "did:web:stranger.example", created="2026-01-01T00:00:00Z", seed=bytes(range(2, 34))
    )
    council_doc, certifier_doc = did_document([council]), did_document([certifier])
    trust = build_trust([("council.json", council_doc), ("certifier.json", certifier_doc)])
    return Issuers(council, certifier, stranger, council_doc, certifier_doc, trust)


def credential(issuer: str, **extra: Any) -> dict[str, Any]:
    """A small VC 2.0 credential issued by ``issuer``."""
    doc: dict[str, Any] = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "id": "urn:uuid:0e1f6a52-6f0a-4d0e-9a51-7d1d1c3b2a10",
        "type": ["VerifiableCredential", "ExampleConformityCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": "urn:lot:MAG-001", "massFraction": 0.3125, "name": "Nd"},
    }
    doc.update(extra)
    return doc


def read_vector(name: str) -> bytes:
    return (DI_VECTORS / name).read_bytes()


def vector_json(name: str) -> Any:
    return json.loads(read_vector(name))
