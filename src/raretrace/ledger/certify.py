"""What ``raretrace certify`` and ``raretrace revoke`` call: a lot's UNTP credentials, bound
to its evidence bundle, and their revocation recorded in the ledger.

``certify_lot`` checks every input before anything is written, runs the compliance packs,
records the lot's ``claim`` for a scheme through the append path (signed by the lot's
custodian), exports the evidence bundle (which then holds the claim), allocates each
credential's status-list index, builds the DCCs and the DPP from the bundle's own recomputed
lot (``credentials/untp.py``), signs them and writes the folder. ``revoke_credential``
records a ``revocation`` event (signed by the ledger's registry authority) and sets the
credential's bit in the issuer's status list. docs/credentials.md describes both.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from raretrace.compliance.result import CheckResult
from raretrace.compliance.service import check_lot
from raretrace.credentials.datamodel import format_datetime
from raretrace.credentials.didweb import parse_did_web
from raretrace.credentials.evidence import related_resources
from raretrace.credentials.keys import IssuerKey
from raretrace.credentials.securing import Format, secure
from raretrace.credentials.statusfile import (
    allocate_index,
    load_state,
    publish_status_list,
    published_format,
    state_path,
)
from raretrace.credentials.statuslist import status_entry
from raretrace.credentials.untp import (
    Envelope,
    conformity_claim,
    conformity_credential,
    product_passport,
)
from raretrace.domain.errors import ConfigError, ValidationError
from raretrace.domain.keys import sign_event
from raretrace.domain.model import REGISTRY_ACTOR
from raretrace.ledger import service
from raretrace.ledger.bundle import BuiltBundle, export_bundle
from raretrace.ledger.keyfiles import KeyFile, checked_id
from raretrace.log.checkpoint import parse_checkpoint
from raretrace.log.note import parse_note_unverified
from raretrace.store.store import Store
from raretrace.verify import expected_view

CREDENTIAL_FILES = ("dpp.jwt", "dpp.json")


@dataclass(frozen=True, slots=True)
class IssuedFile:
    """One credential written: its id, file and the URL it is to be published at."""

    credential_id: str
    path: Path
    url: str
    status_index: int


@dataclass(frozen=True, slots=True)
class Certified:
    """What ``certify_lot`` wrote."""

    lot: str
    passport: IssuedFile
    conformity: tuple[IssuedFile, ...]
    results: tuple[CheckResult, ...]
    evidence: Path
    folder_url: str
    claim_event: str | None
    checkpoint_size: int


@dataclass(frozen=True, slots=True)
class CertifyRequest:
    """The inputs of ``certify_lot`` (the command line's options, parsed)."""

    lot: str
    issuer: IssuerKey
    status_list: Path
    out: Path
    as_of: date
    now: datetime
    fmt: Format = "jose"
    declared_value_usd: float | None = None
    scheme: str | None = None
    custodian: KeyFile | None = None
    base_url: str | None = None
    valid_days: int = 365


def check_request(req: CertifyRequest) -> None:
    """Refuse, before anything is read or written, what cannot work (exit 2)."""
    if req.valid_days < 1:
        raise ConfigError(f"--valid-days must be at least 1, got {req.valid_days}")
    if req.base_url is not None and not req.base_url.startswith(("https://", "http://")):
        raise ConfigError(
            f"--base-url must be the http(s) URL the --out folders are published under, got"
            f" {req.base_url!r}"
        )
    if req.scheme is not None:
        checked_id(req.scheme, "--scheme")
        if req.custodian is None:
            raise ConfigError(
                f"--scheme {req.scheme} records a claim on the lot, which its custodian signs:"
                " pass --custodian-key FILE (the custodian's key file from `raretrace keygen`)"
            )
    if req.out.exists() and not req.out.is_dir():
        raise ConfigError(f"--out {req.out} is a file; give a folder (new or empty)")
    if req.out.is_dir() and any(req.out.iterdir()):
        raise ConfigError(
            f"--out {req.out} is not empty; credentials are never overwritten: give a new"
            " folder for each certification"
        )
    if not req.out.absolute().parent.is_dir():
        raise ConfigError(f"--out {req.out}: the folder {req.out.parent} does not exist")
    state = load_state(req.status_list) if state_path(req.status_list).exists() else None
    if state is None or not req.status_list.exists():
        raise ConfigError(
            f"--status-list {req.status_list} is not a status list with its state file; make"
            f" it with `raretrace issuer status-list --key KEY --out {req.status_list}`"
        )
    if state.issuer != req.issuer.did:
        raise ConfigError(
            f"the status list {req.status_list} belongs to {state.issuer}, not to the issuer"
            f" key's {req.issuer.did}; give that issuer's list"
        )


def certify_lot(db: str, req: CertifyRequest) -> Certified:
    """Issue the lot's DPP and DCCs into ``req.out`` (see the module's docstring)."""
    check_request(req)
    store = Store.open(db, access="read")
    store.require_ready()
    store.lot(req.lot)  # NotFound naming the lot, before anything is written
    report = check_lot(store, req.lot, as_of=req.as_of, declared_value_usd=req.declared_value_usd)
    claim_id = None
    if req.scheme is not None and req.custodian is not None:
        export_bundle(store, req.lot)  # a bundle must be possible before the claim is made
        claim_id = _record_claim(db, req.lot, req.scheme, req.custodian, req.now)
    built = export_bundle(store, req.lot)
    return _issue(req, built, report.results, claim_id)


def _record_claim(db: str, lot: str, scheme: str, key: KeyFile, now: datetime) -> str:
    """Append the signed ``claim`` of the whole lot for ``scheme``; its event id."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    digest = hashlib.sha256(f"{lot}\n{scheme}\n{stamp}".encode()).hexdigest()[:16]
    event = {
        "id": f"claim:{scheme[:120]}:{stamp}:{digest}",
        "type": "claim",
        "time": stamp,
        "actor": key.participant,
        "lot": lot,
        "scheme": scheme,
        "share": 1,
    }
    with service.open_ledger(db) as ledger:
        ledger.append(sign_event(event, key.private_key, key.kid))
    return str(event["id"])


def _issue(
    req: CertifyRequest, built: BuiltBundle, results: Sequence[CheckResult], claim_id: str | None
) -> Certified:
    verdict = built.verdict
    view = expected_view(verdict.lot)
    folder_id = str(uuid.uuid4())
    base = (req.base_url or parse_did_web(req.issuer.did).base_url() + "/credentials").rstrip("/")
    folder_url = f"{base}/{folder_id}/"
    note = _bundle_checkpoint(built)
    related = related_resources(
        bundle=built.data, evidence_url=folder_url + "evidence.json", checkpoint_note=note,
        origin=verdict.checkpoint.origin, size=verdict.checkpoint.size,
    )  # fmt: skip
    suffix = "jwt" if req.fmt == "jose" else "json"
    texts: dict[str, str] = {}
    dccs: list[IssuedFile] = []
    claims: list[dict[str, Any]] = []
    for name, result in zip(_dcc_names(results, suffix), results, strict=True):
        envelope = _envelope(req, related)
        dcc = conformity_credential(
            envelope, result.to_json(), lot_id=req.lot, as_of=req.as_of.isoformat()
        )
        texts[name] = secure(dcc, req.issuer, fmt=req.fmt, now=req.now)
        digest = hashlib.sha256(texts[name].encode()).hexdigest()
        claims.append(conformity_claim(dcc, url=folder_url + name, sha256_hex=digest))
        dccs.append(_issued(envelope, req.out / name, folder_url + name))
    envelope = _envelope(req, related)
    scheme_claim = None
    if claim_id is not None:
        scheme_claim = {"scheme": req.scheme, "claimEvent": claim_id, "share": 1}
    dpp = product_passport(envelope, view, claims=claims, scheme_claim=scheme_claim)
    dpp_name = f"dpp.{suffix}"
    texts[dpp_name] = secure(dpp, req.issuer, fmt=req.fmt, now=req.now)
    _write_folder(req.out, built.data, texts)
    return Certified(
        lot=req.lot, passport=_issued(envelope, req.out / dpp_name, folder_url + dpp_name),
        conformity=tuple(dccs), results=tuple(results), evidence=req.out / "evidence.json",
        folder_url=folder_url, claim_event=claim_id, checkpoint_size=verdict.checkpoint.size,
    )  # fmt: skip


def _bundle_checkpoint(built: BuiltBundle) -> str:
    """The signed checkpoint note inside the bundle (what its proofs rest on)."""
    note = json.loads(built.data)["checkpoint"]
    parse_checkpoint(parse_note_unverified(note).text)  # it is one
    return str(note)


def _dcc_names(results: Sequence[CheckResult], suffix: str) -> list[str]:
    """``dcc-<pack>.<suffix>``; ``dcc-<pack>-<n>`` when a pack gave several results."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.pack] = counts.get(r.pack, 0) + 1
    seen: dict[str, int] = {}
    names = []
    for r in results:
        seen[r.pack] = seen.get(r.pack, 0) + 1
        tail = f"-{seen[r.pack]}" if counts[r.pack] > 1 else ""
        names.append(f"dcc-{r.pack}{tail}.{suffix}")
    return names


def _envelope(req: CertifyRequest, related: list[dict[str, Any]]) -> Envelope:
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    state, index = allocate_index(req.status_list, credential_id, issuer=req.issuer.did,
                                  about=req.lot)  # fmt: skip
    return Envelope(
        credential_id=credential_id,
        issuer=req.issuer.did,
        valid_from=format_datetime(req.now),
        valid_until=format_datetime(req.now + timedelta(days=req.valid_days)),
        status=status_entry(list_url=state.list_url, index=index, purpose=state.purpose),
        related=related,
    )


def _issued(envelope: Envelope, path: Path, url: str) -> IssuedFile:
    index = int((envelope.status or {}).get("statusListIndex", -1))
    return IssuedFile(envelope.credential_id, path, url, index)


def _write_folder(out: Path, bundle: bytes, texts: dict[str, str]) -> None:
    """Write the folder whole or not at all: into a temporary folder beside it, renamed into
    place (over ``out`` if it exists, as it is then empty)."""
    parent = out.absolute().parent
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    except OSError as exc:
        raise ConfigError(f"cannot write in {parent}: {exc.strerror}") from None
    try:
        (tmp / "evidence.json").write_bytes(bundle)
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8")
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it 0700; a published folder is not
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# --- revocation --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Revoked:
    """What ``revoke_credential`` did."""

    credential_id: str
    index: int
    list_url: str
    event_id: str
    event_logged: bool
    bit_set: bool
    lot: str | None
    valid_until: str


def revocation_event_id(credential_id: str) -> str:
    """The ledger event id of a credential's revocation (one per credential)."""
    return f"revocation:{credential_id}"


def revoke_credential(
    db: str, credential_id: str, *, reason: str, issuer: IssuerKey, status_list: Path,
    now: datetime,
) -> Revoked:  # fmt: skip
    """Record the revocation in the ledger, then set the credential's status bit.

    A run that stopped between the two (the event logged, the list not yet re-signed) is
    completed by running it again; revoking a credential twice is refused.
    """
    if not reason.strip():
        raise ConfigError("--reason must say why the credential is revoked (kept in the ledger)")
    if not status_list.exists() or not state_path(status_list).exists():
        raise ConfigError(
            f"--status-list {status_list} is not a status list with its state file; give the"
            " list the credential was issued with"
        )
    state = load_state(status_list)
    if state.issuer != issuer.did:
        raise ConfigError(
            f"the status list {status_list} belongs to {state.issuer}, not to the issuer"
            f" key's {issuer.did}"
        )
    index = state.index_of(credential_id)
    event_id = revocation_event_id(credential_id)
    with service.open_ledger(db) as ledger:
        with ledger.store.engine.connect() as conn:
            logged = bool(ledger.store.event_bodies(conn, [event_id]))
        if logged and index in state.changes:
            change = state.changes[index]
            raise ValidationError(
                "already-revoked",
                f"credential {credential_id!r}",
                f"was revoked on {change.time} ({change.reason}); index {index} of"
                f" {state.list_url} is set and the ledger holds {event_id!r}",
            )
        lot = state.about.get(index)
        if not logged:
            event: dict[str, Any] = {
                "id": event_id, "type": "revocation", "time": format_datetime(now),
                "actor": REGISTRY_ACTOR, "credential": credential_id, "issuer": issuer.did,
                "status_list": state.list_url, "index": index, "reason": reason,
            }  # fmt: skip
            if lot is not None:
                event["lot"] = lot
            signer = service.registry_signer(ledger)
            ledger.append(sign_event(event, signer.private_key, signer.kid))
    published = publish_status_list(
        issuer, status_list, fmt=published_format(status_list), revoke=[index], reason=reason,
        now=now,
    )  # fmt: skip
    return Revoked(
        credential_id=credential_id, index=index, list_url=state.list_url, event_id=event_id,
        event_logged=not logged, bit_set=index in published.newly_set, lot=lot,
        valid_until=published.valid_until,
    )  # fmt: skip
