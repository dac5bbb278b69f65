"""Checking an evidence bundle offline, with nothing but the file and keys the checker trusts.

A buyer abroad, customs or a regulator runs this: no database, no service, no network. It
checks, in order: the checkpoint's log signature and witness cosignatures against trusted keys
only (C2SP signed-note, tlog-checkpoint, tlog-cosignature); every event's log entry (the salted
commitment SHA-256(salt || event), recomputed from the event and its salt) and its inclusion
proof against that checkpoint's root (RFC 9162 §2.1.3.2); every event's Ed25519 signature, with
participants' keys taken from registry records that are themselves proven leaves signed by a
trusted registry authority; that the bundle holds exactly the lineage of the lot; the custody
chain of every lot in it; every transform's mass balance; and that recomputing the lot from the
events (``raretrace.domain.lineage``) gives the state and provenance the bundle claims.
The format is documented in docs/formats.md ("Evidence bundles").

Leaves and signed bytes are canonicalised here with the ``rfc8785`` library, not with the
fast encoder the ledger writes with: the verifier does not take the operator's code on trust,
so an encoder bug would show as a failed proof rather than agree with itself.
"""

from __future__ import annotations

import base64
import bisect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pydantic
import rfc8785
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from raretrace.domain import lineage
from raretrace.domain.errors import (
    ConfigError,
    NotFound,
    RaretraceError,
    ValidationError,
    VerificationError,
)
from raretrace.domain.events import TransformEvent, parse_event
from raretrace.domain.keys import KeyHistory, ParticipantKey, check_signature, parse_key
from raretrace.domain.model import (
    ACTIVE,
    IN_TRANSIT,
    REGISTRY_ACTOR,
    Facility,
    Lot,
    Tolerance,
)
from raretrace.domain.model import normalize_time as _normalize_time
from raretrace.domain.receipts import LineageDiscrepancy, lineage_discrepancies
from raretrace.domain.registry import Registry, parse_facility, parse_participant
from raretrace.domain.rules import check_balance, consume
from raretrace.domain.views import lot_view
from raretrace.log.checkpoint import Checkpoint, parse_checkpoint
from raretrace.log.commitment import COMMITMENT_SIZE, SALT_SIZE, commitment
from raretrace.log.commitment import RULE as COMMITMENT_RULE
from raretrace.log.merkle import HASH_SIZE, leaf_hash, verify_inclusion
from raretrace.log.note import Ed25519Verifier, parse_note_unverified
from raretrace.log.witness import verify_cosigned_checkpoint
from raretrace.trust import TrustedKeys, b64_exact, parse_trust, read_trust_file

__all__ = [
    "FORMAT",
    "VERSION",
    "Bundle",
    "BundleHistory",
    "TrustedKeys",
    "Verdict",
    "closure_events",
    "lineage_closure",
    "load_bundle",
    "parse_trust",
    "read_trust_file",
    "referenced_facilities",
    "verify_bundle",
    "verify_file",
]

FORMAT = "raretrace-bundle"
#: Version 2: each event comes with its salt and log entry, SHA-256(salt || event) (a log of
#: salted commitments); version 1: the entries are the events themselves (a log made before).
VERSION = 2
REGISTRY_TYPES = ("participant", "facility")
Row = tuple[int, str, Mapping[str, Any]]


# --- the file format -------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BundleKeys(_Strict):
    """The public keys a bundle carries (checked against trusted keys, never trusted)."""

    log: StrictStr
    registry: list[dict[str, Any]]
    participants: dict[StrictStr, list[dict[str, Any]]]


class BundleEvent(_Strict):
    """One leaf: its index, its proof (indices into ``proof_hashes``) and the signed event;
    from version 2 also the salt and the log entry (both base64) that open its commitment."""

    leaf_index: StrictInt = Field(ge=0)
    proof: list[StrictInt]
    event: dict[str, Any]
    salt: StrictStr | None = None
    leaf: StrictStr | None = None


class Bundle(_Strict):
    """A lot's evidence bundle, as documented in docs/formats.md."""

    format: Literal["raretrace-bundle"]
    version: Literal[1, 2]
    lot: StrictStr
    claim: dict[str, Any]
    checkpoint: StrictStr
    keys: BundleKeys
    proof_hashes: list[StrictStr]
    events: list[BundleEvent]

    @pydantic.model_validator(mode="after")
    def _salts_as_the_version_says(self) -> Bundle:
        committed = self.version >= 2
        for i, e in enumerate(self.events):
            if committed and (e.salt is None or e.leaf is None):
                raise ValueError(f"events.{i}: version 2 gives every event its salt and leaf")
            if not committed and (e.salt is not None or e.leaf is not None):
                raise ValueError(f"events.{i}: version 1 events have no salt or leaf")
        return self


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def load_bundle(data: bytes) -> Bundle:
    """Decode and shape-check a bundle; VerificationError if it is not one."""
    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError) as exc:
        raise VerificationError(
            f"not a raretrace evidence bundle: not UTF-8 JSON ({exc})"
        ) from None
    try:
        return Bundle.model_validate(obj)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise VerificationError(
            f"not a raretrace evidence bundle ({FORMAT} version {VERSION}): {where}: {first['msg']}"
        ) from None


# --- events as a lineage source --------------------------------------------------------------


class BundleHistory:
    """An ``EventSource`` over a bundle's events (optionally only those before ``cutoff``)."""

    def __init__(
        self,
        lot_events: Mapping[str, list[Row]],
        facilities: Mapping[str, list[tuple[int, Facility]]],
        cutoff: float = math.inf,
    ) -> None:
        self._lot_events = lot_events
        self._facilities = facilities
        self.cutoff = cutoff

    @classmethod
    def of(
        cls, events: Sequence[tuple[int, Mapping[str, Any]]],
        facilities: Mapping[str, list[tuple[int, Facility]]],
    ) -> BundleHistory:  # fmt: skip
        """Index custody events (in leaf order) by the lots they touch."""
        lot_events: dict[str, list[Row]] = {}
        for seq, body in events:
            for lot, role in lineage.lot_roles(body):
                lot_events.setdefault(lot, []).append((seq, role, body))
        return cls(lot_events, facilities)

    def until(self, cutoff: int) -> BundleHistory:
        """The same history with only the events before ``cutoff``."""
        return BundleHistory(self._lot_events, self._facilities, cutoff)

    def events_of(self, lot_id: str) -> list[Row]:
        rows = self._lot_events.get(lot_id, [])
        return rows if self.cutoff == math.inf else [r for r in rows if r[0] < self.cutoff]

    def facility(self, facility_id: str, before: int) -> Facility:
        versions = self._facilities.get(facility_id, [])
        i = bisect.bisect_left([s for s, _ in versions], before)
        if i == 0:
            raise VerificationError(
                f"facility {facility_id!r} has no registry record before leaf {before}"
                " in the bundle"
            )
        return versions[i - 1][1]


def lineage_closure(source: lineage.EventSource, lot_id: str) -> dict[str, float]:
    """Which events the recursive walk reads: lot -> cutoff (the lot's events before it).

    The lot itself is read to the end (``math.inf``); each input of a creating transform up
    to that transform, recursively. A lot whose first event is not its creation is an error.
    """
    cutoffs: dict[str, float] = {lot_id: math.inf}
    why = {lot_id: "the bundle's lot"}
    queue = [lot_id]
    while queue:
        lot = queue.pop()
        rows = source.events_of(lot)
        if not rows or rows[0][1] != "created":
            raise VerificationError(
                f"lot {lot!r} ({why[lot]}) has no creating event: an upstream event is missing"
            )
        seq, _, body = rows[0]
        if body.get("type") != "transform":
            continue
        for item in body["inputs"]:
            if cutoffs.get(item["lot"], -1.0) < seq:
                cutoffs[item["lot"]] = seq
                why[item["lot"]] = f"an input of event {body['id']!r}"
                queue.append(item["lot"])
    return cutoffs


def closure_events(source: lineage.EventSource, cutoffs: Mapping[str, float]) -> dict[int, Row]:
    """The events the walk reads, by leaf index."""
    return {
        row[0]: row for lot, cut in cutoffs.items() for row in source.events_of(lot) if row[0] < cut
    }


def referenced_facilities(body: Mapping[str, Any]) -> list[str]:
    """Facilities whose records the walk reads for a custody event (where lots appear)."""
    return [body["facility"]] if body.get("type") in ("extract", "transform", "receive") else []


# --- the verdict -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """What verified: the checkpoint, the counts, and the recomputed lot."""

    lot: Lot
    checkpoint: Checkpoint
    log_key: str
    witnesses: tuple[str, ...]
    custody_events: int
    registry_events: int
    participants: tuple[str, ...]
    transforms: int
    tolerance: Tolerance
    #: Receipts in the lineage that weighed more or less than shipped (information, not a
    #: failure), recomputed from the bundle's events with its tolerance.
    discrepancies: tuple[LineageDiscrepancy, ...] = ()

    def origin_by_country(self) -> dict[str, float]:
        """Countries' shares of the lot's conserved-element mass, largest first."""
        by_country = self.lot.provenance.by_country
        total = math.fsum(self.lot.elements_kg.get(e, 0.0) for e in by_country)
        acc: dict[str, float] = {}
        for element, shares in by_country.items():
            kg = self.lot.elements_kg.get(element, 0.0)
            for country, share in shares.items():
                acc[country] = acc.get(country, 0.0) + kg * share / (total or 1.0)
        return dict(sorted(acc.items(), key=lambda item: -item[1]))


def verify_file(path: Path, trust: TrustedKeys, *, witnesses: int | None = None) -> Verdict:
    """``verify_bundle`` of a file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotFound(f"cannot read the bundle {path}: {exc.strerror}") from None
    return verify_bundle(data, trust, witnesses=witnesses)


def verify_bundle(
    data: bytes | Bundle, trust: TrustedKeys, *, witnesses: int | None = None
) -> Verdict:
    """Check everything a bundle says; raise VerificationError naming the first failure.

    ``witnesses`` is how many trusted witnesses must have cosigned the checkpoint (default:
    one if the trust lists any witness, else none).
    """
    bundle = data if isinstance(data, Bundle) else load_bundle(data)
    checkpoint, log_key, cosigners = _check_checkpoint(bundle.checkpoint, trust, witnesses)
    if bundle.keys.log != log_key.vkey:
        raise VerificationError(
            f"the bundle names log key {bundle.keys.log!r}, not the trusted {log_key.vkey!r}"
        )
    leaves, unused = _check_inclusion(bundle, checkpoint)
    registry_keys = _registry_keys(bundle.keys.registry, trust)
    reg = _check_signatures(leaves, registry_keys)
    _check_participant_keys(bundle.keys.participants, reg.participants)
    custody = [(seq, event) for seq, event in leaves if event["type"] not in REGISTRY_TYPES]
    source = BundleHistory.of(custody, reg.facility_versions)
    cutoffs = _check_exact_lineage(bundle.lot, source, custody, reg)
    _check_custody(source, cutoffs)
    # One memo for every recomputation below: each lot's state before each event is derived
    # once, so the checks stay linear in the lineage (docs/architecture.md#performance).
    walk = lineage.Recomputation(source, trust.tolerance)
    transforms = _check_balances(source, cutoffs, walk)
    lot = _attempt(f"recomputing lot {bundle.lot!r}", walk.lot, bundle.lot)
    _check_claim(bundle.claim, lot)
    upstream = _attempt(
        "receipts", lambda: lineage_discrepancies(source, cutoffs, trust.tolerance, walk=walk)
    )
    if unused:  # checked last, so a dropped event is reported as what it breaks
        raise VerificationError(f"proof hash {min(unused)} is used by no proof")
    return Verdict(
        lot=lot, checkpoint=checkpoint, log_key=log_key.vkey, witnesses=cosigners,
        custody_events=len(custody), registry_events=len(leaves) - len(custody),
        participants=tuple(sorted({str(e["actor"]) for _, e in custody})),
        transforms=transforms, tolerance=trust.tolerance, discrepancies=tuple(upstream),
    )  # fmt: skip


def _attempt(what: str, fn: Any, *args: Any) -> Any:
    """Run a domain function, turning any of its failures into a VerificationError."""
    try:
        return fn(*args)
    except RaretraceError as exc:
        raise VerificationError(f"{what}: {exc.message}") from None


def _jcs(value: Any) -> bytes:
    """RFC 8785 canonical JSON by the reference library (see the module's docstring)."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise ValidationError(
            "format", "canonical JSON", f"RFC 8785 cannot encode it: {exc}"
        ) from None


# --- checkpoint and proofs -------------------------------------------------------------------


def _check_checkpoint(
    note: str, trust: TrustedKeys, witnesses: int | None
) -> tuple[Checkpoint, Ed25519Verifier, tuple[str, ...]]:
    origin = parse_checkpoint(parse_note_unverified(note).text).origin
    log_keys = [k for k in trust.logs if k.name == origin]
    if not log_keys:
        raise VerificationError(
            f"the checkpoint is for log {origin!r} and the trust file lists no key for that"
            " log; add the log's vkey (`raretrace log vkey` prints it) from a source you trust"
        )
    quorum = min(1, len(trust.witnesses)) if witnesses is None else witnesses
    if not 0 <= quorum <= len(trust.witnesses):
        raise ConfigError(
            f"--witnesses {quorum} needs that many witness keys in the trust file;"
            f" it lists {len(trust.witnesses)}"
        )
    failure = ""
    for key in log_keys:
        try:
            cosigned = verify_cosigned_checkpoint(
                note, log_key=key, witness_keys=trust.witnesses, quorum=quorum
            )
        except VerificationError as exc:
            failure = exc.message
            continue
        names = tuple(c.name for c in cosigned.cosignatures)
        return cosigned.checkpoint, key, names
    raise VerificationError(f"checkpoint: {failure}")


def _check_inclusion(
    bundle: Bundle, checkpoint: Checkpoint
) -> tuple[list[tuple[int, dict[str, Any]]], set[int]]:
    """The events in leaf order, each proven in the checkpoint's tree; and unused hashes."""
    hashes = [b64_exact(h, HASH_SIZE, f"proof hash {i}") for i, h in enumerate(bundle.proof_hashes)]
    used: set[int] = set()
    leaves: list[tuple[int, dict[str, Any]]] = []
    root = checkpoint.root_hash
    for entry in bundle.events:
        name = f"event {entry.event.get('id')!r} (leaf {entry.leaf_index})"
        if leaves and entry.leaf_index <= leaves[-1][0]:
            raise VerificationError(f"{name}: events must be listed once each, by leaf index")
        if any(not 0 <= i < len(hashes) for i in entry.proof):
            raise VerificationError(f"{name}: its proof refers to a proof hash that is not there")
        used.update(entry.proof)
        leaf = _opened_entry(name, entry)
        try:
            verify_inclusion(
                leaf_hash=leaf_hash(leaf), index=entry.leaf_index, size=checkpoint.size,
                proof=[hashes[i] for i in entry.proof], root=root,
            )  # fmt: skip
        except VerificationError as exc:
            raise VerificationError(
                f"{name}: inclusion proof does not match checkpoint root {root.hex()[:12]}… "
                f"({exc.message})"
            ) from None
        leaves.append((entry.leaf_index, entry.event))
    return leaves, set(range(len(hashes))) - used


def _opened_entry(name: str, entry: BundleEvent) -> bytes:
    """The event's log entry: the commitment SHA-256(salt || event), recomputed and compared
    with the one the bundle states (version 2), or the event's bytes (version 1)."""
    event: bytes = _attempt(name, _jcs, entry.event)
    if entry.salt is None or entry.leaf is None:
        return event
    salt = b64_exact(entry.salt, SALT_SIZE, f"{name}: its salt")
    stated = b64_exact(entry.leaf, COMMITMENT_SIZE, f"{name}: its leaf")
    opened = commitment(salt, event)
    if opened != stated:
        raise VerificationError(
            f"[{COMMITMENT_RULE}] {name}: SHA-256(salt || event) is"
            f" {base64.b64encode(opened).decode()}, but the leaf the bundle proves is"
            f" {entry.leaf}: the event or its salt is not the one the log committed to"
            " (changed after export); ask the ledger's operator for the bundle again"
        )
    return stated


# --- signatures and the registry -------------------------------------------------------------


def _registry_keys(entries: list[dict[str, Any]], trust: TrustedKeys) -> tuple[ParticipantKey, ...]:
    if not trust.registry:
        raise VerificationError(
            "the trust file lists no registry authority key (a line 'registry <base64 key>');"
            " without one, participants' keys in the bundle cannot be trusted"
        )
    keys = []
    for entry in entries:
        key = _attempt("the bundle's registry keys", parse_key, entry, "registry")
        if key.public_key not in trust.registry:
            raise VerificationError(
                f"registry authority key {key.kid!r} in the bundle is not in the trust file;"
                " only registry records signed by a trusted authority key are believed"
            )
        keys.append(key)
    return tuple(keys)


@dataclass(slots=True)
class _Registry:
    """Participants and facilities as the bundle's registry events built them, in log order."""

    participants: dict[str, Any]
    facility_versions: dict[str, list[tuple[int, Facility]]]
    records: dict[int, tuple[str, str]]  # leaf -> (type, record id)


def _check_signatures(
    leaves: list[tuple[int, dict[str, Any]]], registry_keys: tuple[ParticipantKey, ...]
) -> _Registry:
    reg = Registry()
    keys = _key_history(leaves, registry_keys)
    out = _Registry(reg.participants, {}, {})
    for seq, event in leaves:
        name = f"event {event.get('id')!r} (leaf {seq})"
        parsed = _attempt(name, parse_event, event)
        signed = _attempt(name, _jcs, {k: v for k, v in event.items() if k != "sig"})
        check = partial(check_signature, position=seq, message=signed)
        _attempt(f"{name}: signature", check, event, keys)
        if parsed.type not in REGISTRY_TYPES:
            continue
        if parsed.actor != REGISTRY_ACTOR:
            raise VerificationError(f"{name}: a registry record must come from the registry")
        if parsed.type == "participant":
            participant = _attempt(name, parse_participant, event["participant"])
            reg.add(participant)
            out.records[seq] = ("participant", participant.id)
        else:
            facility = _attempt(name, parse_facility, event["facility"], reg.participants)
            out.facility_versions.setdefault(facility.id, []).append((seq, facility))
            out.records[seq] = ("facility", facility.id)
    return out


def _key_history(
    leaves: list[tuple[int, dict[str, Any]]], registry_keys: tuple[ParticipantKey, ...]
) -> KeyHistory:
    """Every participant key in the bundle with the leaf indexes that bound it, from all of
    its participant records first. Each event is then judged at its own leaf index: a key
    signs the leaves after the record that registered it and before the one that revoked it
    (docs/formats.md, "Signatures"). Records after an event can only end keys after it, so
    reading them first changes no verdict; it lets a key registered only later be named."""
    keys = KeyHistory().anchored(REGISTRY_ACTOR, registry_keys)
    for seq, event in leaves:
        if event.get("type") == "participant" and event.get("actor") == REGISTRY_ACTOR:
            name = f"event {event.get('id')!r} (leaf {seq})"
            participant = _attempt(name, parse_participant, event.get("participant"))
            keys = keys.recorded(participant.id, participant.keys, seq)
    return keys


def _check_participant_keys(
    claimed: Mapping[str, list[Any]], participants: Mapping[str, Any]
) -> None:
    registered = {pid: [k.to_json() for k in p.keys] for pid, p in participants.items()}
    for pid in sorted(set(claimed) | set(registered)):
        if claimed.get(pid) != registered.get(pid):
            raise VerificationError(
                f"the bundle lists keys of participant {pid!r} that differ from its registry"
                " record in the log; keys in a bundle are believed only as registered"
            )


# --- lineage and custody ---------------------------------------------------------------------


def _check_exact_lineage(
    lot_id: str, source: BundleHistory, custody: Sequence[tuple[int, Mapping[str, Any]]],
    reg: _Registry,
) -> dict[str, float]:  # fmt: skip
    """The bundle holds the walk's events and the registry records they need, nothing else."""
    cutoffs = lineage_closure(source, lot_id)
    wanted = closure_events(source, cutoffs)
    for seq, event in custody:
        if seq not in wanted:
            raise VerificationError(
                f"event {event['id']!r} (leaf {seq}) is not in the lineage of lot {lot_id!r}"
            )
    facilities = {f for _, _, body in wanted.values() for f in referenced_facilities(body)}
    people = {str(body["actor"]) for _, _, body in wanted.values()}
    people |= {f.operator for fid in facilities for _, f in reg.facility_versions.get(fid, [])}
    for seq, (kind, record_id) in reg.records.items():
        needed = facilities if kind == "facility" else people
        if record_id not in needed:
            raise VerificationError(
                f"registry record {kind} {record_id!r} (leaf {seq}) is not needed by the lineage"
                f" of lot {lot_id!r}"
            )
    return cutoffs


def _check_custody(source: BundleHistory, cutoffs: Mapping[str, float]) -> None:
    """Each lot's chain in the bundle follows the custody rules (ship, receive, use)."""
    for lot, cut in cutoffs.items():
        state: dict[str, Any] = {}
        for seq, role, body in source.events_of(lot):
            if seq > cut:  # the event at the cutoff is the transform that consumes the lot
                break
            problem = _custody_step(state, role, body)
            if problem:
                raise VerificationError(
                    f"lot {lot!r}: event {body['id']!r} (leaf {seq}) {problem}; the chain of"
                    " custody in the bundle is broken (an event left out or out of order)"
                )


def _custody_step(state: dict[str, Any], role: str, body: Mapping[str, Any]) -> str:
    """Apply one event to a lot's custody state; a description of what is wrong, or ''."""
    time, actor = _normalize_time(body["time"], "event"), body["actor"]
    if state and time < state["time"]:
        return "goes back in time"
    if role == "created":
        if state:
            return "creates a lot that already exists"
        state.update(status=ACTIVE, facility=body["facility"], custodian=actor)
    elif not state:
        return "uses a lot before it was created"
    elif role == "received":
        if state["status"] != IN_TRANSIT or body["facility"] != state["destination"]:
            return f"receives at {body['facility']!r} a lot with no shipment there"
        if actor != state["consignee"]:
            return f"is by {actor!r}, not the consignee {state['consignee']!r}"
        state.update(status=ACTIVE, facility=body["facility"], custodian=actor)
    else:
        if state["status"] != ACTIVE:
            return "uses a lot that is in transit"
        if actor != state["custodian"]:
            return f"is by {actor!r}, not the custodian {state['custodian']!r}"
        place = body.get("from") if role == "shipped" else body.get("facility")
        if role not in ("adjusted", "claimed") and place != state["facility"]:
            return f"happens at {place!r} but the lot is at {state['facility']!r}"
        if role == "shipped":
            state.update(status=IN_TRANSIT, destination=body["to"], consignee=body["consignee"])
    state["time"] = time
    return ""


def _check_balances(
    source: BundleHistory, cutoffs: Mapping[str, float], walk: lineage.Recomputation
) -> int:
    """Re-check the mass balance of every transform that created a lot in the lineage."""
    tol = walk.tolerance
    creating = {source.events_of(lot)[0][0]: source.events_of(lot)[0][2] for lot in cutoffs}
    transforms = 0
    for seq, body in sorted(creating.items()):
        event = parse_event(dict(body))
        if not isinstance(event, TransformEvent):
            continue
        name = f"event {event.id!r} (leaf {seq})"
        facility = source.facility(event.facility, seq)
        if not facility.process_allowed(event.process):
            raise VerificationError(f"{name}: process {event.process!r} at {facility.id!r}")
        taken = []
        for item in event.inputs:
            parent = _attempt(name, walk.before, item.lot, seq)
            taken.append(_attempt(name, consume, parent, item.mass_kg, tol)[1])
        _attempt(f"{name}: mass balance", check_balance, event, taken, tol)
        transforms += 1
    return transforms


# --- the claim -------------------------------------------------------------------------------

_SHARE_FIELDS = ("origin", "recycled_share", "routes", "by_stage", "claimed")


def expected_view(lot: Lot) -> dict[str, Any]:
    """The lot view (as ``raretrace trace --json`` prints it) of a recomputed lot, unrounded."""
    return lot_view(lot, mass_digits=None, share_digits=None)


def _check_claim(claim: Mapping[str, Any], lot: Lot) -> None:
    diffs: list[str] = []
    _compare("claim", claim, expected_view(lot), diffs, unit=1e-6)
    if diffs:
        more = f" (and {len(diffs) - 1} more)" if len(diffs) > 1 else ""
        raise VerificationError(
            f"lot {lot.id!r} recomputed from the bundle's events differs from the claim: "
            f"{diffs[0]}{more}"
        )


def _compare(where: str, claimed: Any, expected: Any, diffs: list[str], *, unit: float) -> None:
    """Claimed values are the expected ones rounded to ``unit`` (1e-6 kg, 1e-9 for shares)."""
    if isinstance(expected, Mapping):
        if isinstance(claimed, list):  # e.g. routes listing one twice, or with other fields
            diffs.append(f"{where}: claimed {str(claimed)[:200]}, recomputed {_keys(expected)}")
            return
        if not isinstance(claimed, Mapping) or set(claimed) != set(expected):
            diffs.append(f"{where} has fields {_keys(claimed)}, recomputed {_keys(expected)}")
            return
        for key in sorted(expected):
            inner = 1e-9 if key in _SHARE_FIELDS else unit
            mine, theirs = claimed[key], expected[key]
            if key == "routes":  # compared by route, whatever order near-equal shares take
                mine, theirs = _by_route(mine), _by_route(theirs)
            _compare(f"{where}.{key}", mine, theirs, diffs, unit=inner)
    elif isinstance(expected, list):
        if not isinstance(claimed, list) or len(claimed) != len(expected):
            diffs.append(f"{where}: claimed {claimed!r}, recomputed {expected!r}")
            return
        for i, (c, e) in enumerate(zip(claimed, expected, strict=True)):
            _compare(f"{where}[{i}]", c, e, diffs, unit=unit)
    elif isinstance(expected, float | int) and not isinstance(expected, bool):
        ok = isinstance(claimed, float | int) and not isinstance(claimed, bool)
        # Half a unit of rounding, and a hair for the float noise of a different summation.
        if not ok or abs(claimed - expected) > unit / 2 + 1e-12 * max(1.0, abs(expected)):
            diffs.append(f"{where}: claimed {claimed!r}, recomputed {expected:.12g}")
    elif claimed != expected:
        diffs.append(f"{where}: claimed {claimed!r}, recomputed {expected!r}")


def _by_route(routes: Any) -> Any:
    """Per element, each route's share keyed by its steps (``mine AU/AU > separation MY/AU``:
    stage, country / technology origin). Anything not shaped like routes, or listing a route
    twice, is left as it is, for ``_compare`` to report."""
    try:
        out = {}
        for element, shares in routes.items():
            keyed = {_route_name(r["steps"]): r["share"] for r in shares if set(r) == _ROUTE}
            if len(keyed) != len(shares):
                return routes
            out[element] = keyed
        return out
    except (AttributeError, KeyError, TypeError):
        return routes


_ROUTE, _STEP = {"share", "steps"}, {"stage", "country", "technology_origin"}


def _route_name(steps: list[Mapping[str, Any]]) -> str:
    if any(set(s) != _STEP for s in steps):
        raise KeyError("step")
    return " > ".join(f"{s['stage']} {s['country']}/{s['technology_origin']}" for s in steps)


def _keys(value: Any) -> str:
    return ", ".join(sorted(value)) if isinstance(value, Mapping) else type(value).__name__
