"""``raretrace licence``, ``agreement``, ``dispute``: the council's clearinghouse on the command
line, for a council that runs without the service (docs/clearinghouse.md).

Participants' steps are signed with the key file given (``--key``: the authority's, the
party's); the council's decisions with the ledger's registry key, naming the member who
decided (``--by``). Each command parses, calls one function of
``raretrace.clearinghouse.service`` and prints what it returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from raretrace.clearinghouse import events
from raretrace.clearinghouse import service as ch
from raretrace.cli import render
from raretrace.cli.main import PLAIN_HELP, DbOption, JsonFlag, _db, _store, app, out
from raretrace.domain.agreements import MARKABLE, STATES
from raretrace.domain.disputes import OUTCOMES
from raretrace.domain.errors import ConfigError
from raretrace.domain.licensing import LICENCE_KINDS
from raretrace.ledger.keyfiles import KeyFile, read_key_file
from raretrace.service import ledger as ledger_service
from raretrace.service import ledgers
from raretrace.service.access import ANONYMOUS
from raretrace.service.submit import Accepted

__all__ = ["agreement_app", "dispute_app", "licence_app"]

licence_app = typer.Typer(
    help="Licences: authorities issue, renew, suspend, reinstate and revoke them.",
    no_args_is_help=True,
    **PLAIN_HELP,
)
agreement_app = typer.Typer(
    help="REE agreements: parties submit them, the council reviews them.",
    no_args_is_help=True,
    **PLAIN_HELP,
)
dispute_app = typer.Typer(
    help="Disputes: participants open them and file statements, the council rules.",
    no_args_is_help=True,
    **PLAIN_HELP,
)
app.add_typer(licence_app, name="licence")
app.add_typer(agreement_app, name="agreement")
app.add_typer(dispute_app, name="dispute")

KeyOption = Annotated[
    Path,
    typer.Option("--key", metavar="FILE", help="The acting participant's key file (keygen)."),
]
TimeOption = Annotated[
    str | None,
    typer.Option("--time", metavar="TIME", help="When it happened (RFC 3339) [default: now]"),
]
ByOption = Annotated[
    str,
    typer.Option("--by", metavar="MEMBER", help="The council member who decides (not a party)."),
]
ReasonOption = Annotated[str, typer.Option("--reason", metavar="TEXT", help="Why.")]


def _key(path: Path) -> KeyFile:
    return read_key_file(path)


def _append(db: str | None, event: dict[str, Any], *, signed_by: KeyFile) -> Accepted:
    """Sign a participant's step with its key and append it through the write path."""
    with ledgers.open_ledger(_db(db)) as ledger:
        step = ch.signed(event, signed_by)
        return ch.submit_step(ch.LedgerWriter(ledger), step, expected=(str(event["type"]),))


def _decide(db: str | None, decide: Any, *args: Any, **kwargs: Any) -> Accepted:
    with ledgers.open_ledger(_db(db)) as ledger:
        done: Accepted = decide(ch.LedgerWriter(ledger), *args, **kwargs)
        return done


def _said(done: Accepted, what: str) -> None:
    again = " (already recorded: nothing changed)" if done.replay else ""
    out.print(f"{what}: event {done.event_id} at seq {done.seq}{again}", markup=False, emoji=False)


def _print_json(doc: object) -> None:
    print(json.dumps(doc, ensure_ascii=False))


# -- licences ----------------------------------------------------------------------------------


@licence_app.command("issue")
def licence_issue(
    licence_id: Annotated[str, typer.Argument(metavar="LICENCE", help="The new licence's id.")],
    key: KeyOption,
    holder: Annotated[str, typer.Option(metavar="ID", help="The participant who holds it.")],
    kind: Annotated[str, typer.Option(metavar="KIND", help=f"One of: {', '.join(LICENCE_KINDS)}.")],
    valid_from: Annotated[str, typer.Option(metavar="TIME", help="Valid from (RFC 3339).")],
    valid_until: Annotated[
        str | None, typer.Option(metavar="TIME", help="Valid until, exclusive [default: no end]")
    ] = None,
    facility: Annotated[
        str | None, typer.Option(metavar="ID", help="The facility (operating, residue-storage).")
    ] = None,
    regime: Annotated[
        str | None, typer.Option(metavar="ID", help="Export regime, e.g. CN-MOFCOM-18 (export).")
    ] = None,
    time: TimeOption = None,
    db: DbOption = None,
) -> None:
    """Issue a licence as the authority whose key signs it (it names itself as issuer)."""
    signer = _key(key)
    record: dict[str, Any] = {"id": licence_id, "holder": holder, "kind": kind}
    record.update({"authority": signer.participant, "valid_from": valid_from})
    optional = {"facility": facility, "regime": regime, "valid_until": valid_until}
    record.update({k: v for k, v in optional.items() if v is not None})
    event = events.licensing("issue", actor=signer.participant, licence=record,
                             time=events.moment(time))  # fmt: skip
    _said(
        _append(db, event, signed_by=signer), f"licence {licence_id} issued by {signer.participant}"
    )


def _licence_action(
    action: str, licence_id: str, key: Path, time: str | None, db: str | None, **fields: str | None
) -> None:
    signer = _key(key)
    event = events.licensing(action, actor=signer.participant, licence=licence_id,
                             time=events.moment(time), **fields)  # fmt: skip
    done = _append(db, event, signed_by=signer)
    _said(done, f"licence {licence_id} {ch_past(action)} by {signer.participant}")


def ch_past(action: str) -> str:
    return {"renew": "renewed", "suspend": "suspended", "reinstate": "reinstated",
            "revoke": "revoked"}[action]  # fmt: skip


LicenceArg = Annotated[str, typer.Argument(metavar="LICENCE", help="The licence's id.")]


@licence_app.command("renew")
def licence_renew(
    licence_id: LicenceArg,
    key: KeyOption,
    valid_until: Annotated[str, typer.Option(metavar="TIME", help="The new end (RFC 3339).")],
    time: TimeOption = None,
    db: DbOption = None,
) -> None:
    """Extend a licence to a later end."""
    _licence_action("renew", licence_id, key, time, db, valid_until=valid_until)


@licence_app.command("suspend")
def licence_suspend(
    licence_id: LicenceArg, key: KeyOption, reason: ReasonOption, time: TimeOption = None,
    db: DbOption = None,
) -> None:  # fmt: skip
    """Suspend a licence from --time on: it does not count until reinstated."""
    _licence_action("suspend", licence_id, key, time, db, reason=reason)


@licence_app.command("reinstate")
def licence_reinstate(
    licence_id: LicenceArg,
    key: KeyOption,
    reason: Annotated[str | None, typer.Option(metavar="TEXT", help="Why.")] = None,
    time: TimeOption = None,
    db: DbOption = None,
) -> None:
    """End a licence's suspension from --time on."""
    _licence_action("reinstate", licence_id, key, time, db, reason=reason)


@licence_app.command("revoke")
def licence_revoke(
    licence_id: LicenceArg, key: KeyOption, reason: ReasonOption, time: TimeOption = None,
    db: DbOption = None,
) -> None:  # fmt: skip
    """Revoke a licence for good from --time on."""
    _licence_action("revoke", licence_id, key, time, db, reason=reason)


@licence_app.command("list")
def licence_list(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Every licence, its issuer and its standing now."""
    found = ch.licences(_store(db))
    if as_json:
        for doc in found:
            _print_json(doc)
        return
    rows = render.table("licence", "kind", "holder", "facility", "issuer", "until", "standing",
                        ids=("licence", "holder", "facility", "issuer"))  # fmt: skip
    for x in found:
        rows.add_row(x["id"], x["kind"], x["holder"], x.get("facility", "—"), x["authority"],
                     x.get("valid_until", "no end")[:10], x["standing"])  # fmt: skip
    render.print_table(out, rows)
    out.print(f"{len(found)} licences")


@licence_app.command("show")
def licence_show(licence_id: LicenceArg, db: DbOption = None, as_json: JsonFlag = False) -> None:
    """One licence with its standing and the licensing events that moved it."""
    doc = ch.licence(_store(db), licence_id)
    if as_json:
        _print_json(doc)
        return
    out.print(f"licence {doc['id']} ({doc['kind']}) held by {doc['holder']}, issued by"
              f" {doc['authority']}: {doc['standing']}", markup=False, emoji=False)  # fmt: skip
    for step in doc["history"]:
        extra = step.get("reason") or step.get("valid_until") or ""
        out.print(f"  seq {step['seq']}  {step['time']}  {step['action']:<9} by {step['by']}"
                  + (f"  {extra}" if extra else ""), markup=False, emoji=False)  # fmt: skip


# -- agreements --------------------------------------------------------------------------------

AgreementArg = Annotated[str, typer.Argument(metavar="AGREEMENT", help="The agreement's id.")]


@agreement_app.command("submit")
def agreement_submit(
    terms: Annotated[
        Path, typer.Argument(metavar="FILE", help="The agreement as JSON (docs/clearinghouse.md).")
    ],
    key: KeyOption,
    time: TimeOption = None,
    db: DbOption = None,
) -> None:
    """Submit an agreement to the council's review, as a party (signed with --key)."""
    signer = _key(key)
    doc = ledger_service.read_json(terms)
    if not isinstance(doc, dict):
        raise ConfigError(f"{terms} must hold one JSON object: the agreement")
    event = events.agreement(doc, actor=signer.participant, time=events.moment(time))
    _said(_append(db, event, signed_by=signer), f"agreement {doc.get('id')} submitted")


@agreement_app.command("review")
def agreement_review(
    agreement_id: AgreementArg,
    status: Annotated[
        str, typer.Option(metavar="STATUS", help=f"One of: {', '.join(STATES[1:])}.")
    ],
    by: ByOption,
    reason: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Why (required for a decision).")
    ] = None,
    condition: Annotated[
        list[str] | None,
        typer.Option(metavar="TEXT", help="A condition (approved-with-conditions; repeat)."),
    ] = None,
    public: Annotated[
        list[str] | None,
        typer.Option(
            metavar="FIELD", help=f"A field made public on approval: {', '.join(MARKABLE)}."
        ),
    ] = None,
    time: TimeOption = None,
    db: DbOption = None,
) -> None:
    """Move an agreement one step of the council's review (signed with the registry key)."""
    done = _decide(db, ch.review_agreement, agreement_id, status=status, by=by, reasons=reason,
                   conditions=condition or [], public=public or [], time=time)  # fmt: skip
    _said(done, f"agreement {agreement_id} {status}")


@agreement_app.command("list")
def agreement_list(
    status: Annotated[str | None, typer.Option(metavar="STATUS", help="Only this status.")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Every agreement and where its review stands."""
    found = ch.agreements(_store(db), ch.COUNCIL_VIEW, status=_status(status, STATES))
    if as_json:
        for doc in found:
            _print_json(doc)
        return
    rows = render.table("agreement", "kind", "parties", "status", "since", ids=("agreement",))
    for a in found:
        parties = ", ".join(p["name"] for p in a["parties"])
        rows.add_row(a["id"], a["kind"], parties, a["status"], a["history"][-1]["time"][:10])
    render.print_table(out, rows)
    out.print(f"{len(found)} agreements")


def _status(value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise ConfigError(f"--status {value!r} is not one of {', '.join(allowed)}")
    return value


@agreement_app.command("show")
def agreement_show(
    agreement_id: AgreementArg,
    public: Annotated[bool, typer.Option("--public", help="Only what the public sees.")] = False,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """One agreement with its review history (--public: as the public sees it)."""
    who = ANONYMOUS if public else ch.COUNCIL_VIEW
    doc = ch.agreement(_store(db), who, agreement_id)
    if as_json:
        _print_json(doc)
        return
    out.print(f"agreement {doc['id']} ({doc['kind']}): {doc['status']}", markup=False, emoji=False)
    for name in ("title", "parties", "jurisdictions", "elements", "volumes", "dates",
                 "documents"):  # fmt: skip
        if name in doc:
            out.print(f"  {name}: {_short(doc[name])}", markup=False, emoji=False)
    for step in doc["history"]:
        why = f"  {step['reasons']}" if "reasons" in step else ""
        out.print(f"  seq {step['seq']}  {step['time']}  {step['status']:<24} by {step['by']}"
                  f"{why}", markup=False, emoji=False)  # fmt: skip
        for condition in step.get("conditions", []):
            out.print(f"      condition: {condition}", markup=False, emoji=False)


def _short(value: object) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "; ".join(", ".join(str(v) for v in item.values()) for item in value)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


# -- disputes ----------------------------------------------------------------------------------

DisputeArg = Annotated[str, typer.Argument(metavar="DISPUTE", help="The dispute's id.")]
EvidenceOption = Annotated[
    list[Path] | None,
    typer.Option("--evidence", metavar="FILE", help="A file whose SHA-256 is filed (repeat)."),
]


@dispute_app.command("open")
def dispute_open(
    dispute_id: DisputeArg,
    key: KeyOption,
    event: Annotated[str, typer.Option(metavar="EVENT", help="The event disputed.")],
    respondent: Annotated[
        list[str], typer.Option(metavar="ID", help="A participant disputed with (repeat).")
    ],
    summary: Annotated[str, typer.Option(metavar="TEXT", help="What is disputed.")],
    lot: Annotated[str | None, typer.Option(metavar="LOT", help="The lot concerned.")] = None,
    evidence: EvidenceOption = None,
    time: TimeOption = None,
    db: DbOption = None,
) -> None:
    """Open a dispute about an event, as the participant whose key signs it."""
    signer = _key(key)
    step = events.dispute(dispute_id, actor=signer.participant, time=events.moment(time),
                          about_event=event, lot=lot, respondents=respondent, summary=summary,
                          evidence=[ch.document(p) for p in evidence or []])  # fmt: skip
    _said(
        _append(db, step, signed_by=signer), f"dispute {dispute_id} opened by {signer.participant}"
    )


@dispute_app.command("statement")
def dispute_statement(
    dispute_id: DisputeArg,
    key: KeyOption,
    text: Annotated[str, typer.Option(metavar="TEXT", help="The statement.")],
    evidence: EvidenceOption = None,
    time: TimeOption = None,
    db: DbOption = None,
) -> None:
    """File a party's statement (and evidence by digest) in an open dispute."""
    signer = _key(key)
    filed = [ch.document(p) for p in evidence or []]
    step = events.statement(dispute_id, actor=signer.participant, time=events.moment(time),
                            text=text, evidence=filed)  # fmt: skip
    _said(_append(db, step, signed_by=signer), f"statement by {signer.participant} in {dispute_id}")


@dispute_app.command("rule")
def dispute_rule(
    dispute_id: DisputeArg,
    outcome: Annotated[
        str, typer.Option(metavar="OUTCOME", help=f"One of: {', '.join(OUTCOMES)}.")
    ],
    by: ByOption,
    reason: ReasonOption,
    corrective_party: Annotated[
        str | None, typer.Option(metavar="ID", help="The party a corrective event is required of.")
    ] = None,
    corrective_action: Annotated[
        str | None, typer.Option(metavar="TEXT", help="What that corrective event must record.")
    ] = None,
    time: TimeOption = None,
    db: DbOption = None,
) -> None:
    """Rule on a dispute, closing it (signed with the registry key)."""
    if (corrective_party is None) != (corrective_action is None):
        raise ConfigError("give --corrective-party and --corrective-action together, or neither")
    corrective = None
    if corrective_party is not None and corrective_action is not None:
        corrective = {"party": corrective_party, "action": corrective_action}
    done = _decide(db, ch.rule_dispute, dispute_id, outcome=outcome, by=by, reasons=reason,
                   corrective=corrective, time=time)  # fmt: skip
    _said(done, f"dispute {dispute_id} ruled {outcome}")


@dispute_app.command("list")
def dispute_list(
    status: Annotated[str | None, typer.Option(metavar="STATUS", help="open or ruled.")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Every dispute, its parties and its outcome."""
    found = ch.disputes(_store(db), ch.COUNCIL_VIEW, status=_status(status, ("open", "ruled")))
    if as_json:
        for doc in found:
            _print_json(doc)
        return
    rows = render.table("dispute", "opened by", "respondents", "about", "status", "outcome",
                        "corrective", ids=("dispute", "about"))  # fmt: skip
    for d in found:
        ruling = d["ruling"] or {}
        rows.add_row(d["id"], d["opened_by"], ", ".join(d["respondents"]), d["about"]["event"],
                     d["status"], ruling.get("outcome", "—"), _corrective(ruling))  # fmt: skip
    render.print_table(out, rows)
    out.print(f"{len(found)} disputes")


def _corrective(ruling: dict[str, Any]) -> str:
    corrective = ruling.get("corrective")
    if not corrective:
        return "—"
    return f"{corrective['party']}: {'recorded' if corrective['recorded'] else 'awaited'}"


@dispute_app.command("show")
def dispute_show(dispute_id: DisputeArg, db: DbOption = None, as_json: JsonFlag = False) -> None:
    """One dispute: what it is about, the statements, the ruling and its corrective event."""
    doc = ch.dispute(_store(db), ch.COUNCIL_VIEW, dispute_id)
    if as_json:
        _print_json(doc)
        return
    about = doc["about"]
    lot = f" (lot {about['lot']})" if "lot" in about else ""
    out.print(f"dispute {doc['id']}: {doc['status']}; {doc['opened_by']} against"
              f" {', '.join(doc['respondents'])} about event {about['event']}{lot}",
              markup=False, emoji=False)  # fmt: skip
    out.print(f"  seq {doc['opened']['seq']}  {doc['opened']['time']}  opened: {doc['summary']}",
              markup=False, emoji=False)  # fmt: skip
    for s in doc["statements"]:
        out.print(f"  seq {s['seq']}  {s['time']}  {s['by']}: {s['text']}"
                  f" ({len(s['evidence'])} evidence)", markup=False, emoji=False)  # fmt: skip
    ruling = doc["ruling"]
    if ruling is not None:
        out.print(f"  seq {ruling['seq']}  {ruling['time']}  ruled {ruling['outcome']} by"
                  f" {ruling['by']}: {ruling['reasons']}", markup=False, emoji=False)  # fmt: skip
        corrective = ruling.get("corrective")
        if corrective:
            done = corrective.get("recorded_by")
            state = f"recorded by event {done['event']} (seq {done['seq']})" if done else "awaited"
            out.print(f"  corrective event by {corrective['party']}: {corrective['action']}"
                      f" — {state}", markup=False, emoji=False)  # fmt: skip
