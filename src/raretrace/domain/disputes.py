"""Disputes between participants and the council's rulings (docs/clearinghouse.md).

A participant opens a dispute about an event of the ledger (and, optionally, the lot it
concerns: a short receipt, a mass it contests) against one or more respondents (``dispute``
event); the parties add statements with evidence by SHA-256 digest (``statement``); the
council rules ``upheld``, ``dismissed`` or ``settled`` with its reasons (``ruling``), which
closes it. A ruling may require a corrective event from a named party: any later ledger
event of that party carrying ``"corrects": DISPUTE`` records it, and the dispute shows
whether (and by which event) it was. Pure: each step returns the dispute as it becomes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from raretrace.domain import casework as cw
from raretrace.domain.casework import CaseState, Document, Step
from raretrace.domain.ids import check_id
from raretrace.domain.model import display_time

if TYPE_CHECKING:
    from raretrace.domain.registry import Registry

OPEN, RULED = "open", "ruled"
OUTCOMES: tuple[str, ...] = ("upheld", "dismissed", "settled")
#: The event field that names the dispute a corrective event answers.
CORRECTS = "corrects"

_OPEN = ("id", "about", "respondents", "summary", "evidence")
_ABOUT = ("event", "lot")
_CORRECTIVE = ("party", "action")


@dataclass(frozen=True, slots=True)
class Statement:
    """What a party put before the council, with its evidence by digest."""

    step: Step
    by: str
    text: str
    evidence: tuple[Document, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {**self.step.to_json(), "by": self.by, "text": self.text,
                "evidence": [d.to_json() for d in self.evidence]}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Corrective:
    """The event a ruling requires of a party, and whether (by which event) it came."""

    party: str
    action: str
    recorded: Step | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"party": self.party, "action": self.action,
                               "recorded": self.recorded is not None}  # fmt: skip
        if self.recorded is not None:
            doc["recorded_by"] = self.recorded.to_json()
        return doc


@dataclass(frozen=True, slots=True)
class Ruling:
    """The council's ruling: its outcome, reasons, who ruled, and any corrective event."""

    step: Step
    by: str
    outcome: str
    reasons: str
    corrective: Corrective | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {**self.step.to_json(), "by": self.by, "outcome": self.outcome,
                               "reasons": self.reasons}  # fmt: skip
        if self.corrective is not None:
            doc["corrective"] = self.corrective.to_json()
        return doc


@dataclass(frozen=True, slots=True)
class Dispute:
    """A dispute and everything recorded in it."""

    id: str
    event: str
    lot: str | None
    opened_by: str
    respondents: tuple[str, ...]
    summary: str
    evidence: tuple[Document, ...]
    opened: Step
    statements: tuple[Statement, ...] = ()
    ruling: Ruling | None = None

    @property
    def status(self) -> str:
        return OPEN if self.ruling is None else RULED

    @property
    def parties(self) -> set[str]:
        return {self.opened_by, *self.respondents}

    @property
    def last_time(self) -> str:
        times = [self.opened.time, *(s.step.time for s in self.statements)]
        if self.ruling is not None:
            times.append(self.ruling.step.time)
            if self.ruling.corrective is not None and self.ruling.corrective.recorded:
                times.append(self.ruling.corrective.recorded.time)
        return max(times)

    def to_json(self) -> dict[str, Any]:
        """Everything (what the council and the parties see; also the stored form)."""
        about: dict[str, Any] = {"event": self.event}
        if self.lot is not None:
            about["lot"] = self.lot
        return {
            "id": self.id,
            "status": self.status,
            "about": about,
            "opened_by": self.opened_by,
            "respondents": list(self.respondents),
            "summary": self.summary,
            "evidence": [d.to_json() for d in self.evidence],
            "opened": self.opened.to_json(),
            "statements": [s.to_json() for s in self.statements],
            "ruling": None if self.ruling is None else self.ruling.to_json(),
        }

    def outcome_json(self) -> dict[str, Any]:
        """What the public sees: that the dispute exists, its status and the ruling's outcome
        (not the parties' statements, evidence or the council's reasons)."""
        doc: dict[str, Any] = {"id": self.id, "status": self.status,
                               "opened": display_time(self.opened.time)}  # fmt: skip
        if self.ruling is not None:
            doc["outcome"] = self.ruling.outcome
            doc["ruled"] = display_time(self.ruling.step.time)
            corrective = self.ruling.corrective
            if corrective is not None:
                doc["corrective_required"] = True
                doc["corrective_recorded"] = corrective.recorded is not None
        return doc


def _subject(dispute_id: str) -> str:
    return f"dispute {dispute_id!r}"


def _known(registry: Registry, dispute_id: str) -> Dispute:
    found = registry.disputes.get(dispute_id)
    if found is None:
        raise cw.fail(
            "unknown-dispute",
            _subject(dispute_id),
            "no dispute with this id has been opened; list them with `raretrace dispute list`",
        )
    return found


def _still_open(dispute: Dispute, what: str) -> None:
    if dispute.ruling is not None:
        ruling = dispute.ruling
        raise cw.fail(
            "dispute-closed",
            _subject(dispute.id),
            f"was ruled {ruling.outcome!r} on {display_time(ruling.step.time)} (event"
            f" {ruling.step.event!r}) and is closed, so it takes no {what}; a new matter is a"
            " new dispute",
        )


def open_dispute(raw: Mapping[str, Any], *, actor: str, step: Step, state: CaseState) -> Dispute:
    """A ``dispute`` event: the opener disputes an event against registered respondents."""
    doc = cw.record(raw.get("dispute"), "dispute", f"event {step.event!r}", _OPEN)
    dispute_id = check_id(doc.get("id"), f"event {step.event!r}", "dispute id")
    subject = _subject(dispute_id)
    if dispute_id in state.registry.disputes:
        raise cw.fail(
            "dispute-exists",
            subject,
            "a dispute with this id is open or ruled already; use a new id",
        )
    about = cw.record(doc.get("about"), "about", subject, _ABOUT)
    lot = None if about.get("lot") is None else cw.ident(about, "lot", subject)
    if lot is not None and state.lot(lot) is None:
        raise cw.fail("lot-not-found", f"lot {lot!r}", f"no such lot ({subject} is about it)")
    respondents = _respondents(doc.get("respondents"), subject, actor, state.registry)
    return Dispute(
        id=dispute_id,
        event=cw.ident(about, "event", subject),
        lot=lot,
        opened_by=actor,
        respondents=respondents,
        summary=cw.text(doc, "summary", subject),
        evidence=cw.documents(doc, "evidence", subject),
        opened=step,
    )


def _respondents(value: object, subject: str, actor: str, registry: Registry) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise cw.fail("format", subject, "'respondents' must list the participants disputed with")
    ids = tuple(check_id(v, subject, "respondents") for v in value)
    for who in ids:
        if who not in registry.participants:
            raise cw.fail(
                "unknown-participant",
                subject,
                f"respondent {who!r} is not a registered participant",
            )
    if actor in ids or len(set(ids)) != len(ids):
        raise cw.fail(
            "format",
            subject,
            "'respondents' lists the opener or a participant twice; name each other party once",
        )
    return ids


def statement(raw: Mapping[str, Any], *, actor: str, step: Step, registry: Registry) -> Dispute:
    """A ``statement`` event: a party's statement and evidence, while the dispute is open."""
    dispute = _known(registry, cw.ident(raw, "dispute", f"event {step.event!r}"))
    subject = _subject(dispute.id)
    if actor not in dispute.parties:
        raise cw.fail(
            "not-dispute-party",
            subject,
            f"{actor!r} is not a party to it (parties: {', '.join(sorted(dispute.parties))});"
            " only the parties file statements",
        )
    _still_open(dispute, "statements")
    cw.not_before(dispute.last_time, step.time, subject, step.event)
    entry = Statement(step, actor, cw.text(raw, "text", subject),
                      cw.documents(raw, "evidence", subject))  # fmt: skip
    return replace(dispute, statements=(*dispute.statements, entry))


def rule(raw: Mapping[str, Any], *, actor: str, step: Step, registry: Registry) -> Dispute:
    """A ``ruling`` event: the council's ruling, which closes the dispute."""
    cw.council(actor, step.event, "a ruling")
    dispute = _known(registry, cw.ident(raw, "dispute", f"event {step.event!r}"))
    subject = _subject(dispute.id)
    _still_open(dispute, "second ruling")
    by = cw.member(raw, subject, dispute.parties, what="rule on", rule="ruler-is-party")
    cw.not_before(dispute.last_time, step.time, subject, step.event)
    outcome = cw.choice(raw, "outcome", subject, OUTCOMES)
    corrective = None
    if raw.get("corrective") is not None:
        doc = cw.record(raw.get("corrective"), "corrective", subject, _CORRECTIVE)
        party = cw.ident(doc, "party", subject)
        if party not in dispute.parties:
            raise cw.fail(
                "corrective-party",
                subject,
                f"the corrective event is required of {party!r}, who is not a party"
                f" ({', '.join(sorted(dispute.parties))}); name a party",
            )
        corrective = Corrective(party, cw.text(doc, "action", subject))
    ruling = Ruling(step, by, outcome, cw.text(raw, "reasons", subject), corrective)
    return replace(dispute, ruling=ruling)


def correction(dispute_id: object, *, actor: str, step: Step, registry: Registry) -> Dispute:
    """A ledger event carrying ``"corrects": DISPUTE``: the corrective event the ruling
    required of ``actor``, recorded once."""
    dispute = _known(registry, check_id(dispute_id, f"event {step.event!r}", CORRECTS))
    subject = _subject(dispute.id)
    ruling = dispute.ruling
    corrective = ruling.corrective if ruling is not None else None
    if ruling is None or corrective is None:
        raise cw.fail(
            "dispute-correction",
            subject,
            f"no ruling in it requires a corrective event (it is {dispute.status}); leave"
            f" {CORRECTS!r} out of event {step.event!r}",
        )
    if actor != corrective.party or corrective.recorded is not None:
        done = corrective.recorded
        raise cw.fail(
            "dispute-correction",
            subject,
            f"the ruling requires a corrective event of {corrective.party!r}, not {actor!r}"
            if done is None
            else f"its corrective event was recorded already (event {done.event!r});"
            f" leave {CORRECTS!r} out of event {step.event!r}",
        )
    cw.not_before(ruling.step.time, step.time, subject, step.event)
    fixed = replace(corrective, recorded=step)
    return replace(dispute, ruling=replace(ruling, corrective=fixed))


# -- the stored form ---------------------------------------------------------------------------


def dispute_from_json(doc: Mapping[str, Any]) -> Dispute:
    """Inverse of ``Dispute.to_json`` (for rows the append path wrote)."""
    return Dispute(
        id=doc["id"],
        event=doc["about"]["event"],
        lot=doc["about"].get("lot"),
        opened_by=doc["opened_by"],
        respondents=tuple(doc["respondents"]),
        summary=doc["summary"],
        evidence=_docs(doc["evidence"]),
        opened=Step.from_json(doc["opened"]),
        statements=tuple(
            Statement(Step.from_json(s), s["by"], s["text"], _docs(s["evidence"]))
            for s in doc["statements"]
        ),
        ruling=None if doc["ruling"] is None else _ruling(doc["ruling"]),
    )


def _docs(items: list[Mapping[str, str]]) -> tuple[Document, ...]:
    return tuple(Document(d["name"], d["sha256"]) for d in items)


def _ruling(doc: Mapping[str, Any]) -> Ruling:
    corrective = None
    if doc.get("corrective") is not None:
        c = doc["corrective"]
        recorded = Step.from_json(c["recorded_by"]) if c.get("recorded_by") else None
        corrective = Corrective(c["party"], c["action"], recorded)
    return Ruling(Step.from_json(doc), doc["by"], doc["outcome"], doc["reasons"], corrective)
