"""The clearinghouse's rules in the one write path: which workflow each event type moves.

``rules.apply`` hands every clearinghouse event (``CASE_TYPES``) to ``apply_case`` and every
other ledger event that carries ``"corrects"`` to ``apply_correction``; both return the
``CaseEffect`` — a licence record or an agreement or dispute as it becomes — or raise the
rule the event breaks (docs/clearinghouse.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from raretrace.domain import agreements, disputes, licence_actions
from raretrace.domain.agreements import Agreement
from raretrace.domain.casework import CaseState, Step
from raretrace.domain.disputes import CORRECTS, Dispute
from raretrace.domain.licensing import Licence

#: An agreement or a dispute: the clearinghouse's cases, kept in their own tables.
Case = Agreement | Dispute
#: The event types of the clearinghouse, and which of them the council records.
CASE_TYPES: tuple[str, ...] = (
    "licensing", "agreement", "agreement-review", "dispute", "statement", "ruling",
)  # fmt: skip
COUNCIL_TYPES: tuple[str, ...] = ("agreement-review", "ruling")
#: The case kind of each case class (the stored rows' ``kind``).
CASE_KINDS: dict[type, str] = {Agreement: "agreement", Dispute: "dispute"}


@dataclass(frozen=True, slots=True)
class CaseEffect:
    """What one clearinghouse event changes: a licence record, or a case."""

    licence: Licence | None = None
    case: Case | None = None


def _licensing(raw: Mapping[str, Any], actor: str, step: Step, state: CaseState) -> CaseEffect:
    return CaseEffect(
        licence=licence_actions.apply_licensing(
            raw, actor=actor, step=step, registry=state.registry
        )
    )


def _agreement(raw: Mapping[str, Any], actor: str, step: Step, state: CaseState) -> CaseEffect:
    return CaseEffect(case=agreements.submit(raw, actor=actor, step=step, registry=state.registry))


def _review(raw: Mapping[str, Any], actor: str, step: Step, state: CaseState) -> CaseEffect:
    return CaseEffect(case=agreements.review(raw, actor=actor, step=step, registry=state.registry))


def _dispute(raw: Mapping[str, Any], actor: str, step: Step, state: CaseState) -> CaseEffect:
    return CaseEffect(case=disputes.open_dispute(raw, actor=actor, step=step, state=state))


def _statement(raw: Mapping[str, Any], actor: str, step: Step, state: CaseState) -> CaseEffect:
    return CaseEffect(case=disputes.statement(raw, actor=actor, step=step, registry=state.registry))


def _ruling(raw: Mapping[str, Any], actor: str, step: Step, state: CaseState) -> CaseEffect:
    return CaseEffect(case=disputes.rule(raw, actor=actor, step=step, registry=state.registry))


_APPLY: dict[str, Callable[[Mapping[str, Any], str, Step, CaseState], CaseEffect]] = {
    "licensing": _licensing,
    "agreement": _agreement,
    "agreement-review": _review,
    "dispute": _dispute,
    "statement": _statement,
    "ruling": _ruling,
}


def apply_case(
    state: CaseState, *, event_type: str, raw: Mapping[str, Any], actor: str, step: Step
) -> CaseEffect:
    """What the clearinghouse event ``raw`` (of ``event_type``, by ``actor``, at ``step``)
    does, or the rule it breaks."""
    return _APPLY[event_type](raw, actor, step, state)


def apply_correction(state: CaseState, *, raw: Mapping[str, Any], actor: str, step: Step) -> Case:
    """The dispute a ledger event carrying ``"corrects"`` answers, with the correction
    recorded."""
    return disputes.correction(raw.get(CORRECTS), actor=actor, step=step, registry=state.registry)


def moved(event_type: str, licence: object, case: Case | None) -> tuple[str, str] | None:
    """Which licence, agreement or dispute (kind, id) an accepted event moved, if any: the
    ``case_steps`` row of the event (a corrective event moves its dispute)."""
    if case is not None:
        return CASE_KINDS[type(case)], case.id
    if event_type == "licensing" and isinstance(licence, Licence):
        return "licence", licence.id
    return None


def case_lots(raw: Mapping[str, Any]) -> list[str]:
    """The lots a clearinghouse event names (a dispute's ``about.lot``), for the append path
    to read before the rules run."""
    dispute = raw.get("dispute")
    about = dispute.get("about") if isinstance(dispute, Mapping) else None
    lot = about.get("lot") if isinstance(about, Mapping) else None
    return [lot] if isinstance(lot, str) else []
