"""One function per clearinghouse operation, for the command line and the HTTP service
(docs/clearinghouse.md). Writes go through a ``Writer`` (the append path: a ``Ledger`` for the
command line, the service's ``Submitter``), reads through a ``Store``; both edges render what
these return. The web dashboard builds its pages on the same functions.

Participants' steps (licensing, agreements, disputes, statements) arrive signed by their
actor; the council's decisions (reviews, rulings) are signed here with the registry
authority's key, naming the member who decided, and are recorded once: the same decision
sent again answers as a retry, a different decision of the same step is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from raretrace.clearinghouse import events
from raretrace.clearinghouse.views import agreement_view, dispute_view, licence_view
from raretrace.domain import jsontext
from raretrace.domain.casework import Step
from raretrace.domain.clearinghouse import apply_case
from raretrace.domain.errors import NotFound, ValidationError
from raretrace.domain.keys import sign_event
from raretrace.domain.model import REGISTRY_ACTOR, Lot, normalize_time
from raretrace.domain.registry import Registry
from raretrace.ledger import service as ledger_service
from raretrace.ledger.append import Ledger
from raretrace.ledger.keyfiles import KeyFile
from raretrace.service.access import COUNCIL, Principal, Scope
from raretrace.service.submit import Accepted, Submitter
from raretrace.store import cases
from raretrace.store.store import Store

T = TypeVar("T")


class Writer(Protocol):
    """Where the clearinghouse's events are appended (the one write path)."""

    @property
    def store(self) -> Store: ...

    def submit(self, event: dict[str, Any]) -> Accepted:
        """Append an event signed by its actor."""
        ...

    def submit_council(self, event: dict[str, Any]) -> Accepted:
        """Sign a council event (actor ``registry``) with the registry key and append it."""
        ...


class LedgerWriter:
    """The command line's writer: the append path of the ledger it opened."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    @property
    def store(self) -> Store:
        return self.ledger.store

    def submit(self, event: dict[str, Any]) -> Accepted:
        report = self.ledger.append(event)
        return Accepted(str(event["id"]), _seq(self.store, str(event["id"])),
                        replay=report.duplicates > 0)  # fmt: skip

    def submit_council(self, event: dict[str, Any]) -> Accepted:
        signer = ledger_service.registry_signer(self.ledger)
        return self.submit(sign_event(event, signer.private_key, signer.kid))


class ServiceWriter:
    """The HTTP service's writer: its process's ``Submitter``, for one caller."""

    def __init__(self, submitter: Submitter, principal: Principal) -> None:
        self.submitter, self.principal = submitter, principal

    @property
    def store(self) -> Store:
        return self.submitter.write_store()

    def submit(self, event: dict[str, Any]) -> Accepted:
        return self.submitter.submit(event, self.principal)

    def submit_council(self, event: dict[str, Any]) -> Accepted:
        return self.submitter.submit_council(event)


def _seq(store: Store, event_id: str) -> int:
    with store.engine.connect() as conn:
        return cases.event_seq(conn, event_id) or 0


def _reading(store: Store, read: Callable[[Any], T]) -> T:
    with store.engine.connect() as conn:
        return read(conn)


# -- participants' steps -----------------------------------------------------------------------

#: The event types each participant endpoint takes.
LICENSING, AGREEMENT, DISPUTE, STATEMENT = (
    ("licensing",),
    ("agreement",),
    ("dispute",),
    ("statement",),
)


def submit_step(
    writer: Writer, event: object, *, expected: tuple[str, ...], case: str | None = None
) -> Accepted:
    """Append a clearinghouse event its actor signed (the service's POST bodies; the command
    line's after ``signed``). ``case``: the dispute a statement must name (the URL's)."""
    if not isinstance(event, dict):
        raise ValidationError("format", "request", "the body must be one signed event (object)")
    kind = event.get("type")
    subject = f"event {event.get('id')!r}"
    if kind not in expected:
        raise ValidationError(
            "format", subject, f"this takes a {' or '.join(expected)} event, got type {kind!r}"
        )
    if case is not None and event.get("dispute") != case:
        raise ValidationError(
            "format", subject, f"the event is about dispute {event.get('dispute')!r}, not {case!r}"
        )
    if kind == "dispute":
        _check_disputed_event(writer.store, event)
    return writer.submit(event)


def _check_disputed_event(store: Store, event: dict[str, Any]) -> None:
    """A dispute names an event of the ledger its opener is party to (its actor, the
    consignee, or the operator of a facility it names); the rules see only the lot, so the
    command line and the service check the event here (docs/clearinghouse.md)."""
    dispute = event.get("dispute")
    about = dispute.get("about") if isinstance(dispute, dict) else None
    disputed = about.get("event") if isinstance(about, dict) else None
    if not isinstance(disputed, str):
        return  # the rules refuse the shape, naming the field
    with store.engine.connect() as conn:
        body = store.event_bodies(conn, [disputed]).get(disputed)
    subject = f"dispute {dispute.get('id')!r}" if isinstance(dispute, dict) else "dispute"
    if body is None:
        raise ValidationError("unknown-event", subject, f"event {disputed!r} is not in the"
                              " ledger; a dispute is about an accepted event")  # fmt: skip
    opener = str(event.get("actor"))
    registry = store.registry()
    operated = frozenset(f.id for f in registry.facilities.values() if f.operator == opener)
    if not Scope(False, operated, frozenset({opener})).sees_event(jsontext.loads(body)):
        raise ValidationError(
            "not-event-party", subject, f"{opener!r} is not party to event {disputed!r} (not its"
            " actor or consignee, nor the operator of a facility it names); a participant"
            " disputes the events it is party to",
        )  # fmt: skip


def signed(event: dict[str, Any], key: KeyFile) -> dict[str, Any]:
    """``event`` signed with a participant's key file (its actor must be the key's owner)."""
    return sign_event(event, key.private_key, key.kid)


def document(path: Path) -> dict[str, str]:
    """A local file as a document reference: its name and SHA-256 (the log keeps only that)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"name": path.name, "sha256": digest.hexdigest()}


# -- the council's decisions -------------------------------------------------------------------


def review_agreement(
    writer: Writer, agreement_id: str, *, status: str, by: str, reasons: str | None = None,
    conditions: Sequence[str] = (), public: Sequence[str] = (), time: str | None = None,
) -> Accepted:  # fmt: skip
    """Move an agreement one step of its review, as council member ``by``."""
    event = events.review(agreement_id, status=status, by=by, time=events.moment(time),
                          reasons=reasons, conditions=list(conditions),
                          public=list(public))  # fmt: skip
    return _decide(writer, event)


def rule_dispute(
    writer: Writer, dispute_id: str, *, outcome: str, by: str, reasons: str,
    corrective: dict[str, str] | None = None, time: str | None = None,
) -> Accepted:  # fmt: skip
    """Rule on a dispute, as council member ``by``; ``corrective``: {party, action}."""
    event = events.ruling(dispute_id, outcome=outcome, by=by, reasons=reasons,
                          time=events.moment(time), corrective=corrective)  # fmt: skip
    return _decide(writer, event)


def _decide(writer: Writer, event: dict[str, Any]) -> Accepted:
    event_id = str(event["id"])
    with writer.store.engine.connect() as conn:
        known = writer.store.event_bodies(conn, [event_id]).get(event_id)
        seq = cases.event_seq(conn, event_id)
    if known is None:
        return writer.submit_council(event)
    if _decision(jsontext.loads(known)) == _decision(event):
        return Accepted(event_id, seq or 0, replay=True)
    _rules_refuse(writer.store, event)  # a closed dispute, a step already taken: the rule's words
    raise ValidationError(
        "duplicate-event-id",
        f"event {event_id!r}",
        f"this step was decided already (event {event_id!r}, seq {seq}) with other content;"
        " a review step or a ruling is recorded once: see it with `show`",
    )


@dataclass(frozen=True, slots=True)
class _Now:
    """The clearinghouse as it stands (a ``CaseState``; a council decision names no lot)."""

    registry: Registry

    def lot(self, lot_id: str) -> Lot | None:
        return None


def _rules_refuse(store: Store, event: dict[str, Any]) -> None:
    """Raise what the rules say of ``event`` on the ledger as it stands, if they refuse it."""
    with store.engine.connect() as conn:
        state = _Now(store.registry(conn))  # read now: cases are not in the cached registry
    step = Step(str(event["id"]), -1, normalize_time(event["time"], "time"))
    apply_case(state, event_type=str(event["type"]), raw=event, actor=REGISTRY_ACTOR, step=step)


def _decision(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in ("time", "sig")}


# -- reads -------------------------------------------------------------------------------------


def _now(now: str | None) -> str:
    return normalize_time(events.moment(now), "now")


def licences(store: Store, *, now: str | None = None) -> list[dict[str, Any]]:
    """Every licence with its standing at ``now`` (default: the present), by id."""
    at = _now(now)
    registry = store.registry()
    return [licence_view(x, at) for _, x in sorted(registry.licences.items())]


def licence(store: Store, licence_id: str, *, now: str | None = None) -> dict[str, Any]:
    """One licence with its standing and the licensing events that moved it."""
    found = store.registry().licences.get(licence_id)
    if found is None:
        raise NotFound(f"licence {licence_id!r} is not registered; list them with"
                       " `raretrace licence list`")  # fmt: skip
    steps = _reading(store, lambda conn: cases.step_events(conn, "licence", licence_id))
    history = [_licensing_step(s["seq"], s["event"]) for s in steps]
    return {**licence_view(found, _now(now)), "history": history}


def _licensing_step(seq: int, event: dict[str, Any]) -> dict[str, Any]:
    step = {"seq": seq, "event": event["id"], "time": event["time"], "action": event["action"],
            "by": event["actor"]}  # fmt: skip
    step.update({k: event[k] for k in ("reason", "valid_until") if k in event})
    return step


def agreements(
    store: Store, principal: Principal, *, status: str | None = None
) -> list[dict[str, Any]]:
    """The agreements ``principal`` may see (in full or their public fields), by id."""
    found = _reading(store, lambda conn: cases.agreements(conn, status=status))
    return [v for a in found if (v := agreement_view(a, principal)) is not None]


def agreement(store: Store, principal: Principal, agreement_id: str) -> dict[str, Any]:
    """One agreement as ``principal`` may see it; NotFound (the same) if absent or hidden."""
    found = _reading(store, lambda conn: cases.agreement(conn, agreement_id))
    view = None if found is None else agreement_view(found, principal)
    if view is None:
        raise NotFound(f"agreement {agreement_id!r} is not in the ledger or not public;"
                       " list what you may see with `raretrace agreement list`")  # fmt: skip
    return view


def disputes(
    store: Store, principal: Principal, *, status: str | None = None
) -> list[dict[str, Any]]:
    """The disputes ``principal`` may see (in full, or the ruling's outcome), by id."""
    found = _reading(store, lambda conn: cases.disputes(conn, status=status))
    return [v for d in found if (v := dispute_view(d, principal)) is not None]


def dispute(store: Store, principal: Principal, dispute_id: str) -> dict[str, Any]:
    """One dispute as ``principal`` may see it; NotFound (the same) if absent or hidden."""
    found = _reading(store, lambda conn: cases.dispute(conn, dispute_id))
    view = None if found is None else dispute_view(found, principal)
    if view is None:
        raise NotFound(f"dispute {dispute_id!r} is not in the ledger or not visible to you;"
                       " list what you may see with `raretrace dispute list`")  # fmt: skip
    return view


#: The command line acts as the council (it holds the ledger and the registry key).
COUNCIL_VIEW = Principal(COUNCIL, "council")
