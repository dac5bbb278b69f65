"""REE agreements disclosed to the council and its review of them (docs/clearinghouse.md).

A party submits an agreement (``agreement`` event, signed by the party); the council's
oversight review moves it ``submitted → under-review → approved | approved-with-conditions |
rejected`` (``agreement-review`` events, recorded by the registry authority and naming the
member who decided), with reasons. An approved agreement is public: the fields that are
always public (id, kind, parties, jurisdictions, status, review history) and those the
council marks public when it approves. Pure: ``submit`` and ``review`` return the agreement
as it becomes, or raise the rule it breaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from raretrace.domain import casework as cw
from raretrace.domain import elements
from raretrace.domain.casework import Document, Step
from raretrace.domain.ids import check_id

if TYPE_CHECKING:
    from raretrace.domain.registry import Registry

KINDS: tuple[str, ...] = (
    "offtake", "supply", "joint-venture", "technology-transfer", "investment",
)  # fmt: skip
SUBMITTED, UNDER_REVIEW = "submitted", "under-review"
APPROVED, APPROVED_WITH_CONDITIONS, REJECTED = "approved", "approved-with-conditions", "rejected"
STATES: tuple[str, ...] = (SUBMITTED, UNDER_REVIEW, APPROVED, APPROVED_WITH_CONDITIONS, REJECTED)
#: Where a review may move an agreement from each state; a decision is final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    SUBMITTED: (UNDER_REVIEW,),
    UNDER_REVIEW: (APPROVED, APPROVED_WITH_CONDITIONS, REJECTED),
}
DECISIONS: tuple[str, ...] = (APPROVED, APPROVED_WITH_CONDITIONS, REJECTED)
#: States in which the public sees the agreement.
PUBLISHED: tuple[str, ...] = (APPROVED, APPROVED_WITH_CONDITIONS)
#: Fields every approved agreement shows to all; and those the council may mark public.
ALWAYS_PUBLIC: tuple[str, ...] = ("id", "kind", "parties", "jurisdictions", "status", "history")
MARKABLE: tuple[str, ...] = ("title", "elements", "volumes", "dates", "documents")
PERIODS: tuple[str, ...] = ("year", "term")

_TERMS = ("id", "title", "kind", "parties", "jurisdictions", "elements", "volumes", "dates",
          "documents")  # fmt: skip
_PARTY = ("name", "country", "participant", "role")
_VOLUME = ("material", "tonnes", "per")
_DATES = ("signed", "start", "end")
_REVIEW = ("status", "by", "reasons", "conditions", "public")


@dataclass(frozen=True, slots=True)
class Party:
    """A party to an agreement: any company or government, a registered participant or not."""

    name: str
    country: str
    participant: str | None = None
    role: str = ""

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "country": self.country}
        if self.participant is not None:
            doc["participant"] = self.participant
        if self.role:
            doc["role"] = self.role
        return doc


@dataclass(frozen=True, slots=True)
class Volume:
    """A quantity the agreement covers: tonnes of some material a year or over its term."""

    material: str
    tonnes: float
    per: str

    def to_json(self) -> dict[str, Any]:
        return {"material": self.material, "tonnes": self.tonnes, "per": self.per}


@dataclass(frozen=True, slots=True)
class Terms:
    """What the parties disclosed, as submitted."""

    id: str
    title: str
    kind: str
    parties: tuple[Party, ...]
    jurisdictions: tuple[str, ...]
    elements: tuple[str, ...]
    volumes: tuple[Volume, ...]
    signed: str
    start: str | None
    end: str | None
    documents: tuple[Document, ...]

    def to_json(self) -> dict[str, Any]:
        dates: dict[str, str] = {"signed": self.signed}
        dates.update({k: v for k, v in (("start", self.start), ("end", self.end)) if v})
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "parties": [p.to_json() for p in self.parties],
            "jurisdictions": list(self.jurisdictions),
            "elements": list(self.elements),
            "volumes": [v.to_json() for v in self.volumes],
            "dates": dates,
            "documents": [d.to_json() for d in self.documents],
        }


@dataclass(frozen=True, slots=True)
class Review:
    """One step of the council's review: the state it moved to, who decided, and why."""

    step: Step
    status: str
    by: str
    reasons: str
    conditions: tuple[str, ...] = ()
    public: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {**self.step.to_json(), "status": self.status, "by": self.by}
        if self.reasons:
            doc["reasons"] = self.reasons
        if self.conditions:
            doc["conditions"] = list(self.conditions)
        if self.public:
            doc["public"] = list(self.public)
        return doc


@dataclass(frozen=True, slots=True)
class Agreement:
    """An agreement and where its review stands."""

    terms: Terms
    submitted_by: str
    submitted: Step
    status: str = SUBMITTED
    reviews: tuple[Review, ...] = ()

    @property
    def id(self) -> str:
        return self.terms.id

    @property
    def party_ids(self) -> set[str]:
        """The registered participants among the parties."""
        return {p.participant for p in self.terms.parties if p.participant is not None}

    @property
    def public_fields(self) -> tuple[str, ...]:
        """The fields the public sees (none unless approved)."""
        if self.status not in PUBLISHED:
            return ()
        marked = self.reviews[-1].public if self.reviews else ()
        return ALWAYS_PUBLIC + tuple(f for f in MARKABLE if f in marked)

    @property
    def last_time(self) -> str:
        return self.reviews[-1].step.time if self.reviews else self.submitted.time

    def history_json(self) -> list[dict[str, Any]]:
        """Submission and every review step, oldest first."""
        first = {**self.submitted.to_json(), "status": SUBMITTED, "by": self.submitted_by}
        return [first, *(r.to_json() for r in self.reviews)]

    def to_json(self) -> dict[str, Any]:
        """Everything (what the council and the parties see; also the stored form)."""
        return {
            **self.terms.to_json(),
            "status": self.status,
            "submitted_by": self.submitted_by,
            "public_fields": list(self.public_fields),
            "history": self.history_json(),
        }

    def public_json(self) -> dict[str, Any]:
        """What the public sees of an approved agreement: its public fields only."""
        full = self.to_json()
        shown = {k: full[k] for k in self.public_fields if k in full}
        shown["public_fields"] = list(self.public_fields)
        return shown


# -- parsing -----------------------------------------------------------------------------------


def parse_terms(obj: object, subject: str, known: Registry | None) -> Terms:
    """The ``agreement`` object of a submission; parties that name a participant must name
    a registered one (when ``known`` is given)."""
    doc = cw.record(obj, "agreement", subject, _TERMS)
    agreement_id = check_id(doc.get("id"), subject, "agreement id")
    subject = f"agreement {agreement_id!r}"
    dates = cw.record(doc.get("dates"), "dates", subject, _DATES)
    terms = Terms(
        id=agreement_id,
        title=cw.text(doc, "title", subject),
        kind=cw.choice(doc, "kind", subject, KINDS),
        parties=_parties(doc.get("parties"), subject, known),
        jurisdictions=_jurisdictions(doc.get("jurisdictions"), subject),
        elements=_elements(doc.get("elements", []), subject),
        volumes=_volumes(doc.get("volumes", []), subject),
        signed=cw.day(dates, "signed", subject, required=True) or "",
        start=cw.day(dates, "start", subject, required=False),
        end=cw.day(dates, "end", subject, required=False),
        documents=cw.documents(doc, "documents", subject),
    )
    if not terms.documents:
        raise cw.fail(
            "format",
            subject,
            "'documents' must list at least one document by name and SHA-256: the council"
            " reviews what was signed",
        )
    if terms.start and terms.end and terms.end <= terms.start:
        raise cw.fail("format", subject, f"dates.end {terms.end} is not after start {terms.start}")
    return terms


def _parties(value: object, subject: str, known: Registry | None) -> tuple[Party, ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise cw.fail("format", subject, "'parties' must list at least two parties")
    parties = []
    for i, item in enumerate(value):
        where = f"parties[{i}]"
        doc = cw.record(item, where, subject, _PARTY)
        participant = None
        if doc.get("participant") is not None:
            participant = check_id(doc.get("participant"), subject, f"{where}.participant")
            if known is not None and participant not in known.participants:
                raise cw.fail(
                    "unknown-participant",
                    subject,
                    f"{where}.participant {participant!r} is not registered; leave it out for"
                    " a party that is not a participant",
                )
        parties.append(
            Party(
                cw.text(doc, "name", f"{subject} {where}"),
                _code(doc.get("country"), subject, f"{where}.country", subdivision=False),
                participant,
                cw.text(doc, "role", f"{subject} {where}", required=False),
            )
        )
    named = [p.participant for p in parties if p.participant]
    if len(set(named)) != len(named):
        raise cw.fail("format", subject, "a participant is named by two parties")
    return tuple(parties)


def _code(value: object, subject: str, where: str, *, subdivision: bool) -> str:
    """An ISO 3166-1 alpha-2 country code, or (``subdivision``) also an ISO 3166-2 code."""
    country, _, part = value.partition("-") if isinstance(value, str) else ("", "", "")
    good_country = len(country) == 2 and country.isascii() and country.isalpha()
    good_country = good_country and country.isupper()
    good_part = not part or (
        subdivision and 1 <= len(part) <= 3 and part.isascii() and part.isalnum()
        and part == part.upper()
    )  # fmt: skip
    if not (good_country and good_part):
        wanted = "an ISO 3166-1 code such as 'MY' or an ISO 3166-2 code such as 'MY-08'"
        raise cw.fail(
            "format", subject, f"{where} must be {wanted if subdivision else 'an ISO 3166-1 code'}"
            f" such as 'MY', got {value!r}",
        )  # fmt: skip
    return str(value)


def _jurisdictions(value: object, subject: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise cw.fail(
            "format",
            subject,
            "'jurisdictions' must list the countries or states whose law governs it, such as"
            " ['MY', 'MY-08']",
        )
    return tuple(
        _code(v, subject, f"jurisdictions[{i}]", subdivision=True) for i, v in enumerate(value)
    )


def _elements(value: object, subject: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise cw.fail("format", subject, "'elements' must be a list of element symbols")
    for v in value:
        if not elements.is_known(v):
            raise cw.fail(
                "unknown-element", subject, f"element {v!r} is not known; use symbols such as 'Nd'"
            )
    return tuple(value)


def _volumes(value: object, subject: str) -> tuple[Volume, ...]:
    if not isinstance(value, list):
        raise cw.fail("format", subject, "'volumes' must be a list of {material, tonnes, per}")
    out = []
    for i, item in enumerate(value):
        where = f"volumes[{i}]"
        doc = cw.record(item, where, subject, _VOLUME)
        out.append(
            Volume(
                cw.text(doc, "material", f"{subject} {where}"),
                cw.tonnes(doc.get("tonnes"), subject, f"{where}.tonnes"),
                cw.choice(doc, "per", f"{subject} {where}", PERIODS),
            )
        )
    return tuple(out)


# -- the workflow ------------------------------------------------------------------------------


def submit(raw: Mapping[str, Any], *, actor: str, step: Step, registry: Registry) -> Agreement:
    """An ``agreement`` event: the submitting participant must be one of the parties."""
    terms = parse_terms(raw.get("agreement"), f"event {step.event!r}", registry)
    subject = f"agreement {terms.id!r}"
    if terms.id in registry.agreements:
        raise cw.fail(
            "agreement-exists",
            subject,
            "an agreement with this id was submitted already; give a new agreement a new id",
        )
    agreement = Agreement(terms, actor, step)
    if actor not in agreement.party_ids:
        raise cw.fail(
            "agreement-party",
            subject,
            f"{actor!r} is not among its parties' participants"
            f" ({', '.join(sorted(agreement.party_ids)) or 'none'}); a party submits it",
        )
    return agreement


def review(raw: Mapping[str, Any], *, actor: str, step: Step, registry: Registry) -> Agreement:
    """An ``agreement-review`` event: the council moves the agreement one step."""
    event_subject = f"event {step.event!r}"
    cw.council(actor, step.event, "an agreement review")
    agreement_id = cw.ident(raw, "agreement", event_subject)
    agreement = registry.agreements.get(agreement_id)
    subject = f"agreement {agreement_id!r}"
    if agreement is None:
        raise cw.fail(
            "unknown-agreement",
            subject,
            "no agreement with this id has been submitted; list them with"
            " `raretrace agreement list`",
        )
    doc = {k: raw.get(k) for k in _REVIEW if k in raw}
    target = cw.choice(doc, "status", subject, STATES)
    _check_transition(agreement, target)
    by = cw.member(doc, subject, agreement.party_ids, what="review", rule="reviewer-is-party")
    cw.not_before(agreement.last_time, step.time, subject, step.event)
    decision = target in DECISIONS
    reasons = cw.text(doc, "reasons", subject, required=decision)
    conditions = cw.texts(doc, "conditions", subject)
    if (target == APPROVED_WITH_CONDITIONS) != bool(conditions):
        raise cw.fail(
            "agreement-conditions",
            subject,
            "an approval with conditions lists its 'conditions', and only it does;"
            f" got status {target!r} with {len(conditions)} condition(s)",
        )
    public = _public(doc.get("public", []), subject, approving=target in PUBLISHED)
    entry = Review(step, target, by, reasons, conditions, public)
    return replace(agreement, status=target, reviews=(*agreement.reviews, entry))


def _check_transition(agreement: Agreement, target: str) -> None:
    allowed = TRANSITIONS.get(agreement.status, ())
    if target in allowed:
        return
    if not allowed:
        advice = "the decision is final; a changed agreement is submitted anew under a new id"
    else:
        advice = f"from {agreement.status} a review moves it to {' or '.join(allowed)}"
    raise cw.fail(
        "agreement-transition",
        f"agreement {agreement.id!r}",
        f"is {agreement.status}, so it cannot move to {target}; {advice}",
    )


def _public(value: object, subject: str, *, approving: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise cw.fail("format", subject, f"'public' must be a list of {', '.join(MARKABLE)}")
    unknown = sorted(set(value) - set(MARKABLE))
    if unknown:
        raise cw.fail(
            "format",
            subject,
            f"'public' names {unknown}; the council marks some of {', '.join(MARKABLE)}"
            f" public ({', '.join(ALWAYS_PUBLIC)} always are once approved)",
        )
    if value and not approving:
        raise cw.fail("format", subject, "fields are marked 'public' only when approving")
    return tuple(f for f in MARKABLE if f in value)


# -- the stored form ---------------------------------------------------------------------------


def agreement_from_json(doc: Mapping[str, Any]) -> Agreement:
    """Inverse of ``Agreement.to_json`` (for rows the append path wrote)."""
    terms = parse_terms({k: doc[k] for k in _TERMS if k in doc}, "stored agreement", None)
    first, *rest = doc["history"]
    reviews = tuple(
        Review(
            Step.from_json(r),
            r["status"],
            r["by"],
            r.get("reasons", ""),
            tuple(r.get("conditions", ())),
            tuple(r.get("public", ())),
        )
        for r in rest
    )
    return Agreement(terms, doc["submitted_by"], Step.from_json(first), doc["status"], reviews)
