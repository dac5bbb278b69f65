"""The registry example of issue 9 §2 (roles, licences, accreditations, audits), with the
participants and facilities it names, for the domain and ledger tests."""

from __future__ import annotations

from typing import Any

#: The issue's example, with the participants and facilities it names.
ISSUE_DOC: dict[str, Any] = {
    "participants": [
        {"id": "aelb-my", "name": "Atomic Energy Licensing Board", "country": "MY",
         "roles": ["authority"]},
        {"id": "sgs-my", "name": "SGS Malaysia", "country": "MY", "roles": ["auditor"]},
        {"id": "mofcom-cn", "name": "MOFCOM", "country": "CN", "roles": ["authority"]},
        {"id": "lynas-my", "name": "Lynas Malaysia", "country": "MY"},
        {"id": "cn-sep", "name": "A separator", "country": "CN"},
    ],
    "facilities": [
        {"id": "MY-GEBENG", "name": "Gebeng", "operator": "lynas-my", "country": "MY",
         "stage": "separation"},
    ],
    "licences": [
        {"id": "LIC-1", "holder": "lynas-my", "facility": "MY-GEBENG", "kind": "operating",
         "authority": "aelb-my", "valid_from": "2024-01-01T00:00:00Z",
         "valid_until": "2026-03-02T00:00:00Z"},
        {"id": "LIC-2", "holder": "cn-sep", "kind": "export", "regime": "CN-MOFCOM-18",
         "authority": "mofcom-cn", "events": ["s-dy1"], "valid_from": "2025-05-01T00:00:00Z",
         "valid_until": "2025-12-31T00:00:00Z"},
    ],
    "accreditations": [
        {"id": "ACC-1", "auditor": "sgs-my", "standards": ["asean-esg-baseline", "oecd-ddg"],
         "valid_from": "2024-01-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z"},
    ],
    "audits": [
        {"id": "AUD-1", "facility": "MY-GEBENG", "auditor": "sgs-my",
         "standard": "asean-esg-baseline", "date": "2025-01-10T00:00:00Z",
         "valid_until": "2026-01-10T00:00:00Z", "result": "pass", "findings": []},
    ],
}  # fmt: skip
