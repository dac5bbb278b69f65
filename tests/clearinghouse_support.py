"""A small clearinghouse world for tests: federal and state authorities of Malaysia, a state
government, a foreign group, plants in Pahang and Perak, and builders of each step's event."""

from __future__ import annotations

import hashlib
from typing import Any

DIGEST = hashlib.sha256(b"the signed agreement").hexdigest()
EVIDENCE = hashlib.sha256(b"weighbridge ticket").hexdigest()

WORLD: dict[str, Any] = {
    "participants": [
        {"id": "aelb-my", "name": "Atomic Energy Licensing Board", "country": "MY",
         "roles": ["authority"]},
        {"id": "ptg-perak", "name": "Perak Land and Mines Office", "country": "MY",
         "roles": ["authority"], "subdivision": "MY-08"},
        {"id": "ptg-pahang", "name": "Pahang Land and Mines Office", "country": "MY",
         "roles": ["authority"], "subdivision": "MY-06"},
        {"id": "perak-sg", "name": "Perak State Government", "country": "MY",
         "subdivision": "MY-08"},
        {"id": "lynas-my", "name": "Lynas Malaysia", "country": "MY"},
        {"id": "perak-ree", "name": "Perak REE pilot", "country": "MY"},
        {"id": "cn-group", "name": "A foreign group", "country": "CN"},
    ],
    "facilities": [
        {"id": "MY-LAMP", "name": "LAMP", "operator": "lynas-my", "country": "MY",
         "stage": ["cracking", "separation"], "subdivision": "MY-06"},
        {"id": "MY-KENERING", "name": "Kenering pilot", "operator": "perak-ree",
         "country": "MY", "stage": "mine", "subdivision": "MY-08"},
    ],
}  # fmt: skip

T0 = "2025-03-01T00:00:00Z"


def licence_issue(
    event_id: str = "lic-1", *, actor: str = "ptg-perak", licence: str = "LIC-KEN",
    facility: str = "MY-KENERING", holder: str = "perak-ree", time: str = T0,
) -> dict[str, Any]:  # fmt: skip
    return {"id": event_id, "type": "licensing", "time": time, "actor": actor,
            "action": "issue",
            "licence": {"id": licence, "holder": holder, "facility": facility,
                        "kind": "operating", "authority": actor,
                        "valid_from": "2025-01-01T00:00:00Z",
                        "valid_until": "2027-01-01T00:00:00Z"}}  # fmt: skip


def licence_act(
    event_id: str, action: str, *, actor: str = "ptg-perak", licence: str = "LIC-KEN",
    time: str = T0, **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    return {"id": event_id, "type": "licensing", "time": time, "actor": actor, "action": action,
            "licence": licence, **extra}  # fmt: skip


def agreement_terms(agreement_id: str = "AGR-1", **changes: Any) -> dict[str, Any]:
    terms = {
        "id": agreement_id,
        "title": "Supply of mixed rare earth carbonate from Kenering",
        "kind": "supply",
        "parties": [
            {"name": "Perak State Government", "country": "MY", "participant": "perak-sg",
             "role": "state government"},
            {"name": "A foreign group", "country": "CN", "participant": "cn-group",
             "role": "buyer"},
        ],
        "jurisdictions": ["MY", "MY-08"],
        "elements": ["Nd", "Pr", "Dy"],
        "volumes": [{"material": "mixed RE carbonate", "tonnes": 1500, "per": "year"}],
        "dates": {"signed": "2025-02-10", "start": "2025-07-01", "end": "2035-06-30"},
        "documents": [{"name": "agreement.pdf", "sha256": DIGEST}],
    }  # fmt: skip
    terms.update(changes)
    return terms


def agreement_submit(
    event_id: str = "agr-1", *, actor: str = "perak-sg", time: str = T0, **changes: Any
) -> dict[str, Any]:
    return {"id": event_id, "type": "agreement", "time": time, "actor": actor,
            "agreement": agreement_terms(**changes)}  # fmt: skip


def agreement_review(
    event_id: str, status: str, *, agreement: str = "AGR-1", by: str = "council.asean",
    time: str = T0, **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    return {"id": event_id, "type": "agreement-review", "time": time, "actor": "registry",
            "agreement": agreement, "status": status, "by": by, **extra}  # fmt: skip


def dispute_open(
    event_id: str = "dsp-1", *, actor: str = "lynas-my", dispute: str = "D-1",
    about_event: str = "rcv-1", lot: str | None = None, time: str = T0,
) -> dict[str, Any]:  # fmt: skip
    about: dict[str, Any] = {"event": about_event}
    if lot is not None:
        about["lot"] = lot
    return {"id": event_id, "type": "dispute", "time": time, "actor": actor,
            "dispute": {"id": dispute, "about": about, "respondents": ["perak-ree"],
                        "summary": "the lot arrived 6% short of the shipped mass",
                        "evidence": [{"name": "weighbridge.pdf", "sha256": EVIDENCE}]}}  # fmt: skip


def statement(
    event_id: str, *, actor: str = "perak-ree", dispute: str = "D-1", time: str = T0
) -> dict[str, Any]:
    return {"id": event_id, "type": "statement", "time": time, "actor": actor,
            "dispute": dispute, "text": "loaded full weight; see the draft survey",
            "evidence": [{"name": "survey.pdf", "sha256": DIGEST}]}  # fmt: skip


def ruling(
    event_id: str, *, dispute: str = "D-1", outcome: str = "upheld", by: str = "council.asean",
    time: str = T0, corrective: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    event = {"id": event_id, "type": "ruling", "time": time, "actor": "registry",
             "dispute": dispute, "outcome": outcome, "by": by,
             "reasons": "the draft survey at loading was not witnessed"}  # fmt: skip
    if corrective is not None:
        event["corrective"] = corrective
    return event
