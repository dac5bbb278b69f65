"""Binding credentials to the ledger's evidence, and checking that binding offline.

Each credential ``certify`` issues names, in its ``relatedResource`` (VCDM 2.0 §5.3
"Integrity of Related Resources"), the lot's evidence bundle and the signed checkpoint the
bundle's proofs rest on, each with a ``digestMultibase``: ``u`` + base64url (no padding) of
the multihash ``0x12 0x20`` ‖ SHA-256 of the bytes. ``verify-credential --evidence BUNDLE``
adds the ``evidence`` check: the bundle is the one the credential names (digest), it verifies
as ``raretrace verify`` checks it (``raretrace.verify.verify_bundle``), its checkpoint is the
one named, and every number of a passport equals what the bundle's events recompute — with
the functions of ``untp.py`` that made it, applied to the lot ``verify_bundle`` recomputed.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from raretrace.credentials.jose import Secured
from raretrace.credentials.untp import (
    DCC_TYPE,
    DPP_TYPE,
    EXTENSION,
    lot_urn,
    materials_provenance,
    provenance_extension,
)
from raretrace.credentials.verify import NamedCheck, VerifyInputs
from raretrace.domain.errors import VerificationError
from raretrace.verify import TrustedKeys, Verdict, expected_view, load_bundle, verify_bundle

CHECKPOINT_PREFIX = "urn:raretrace:checkpoint:"
_MULTIHASH_SHA256 = b"\x12\x20"


def digest_multibase(data: bytes) -> str:
    """``digestMultibase`` of ``data``: multibase base64url of its SHA-256 multihash."""
    digest = _MULTIHASH_SHA256 + hashlib.sha256(data).digest()
    return "u" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def checkpoint_id(origin: str, size: int) -> str:
    """The ``relatedResource`` id of a checkpoint: ``urn:raretrace:checkpoint:<origin>:<size>``."""
    return f"{CHECKPOINT_PREFIX}{origin}:{size}"


def related_resources(
    *, bundle: bytes, evidence_url: str, checkpoint_note: str, origin: str, size: int
) -> list[dict[str, Any]]:
    """The ``relatedResource`` entries binding a credential to a bundle and its checkpoint."""
    return [
        {
            "id": evidence_url,
            "mediaType": "application/json",
            "digestMultibase": digest_multibase(bundle),
        },
        {
            "id": checkpoint_id(origin, size),
            "mediaType": "text/plain",
            "digestMultibase": digest_multibase(checkpoint_note.encode("utf-8")),
        },
    ]


def evidence_check(
    bundle: bytes, trust: TrustedKeys, *, witnesses: int | None = None, source: str = "bundle"
) -> NamedCheck:
    """The ``evidence`` check of ``verify_credential`` for the bundle bytes ``bundle``."""

    def run(_inputs: VerifyInputs, secured: Secured) -> str:
        return check_evidence(secured.credential, bundle, trust, witnesses=witnesses, source=source)

    return NamedCheck("evidence", run)


def check_evidence(
    credential: Mapping[str, Any],
    bundle: bytes,
    trust: TrustedKeys,
    *,
    witnesses: int | None = None,
    source: str = "bundle",
) -> str:
    """Raise VerificationError naming the first mismatch; a one-line detail otherwise."""
    evidence, checkpoint = _named_resources(credential)
    found = digest_multibase(bundle)
    if found != evidence.get("digestMultibase"):
        raise VerificationError(
            f"the bundle {source} does not match the credential: its digest is {found}, the"
            f" credential names {evidence.get('digestMultibase')!r} ({evidence.get('id')});"
            " pass the evidence.json issued with this credential"
        )
    try:
        verdict = verify_bundle(bundle, trust, witnesses=witnesses)
    except VerificationError as exc:
        raise VerificationError(f"the bundle {source} does not verify: {exc.message}") from None
    note = load_bundle(bundle).checkpoint
    if digest_multibase(note.encode("utf-8")) != checkpoint.get("digestMultibase"):
        raise VerificationError(
            f"the bundle's checkpoint (size {verdict.checkpoint.size}) is not the one the"
            f" credential rests on ({checkpoint.get('id')})"
        )
    types = credential.get("type") or []
    if DPP_TYPE in types:
        count = _check_passport(credential, verdict)
        what = f"every number of the passport ({count} materials, mass, routes, stage shares)"
    elif DCC_TYPE in types:
        _check_attested_lot(credential, verdict)
        what = "the attested lot is the bundle's"
    else:
        what = "the credential names the bundle"
    return (
        f"bundle {found[:16]}… verifies against checkpoint {verdict.checkpoint.origin} size"
        f" {verdict.checkpoint.size}; lot {verdict.lot.id} recomputed from its"
        f" {verdict.custody_events} events: {what} match"
    )


def _named_resources(credential: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    related = credential.get("relatedResource")
    entries = [r for r in related if isinstance(r, dict)] if isinstance(related, list) else []
    checkpoints = [r for r in entries if str(r.get("id", "")).startswith(CHECKPOINT_PREFIX)]
    bundles = [r for r in entries if r not in checkpoints]
    if len(bundles) != 1 or len(checkpoints) != 1:
        raise VerificationError(
            "the credential names no evidence bundle and checkpoint (relatedResource with"
            " digestMultibase); it was not issued by `raretrace certify`, or was changed"
        )
    return bundles[0], checkpoints[0]


def _check_attested_lot(credential: Mapping[str, Any], verdict: Verdict) -> None:
    subject = credential.get("credentialSubject") or {}
    assessments = subject.get("assessment") or [{}]
    products = assessments[0].get("assessedProduct") or [{}]
    named = products[0].get("id")
    if named != lot_urn(verdict.lot.id):
        raise VerificationError(
            f"the credential attests {named!r}, but the bundle is the evidence of lot"
            f" {verdict.lot.id!r}"
        )


def _check_passport(credential: Mapping[str, Any], verdict: Verdict) -> int:
    """Compare the passport's numbers with those recomputed from the bundle; the count of
    materials compared."""
    subject = credential.get("credentialSubject") or {}
    view = expected_view(verdict.lot)
    product = subject.get("product") or {}
    if subject.get("id") != lot_urn(verdict.lot.id) or product.get("id") != lot_urn(verdict.lot.id):
        raise VerificationError(
            f"the passport is of {product.get('id')!r}, but the bundle is the evidence of lot"
            f" {verdict.lot.id!r}"
        )
    diffs: list[str] = []
    _compare("product.form", product.get("form"), view["form"], diffs)
    weight = (product.get("dimensions") or {}).get("weight") or {}
    _compare("product mass (kg)", weight.get("value"), view["mass_kg"], diffs, tol=1e-6)
    claimed = _by_material(subject.get("materialsProvenance"), diffs)
    expected = _by_material(materials_provenance(view), diffs)
    for key in sorted(set(claimed) | set(expected), key=str):
        _compare_material(key, claimed.get(key), expected.get(key), diffs)
    extension = subject.get(EXTENSION) or {}
    recomputed = provenance_extension(view, None)
    for part in ("routes", "byStage", "claimed"):
        _compare(f"{EXTENSION}.{part}", extension.get(part), recomputed[part], diffs)
    _check_scheme_claim(extension.get("schemeClaim"), verdict, diffs)
    if diffs:
        more = f" (and {len(diffs) - 1} more)" if len(diffs) > 1 else ""
        raise VerificationError(
            f"the passport differs from what the bundle's events recompute: {diffs[0]}{more}"
        )
    return len(expected)


def _by_material(entries: object, diffs: list[str]) -> dict[tuple[str, str], Mapping[str, Any]]:
    keyed: dict[tuple[str, str], Mapping[str, Any]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            diffs.append(f"materialsProvenance holds {entry!r}, not a Material")
            continue
        code = str((entry.get("materialType") or {}).get("code"))
        country = str((entry.get("originCountry") or {}).get("countryCode", "unattributed"))
        if (code, country) in keyed:
            diffs.append(f"materialsProvenance lists {code} from {country} twice")
        keyed[(code, country)] = entry
    return keyed


def _compare_material(
    key: tuple[str, str], claimed: Mapping[str, Any] | None,
    expected: Mapping[str, Any] | None, diffs: list[str],
) -> None:  # fmt: skip
    where = f"materialsProvenance {key[0]} from {key[1]}"
    if claimed is None or expected is None:
        state = "is missing" if claimed is None else "is not in the lot's recomputed origin"
        diffs.append(f"{where} {state}")
        return
    for field in ("massFraction", "recycledMassFraction"):
        _compare(f"{where}: {field}", claimed.get(field), expected[field], diffs)
    mass = claimed.get("mass") or {}
    _compare(f"{where}: mass (kg)", mass.get("value"), expected["mass"]["value"], diffs, tol=1e-6)
    _compare(f"{where}: mass unit", mass.get("unit"), expected["mass"]["unit"], diffs)
    _compare(f"{where}: hazardous", claimed.get("hazardous"), expected["hazardous"], diffs)


def _check_scheme_claim(claim: object, verdict: Verdict, diffs: list[str]) -> None:
    if claim is None:
        return
    if not isinstance(claim, dict):
        diffs.append(f"{EXTENSION}.schemeClaim is {claim!r}, not an object")
        return
    scheme, event = str(claim.get("scheme")), str(claim.get("claimEvent"))
    provenance = verdict.lot.provenance
    if event not in provenance.claims.get(scheme, ()):
        diffs.append(
            f"the passport asserts the lot for scheme {scheme!r} by claim {event!r}, but the"
            f" bundle's events hold no such claim on the lot's material"
        )


def _compare(
    where: str, claimed: Any, expected: Any, diffs: list[str], *, tol: float = 1e-9
) -> None:
    """Numbers within ``tol`` plus float noise (both sides were rounded the same way)."""
    if isinstance(expected, Mapping):
        if not isinstance(claimed, Mapping) or set(claimed) != set(expected):
            diffs.append(f"{where}: credential has {_keys(claimed)}, recomputed {_keys(expected)}")
            return
        for key in expected:
            _compare(f"{where}.{key}", claimed[key], expected[key], diffs, tol=tol)
    elif isinstance(expected, Sequence) and not isinstance(expected, str):
        if not isinstance(claimed, list) or len(claimed) != len(expected):
            diffs.append(f"{where}: credential has {claimed!r}, recomputed {expected!r}")
            return
        for i, (c, e) in enumerate(zip(claimed, expected, strict=True)):
            _compare(f"{where}[{i}]", c, e, diffs, tol=tol)
    elif isinstance(expected, float | int) and not isinstance(expected, bool):
        number = isinstance(claimed, float | int) and not isinstance(claimed, bool)
        if not number or abs(claimed - expected) > tol + 1e-12 * max(1.0, abs(expected)):
            diffs.append(
                f"{where} is {claimed!r} in the credential, {expected:.12g} recomputed from the"
                " bundle's events"
            )
    elif claimed != expected:
        diffs.append(f"{where} is {claimed!r} in the credential, {expected!r} recomputed")


def _keys(value: Any) -> str:
    return (
        ", ".join(sorted(map(str, value))) if isinstance(value, Mapping) else type(value).__name__
    )
