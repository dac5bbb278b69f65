"""The clearinghouse's events as the command line and the service build them: the fields of
each step (docs/clearinghouse.md), an id, and the time. Pure: nothing is signed or stored here.

A participant's event id is ``<type>:<subject>:<12 hex of SHA-256 of its content>``; the
council's decisions have ids that name what was decided (``review:AGR-1:approved``,
``ruling:D-1``), so the same decision sent twice is recognised as a retry, and a second,
different decision of the same step is refused.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from raretrace.domain.canonical import canonical_json
from raretrace.domain.model import REGISTRY_ACTOR, display_time, normalize_time


def moment(when: str | None, option: str = "--time") -> str:
    """``when`` (RFC 3339) as an event time, or now (UTC, whole seconds)."""
    if when is None:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return display_time(normalize_time(when, option))


def _identified(kind: str, subject: str, event: dict[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(canonical_json(event)).hexdigest()[:12]
    return {"id": f"{kind}:{subject}:{digest}", **event}


def licensing(
    action: str, *, actor: str, licence: str | dict[str, Any], time: str,
    reason: str | None = None, valid_until: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """An authority's ``licensing`` event: ``licence`` is the record (issue) or its id."""
    event: dict[str, Any] = {"type": "licensing", "time": time, "actor": actor,
                             "action": action, "licence": licence}  # fmt: skip
    if reason is not None:
        event["reason"] = reason
    if valid_until is not None:
        event["valid_until"] = valid_until
    subject = licence if isinstance(licence, str) else str(licence.get("id"))
    return _identified(f"licensing-{action}", subject, event)


def agreement(terms: dict[str, Any], *, actor: str, time: str) -> dict[str, Any]:
    """A party's ``agreement`` submission."""
    event = {"type": "agreement", "time": time, "actor": actor, "agreement": terms}
    return _identified("agreement", str(terms.get("id")), event)


def review(
    agreement_id: str, *, status: str, by: str, time: str, reasons: str | None = None,
    conditions: list[str] | None = None, public: list[str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The council's ``agreement-review`` step (actor ``registry``)."""
    event: dict[str, Any] = {
        "id": f"review:{agreement_id}:{status}", "type": "agreement-review", "time": time,
        "actor": REGISTRY_ACTOR, "agreement": agreement_id, "status": status, "by": by,
    }  # fmt: skip
    if reasons is not None:
        event["reasons"] = reasons
    if conditions:
        event["conditions"] = conditions
    if public:
        event["public"] = public
    return event


def dispute(
    dispute_id: str, *, actor: str, time: str, about_event: str, lot: str | None,
    respondents: list[str], summary: str, evidence: list[dict[str, str]],
) -> dict[str, Any]:  # fmt: skip
    """A participant's ``dispute``: it opens one."""
    about: dict[str, Any] = {"event": about_event}
    if lot is not None:
        about["lot"] = lot
    body = {"id": dispute_id, "about": about, "respondents": respondents, "summary": summary,
            "evidence": evidence}  # fmt: skip
    event = {"type": "dispute", "time": time, "actor": actor, "dispute": body}
    return _identified("dispute", dispute_id, event)


def statement(
    dispute_id: str, *, actor: str, time: str, text: str, evidence: list[dict[str, str]]
) -> dict[str, Any]:
    """A party's ``statement`` in a dispute."""
    event = {"type": "statement", "time": time, "actor": actor, "dispute": dispute_id,
             "text": text, "evidence": evidence}  # fmt: skip
    return _identified("statement", dispute_id, event)


def ruling(
    dispute_id: str, *, outcome: str, by: str, reasons: str, time: str,
    corrective: dict[str, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The council's ``ruling`` (actor ``registry``)."""
    event: dict[str, Any] = {
        "id": f"ruling:{dispute_id}", "type": "ruling", "time": time, "actor": REGISTRY_ACTOR,
        "dispute": dispute_id, "outcome": outcome, "by": by, "reasons": reasons,
    }  # fmt: skip
    if corrective is not None:
        event["corrective"] = corrective
    return event
