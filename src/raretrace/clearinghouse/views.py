"""What each caller sees of the clearinghouse (docs/clearinghouse.md, "Who sees what"):
the council everything; a party (an operator, auditor or authority token of a participant
named in it) its own agreements and disputes in full; everyone the public fields of approved
agreements, every licence with its standing, and the outcome of every ruled dispute. Pure."""

from __future__ import annotations

from typing import Any

from raretrace.domain.agreements import PUBLISHED, Agreement
from raretrace.domain.disputes import Dispute
from raretrace.domain.licensing import Licence
from raretrace.service.access import COUNCIL, PARTICIPANT_ROLES, Principal


def _party_of(principal: Principal, parties: set[str]) -> bool:
    # Only a token of a registered participant's role makes its holder a party: a council or
    # witness token may carry any name.
    return principal.role in PARTICIPANT_ROLES and principal.participant in parties


def agreement_view(agreement: Agreement, principal: Principal) -> dict[str, Any] | None:
    """The agreement as ``principal`` may see it (``view``: full or public), or None."""
    if principal.role == COUNCIL or _party_of(principal, agreement.party_ids):
        return {**agreement.to_json(), "view": "full"}
    if agreement.status in PUBLISHED:
        return {**agreement.public_json(), "view": "public"}
    return None


def dispute_view(dispute: Dispute, principal: Principal) -> dict[str, Any] | None:
    """The dispute as ``principal`` may see it (``view``: full or outcome), or None."""
    if principal.role == COUNCIL or _party_of(principal, dispute.parties):
        return {**dispute.to_json(), "view": "full"}
    if dispute.ruling is not None:
        return {**dispute.outcome_json(), "view": "outcome"}
    return None


def standing(licence: Licence, now: str) -> str:
    """``valid``, ``suspended``, ``revoked``, ``expired`` or ``not-yet-valid`` at ``now``."""
    if licence.revoked is not None and now >= licence.revoked.at:
        return "revoked"
    if any(p.covers(now) for p in licence.suspensions):
        return "suspended"
    if now < licence.valid_from:
        return "not-yet-valid"
    if licence.valid_until is not None and now >= licence.valid_until:
        return "expired"
    return "valid"


def licence_view(licence: Licence, now: str) -> dict[str, Any]:
    """A licence (public: licences are the public's to see) with its standing at ``now``."""
    return {**licence.to_json(), "standing": standing(licence, now)}
