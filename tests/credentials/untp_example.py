"""The passport and conformity credential that docs/credentials.md shows, made by the real
builders (``raretrace.credentials.untp``) from a fixed lot view, so the documented example
is what raretrace issues. ``python tests/credentials/untp_example.py`` prints them."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from credential_support import make_issuers

from raretrace.credentials import secure
from raretrace.credentials.evidence import checkpoint_id
from raretrace.credentials.statuslist import status_entry
from raretrace.credentials.untp import (
    Envelope,
    conformity_claim,
    conformity_credential,
    product_passport,
)

LIST = "https://council.example/credentials/status/revocation-1"
FOLDER = "https://council.example/credentials/0b9a4f4e-2c51-4f0e-8d43-6c1c2f0b7a11/"
# The digests of an evidence bundle and its checkpoint (certify computes them from the files).
RELATED = [
    {
        "id": FOLDER + "evidence.json",
        "mediaType": "application/json",
        "digestMultibase": "uEiCNt23ldJRPFw4bcU44otnRRl64LCa5JvVjLagFlx2Fjg",
    },
    {
        "id": checkpoint_id("raretrace.local/demo-log", 3046),
        "mediaType": "text/plain",
        "digestMultibase": "uEiAYXi82HofVoD7Gq8xb9lbj55oevTQdpHbBGAPKaJALzA",
    },
]


def _route(share: float, *steps: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "share": share,
        "steps": [{"stage": s, "country": c, "technology_origin": t} for s, c, t in steps],
    }


MINED_AU = (("mine", "AU", "AU"), ("separation", "MY", "AU"), ("magnet", "MY", "JP"))
SCRAP_MY = (("recycling", "MY", "JP"), ("magnet", "MY", "JP"))
#: A 100 kg magnet lot: Nd 60% from Mount Weld (AU) and 40% from scrap collected in Malaysia,
#: Dy from AU, a trace of Th that came with the ore.
VIEW: dict[str, Any] = {
    "lot": "MAG-0001",
    "form": "magnet",
    "mass_kg": 100.0,
    "elements_kg": {"Nd": 29.5, "Dy": 1.5, "Th": 0.0002, "other": 68.9998},
    "origin": {
        "by_country": {"Nd": {"AU": 0.6, "recycled": 0.4}, "Dy": {"AU": 1.0}, "Th": {"AU": 1.0}},
        "by_mine": {},
    },
    "routes": {
        "Nd": [_route(0.6, *MINED_AU), _route(0.4, *SCRAP_MY)],
        "Dy": [_route(1.0, *MINED_AU)],
        "Th": [_route(1.0, *MINED_AU)],
    },
    "by_stage": {
        "Nd": {
            "mine": {"AU": 0.6},
            "separation": {"MY": 0.6},
            "recycling": {"MY": 0.4},
            "magnet": {"MY": 1.0},
        },
        "Dy": {"mine": {"AU": 1.0}, "separation": {"MY": 1.0}, "magnet": {"MY": 1.0}},
        "Th": {"mine": {"AU": 1.0}, "separation": {"MY": 1.0}, "magnet": {"MY": 1.0}},
    },
    "claimed": {"eu-recycled": {"Nd": 1.0, "Dy": 1.0, "Th": 1.0}},
}

DCC_RESULT = {
    "pack": "us-dfars",
    "rule": "DFARS 252.225-7052(b)",
    "status": "pass",
    "summary": "no stage of the lot's magnet elements ran in a covered country",
    "reasons": ["every route of Nd, Dy passes only AU, MY (none covered: CN, IR, KP, RU)"],
    "events": ["x-MAG-0001"],
    "facts_reviewed": "2026-11-30",
}


def _envelope(uuid: str, index: int) -> Envelope:
    return Envelope(
        credential_id=f"urn:uuid:{uuid}",
        issuer="did:web:council.example",
        valid_from="2027-02-01T09:00:00Z",
        valid_until="2028-02-01T09:00:00Z",
        status=status_entry(list_url=LIST, index=index),
        related=RELATED,
    )


def example_dcc() -> dict[str, Any]:
    envelope = _envelope("6f1d2a8c-3e4b-4c5d-9e6f-7a8b9c0d1e2f", 70211)
    return conformity_credential(envelope, DCC_RESULT, lot_id="MAG-0001", as_of="2027-02-01")


def example_dcc_file() -> str:
    """The DCC as ``certify`` writes it: a VC-JOSE JWS by the tests' council key."""
    return secure(example_dcc(), make_issuers().council, fmt="jose", now=datetime.now(UTC))


def example_dpp() -> dict[str, Any]:
    dcc = example_dcc()
    digest = hashlib.sha256(example_dcc_file().encode()).hexdigest()
    claim = conformity_claim(dcc, url=FOLDER + "dcc-us-dfars.jwt", sha256_hex=digest)
    scheme = {"scheme": "eu-recycled", "claimEvent": "claim:eu-recycled:2027-02-01", "share": 1}
    envelope = _envelope("1c7e9b3a-5d2f-4e8a-b6c4-0f9e8d7c6b5a", 94567)
    return product_passport(envelope, VIEW, claims=[claim], scheme_claim=scheme)


def compact(value: Any, indent: str = "") -> str:
    """JSON with each object or list on one line when it fits in 96 columns (the docs' form;
    the test compares parsed JSON, not text)."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(indent) + len(flat) <= 96 or not isinstance(value, dict | list) or not value:
        return flat
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {compact(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    items = [f"{inner}{compact(v, inner)}" for v in value]
    return "[\n" + ",\n".join(items) + f"\n{indent}]"


if __name__ == "__main__":
    print(compact(example_dpp()))
    print(compact(example_dcc()))
