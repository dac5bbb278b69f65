"""The UN Transparency Protocol credentials raretrace issues, as unsigned VC 2.0 documents.

A **Digital Product Passport** (UNTP DPP 0.6: ``DigitalProductPassport`` whose subject is a
``ProductPassport``) for a lot, and one **Digital Conformity Credential** (UNTP DCC 0.6:
``DigitalConformityCredential`` whose subject is a ``ConformityAttestation``) per compliance
result. Every number of a passport is computed here from a lot's JSON view (the shape
``raretrace trace --json`` prints and ``raretrace.verify.expected_view`` recomputes from an
evidence bundle), so the issuer and an offline verifier holding the bundle compute the same
numbers with the same code (``evidence.py``). The shapes are documented, with a real example,
in docs/credentials.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from raretrace.credentials.datamodel import VC_CONTEXT
from raretrace.domain.elements import ELEMENT_ORDER, RADIONUCLIDES
from raretrace.domain.model import RECYCLED, UNATTRIBUTED

DPP_CONTEXT = "https://test.uncefact.org/vocabulary/untp/dpp/0.6.0/"
DCC_CONTEXT = "https://test.uncefact.org/vocabulary/untp/dcc/0.6.0/"
DPP_TYPE = "DigitalProductPassport"
DCC_TYPE = "DigitalConformityCredential"
#: UNTP link type of a conformity credential (SecureLink.linkType).
DCC_LINK_TYPE = "https://test.uncefact.org/vocabulary/linkTypes/dcc"
#: UN/CEFACT Recommendation 20 unit code for kilogram.
KILOGRAM = "KGM"
#: The extension property of the passport's subject holding routes, per-stage shares, claims.
EXTENSION = "raretraceProvenance"
#: Masses in kg to the milligram, fractions to 1e-9: as ``raretrace trace`` prints them.
MASS_DIGITS, FRACTION_DIGITS = 6, 9

ELEMENT_NAMES = {
    "Sc": "Scandium", "Y": "Yttrium", "La": "Lanthanum", "Ce": "Cerium",
    "Pr": "Praseodymium", "Nd": "Neodymium", "Pm": "Promethium", "Sm": "Samarium",
    "Eu": "Europium", "Gd": "Gadolinium", "Tb": "Terbium", "Dy": "Dysprosium",
    "Ho": "Holmium", "Er": "Erbium", "Tm": "Thulium", "Yb": "Ytterbium", "Lu": "Lutetium",
    "Th": "Thorium", "U": "Uranium",
}  # fmt: skip

#: What each pack attests against (UNTP ``referenceRegulation`` / ``referenceStandard``).
PACK_REFERENCES = {
    "cn-mofcom": "PRC MOFCOM Announcements No. 18, 61 and 70 of 2025 (rare-earth export controls)",
    "us-dfars": "US DFARS 252.225-7052 (restriction on certain magnets and rare earths)",
    "oecd-cahra": "OECD Due Diligence Guidance for minerals from conflict-affected and"
    " high-risk areas",
    "asean-esg": "ASEAN ESG baseline for rare-earth facilities (licensed and audited)",
    "eu-crma": "Regulation (EU) 2024/1252, Critical Raw Materials Act, benchmarks",
}


def _round(value: float, digits: int) -> float:
    return round(value, digits) + 0.0  # + 0.0 turns -0.0 into 0.0


def lot_urn(lot_id: str) -> str:
    """The product id of a lot: ``urn:raretrace:lot:<id, percent-encoded>``."""
    return "urn:raretrace:lot:" + quote(lot_id, safe="")


@dataclass(frozen=True, slots=True)
class MaterialShare:
    """One (element, origin country) of a lot: its kg, and the recycled kg among them."""

    element: str
    country: str | None  # None: the origin is unattributed
    kg: float
    recycled_kg: float


def material_shares(view: Mapping[str, Any]) -> list[MaterialShare]:
    """Per conserved element and origin country, the kg of the lot from there.

    Mined material counts under its mine's country (``origin.by_country``). Collected scrap
    has no mine: it counts, as recycled, under the country of the recycler that collected
    it — the first step of its routes (``recycling``) — split in proportion to those routes.
    """
    shares: list[MaterialShare] = []
    by_country: Mapping[str, Mapping[str, float]] = view["origin"]["by_country"]
    for element in sorted(by_country, key=lambda e: ELEMENT_ORDER.get(e, 99)):
        kg = float(view["elements_kg"].get(element, 0.0))
        mined: dict[str | None, float] = {}
        recycled: dict[str | None, float] = {}
        for country, share in by_country[element].items():
            if country == RECYCLED:
                for recycler, part in _recyclers(view, element).items():
                    recycled[recycler] = recycled.get(recycler, 0.0) + share * part
            else:
                mine: str | None = None if country == UNATTRIBUTED else country
                mined[mine] = mined.get(mine, 0.0) + share
        for where in sorted(set(mined) | set(recycled), key=lambda c: (c is None, c or "")):
            part_mined, part_recycled = mined.get(where, 0.0), recycled.get(where, 0.0)
            shares.append(
                MaterialShare(element, where, kg * (part_mined + part_recycled), kg * part_recycled)
            )
    return shares


def _recyclers(view: Mapping[str, Any], element: str) -> dict[str | None, float]:
    """The countries whose recyclers collected the element's scrap, as parts of 1."""
    found: dict[str | None, float] = {}
    for route in view.get("routes", {}).get(element, []):
        steps = route.get("steps") or []
        if steps and steps[0].get("stage") == "recycling":
            country = steps[0].get("country")
            found[country] = found.get(country, 0.0) + float(route["share"])
    total = math.fsum(found.values())
    if total <= 0:
        return {None: 1.0}
    return {country: part / total for country, part in found.items()}


def materials_provenance(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The passport's ``materialsProvenance``: one UNTP ``Material`` per (element, country)."""
    lot_kg = float(view["mass_kg"])
    out = []
    for share in material_shares(view):
        name = ELEMENT_NAMES.get(share.element, share.element)
        entry: dict[str, Any] = {
            "type": ["Material"],
            "name": f"{name} ({share.element}) from " + (share.country or "an unattributed origin"),
        }
        if share.country is not None:
            entry["originCountry"] = {"type": ["Country"], "countryCode": share.country}
        entry |= {
            "materialType": {
                "type": ["Classification"],
                "code": share.element,
                "name": name,
                "schemeName": "IUPAC chemical element symbol",
            },
            "massFraction": _round(share.kg / lot_kg if lot_kg > 0 else 0.0, FRACTION_DIGITS),
            "mass": {"type": ["Measure"], "value": _round(share.kg, MASS_DIGITS), "unit": KILOGRAM},
            "recycledMassFraction": _round(
                share.recycled_kg / share.kg if share.kg > 0 else 0.0, FRACTION_DIGITS
            ),
            "hazardous": share.element in RADIONUCLIDES,
        }
        out.append(entry)
    return out


def provenance_extension(
    view: Mapping[str, Any], claim: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The documented extension: routes, per-stage country shares, claimed shares, the claim."""

    def shares(by: Mapping[str, float]) -> dict[str, float]:
        return {k: _round(float(v), FRACTION_DIGITS) for k, v in by.items()}

    extension: dict[str, Any] = {
        "routes": {
            element: [
                {"share": _round(float(r["share"]), FRACTION_DIGITS), "steps": r["steps"]}
                for r in routes
            ]
            for element, routes in view.get("routes", {}).items()
        },
        "byStage": {
            element: {stage: shares(at) for stage, at in stages.items()}
            for element, stages in view.get("by_stage", {}).items()
        },
        "claimed": {scheme: shares(by) for scheme, by in view.get("claimed", {}).items()},
    }
    if claim is not None:
        extension["schemeClaim"] = dict(claim)
    return extension


@dataclass(frozen=True, slots=True)
class Envelope:
    """What every credential raretrace issues carries besides its subject."""

    credential_id: str
    issuer: str
    valid_from: str
    valid_until: str
    status: Mapping[str, Any] | None
    related: Sequence[Mapping[str, Any]]


def _credential(
    envelope: Envelope, *, context: str, kind: str, name: str, subject: dict[str, Any]
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [VC_CONTEXT, context],
        "id": envelope.credential_id,
        "type": ["VerifiableCredential", kind],
        "name": name,
        "issuer": envelope.issuer,
        "validFrom": envelope.valid_from,
        "validUntil": envelope.valid_until,
        "credentialSubject": subject,
    }
    if envelope.status is not None:
        doc["credentialStatus"] = dict(envelope.status)
    if envelope.related:
        doc["relatedResource"] = [dict(r) for r in envelope.related]
    return doc


def product_passport(
    envelope: Envelope,
    view: Mapping[str, Any],
    *,
    claims: Sequence[Mapping[str, Any]],
    scheme_claim: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The DPP of a lot (``view``: its JSON view), pointing at its DCCs (``claims``)."""
    lot_id, form = str(view["lot"]), str(view["form"])
    product = {
        "type": ["Product"],
        "id": lot_urn(lot_id),
        "name": f"{form} lot {lot_id}",
        "batchNumber": lot_id,
        "form": form,
        "dimensions": {
            "weight": {
                "type": ["Measure"],
                "value": _round(float(view["mass_kg"]), MASS_DIGITS),
                "unit": KILOGRAM,
            }
        },
    }
    subject = {
        "type": ["ProductPassport"],
        "id": lot_urn(lot_id),
        "product": product,
        "granularityLevel": "batch",
        "materialsProvenance": materials_provenance(view),
        "conformityClaim": [dict(c) for c in claims],
        EXTENSION: provenance_extension(view, scheme_claim),
    }
    return _credential(
        envelope, context=DPP_CONTEXT, kind=DPP_TYPE,
        name=f"Digital Product Passport of {form} lot {lot_id}", subject=subject,
    )  # fmt: skip


def conformity_credential(
    envelope: Envelope, result: Mapping[str, Any], *, lot_id: str, as_of: str
) -> dict[str, Any]:
    """The DCC of one compliance result (``raretrace check --json``'s result shape)."""
    pack, rule, status = str(result["pack"]), str(result["rule"]), str(result["status"])
    reference = PACK_REFERENCES.get(pack, pack)
    subject = {
        "type": ["ConformityAttestation"],
        "id": f"{envelope.credential_id}#attestation",
        "name": f"{pack} {rule}: {status} for lot {lot_id} as of {as_of}",
        "assessorLevel": "ThirdParty",
        "assessmentLevel": "Verified",
        "attestationType": "Verification",
        "description": str(result.get("summary", "")),
        "pack": pack,
        "clause": rule,
        "asOf": as_of,
        "status": status,
        "reasons": list(result.get("reasons", [])),
        "events": list(result.get("events", [])),
        "factsReviewed": str(result.get("facts_reviewed", "")),
        "assessment": [
            {
                "type": ["ConformityAssessment"],
                "referenceRegulation": {"type": ["Regulation"], "name": reference},
                "assessmentCriteria": [
                    {"type": ["Criterion"], "id": f"{pack}:{rule}", "name": rule}
                ],
                "assessmentDate": as_of,
                "assessedProduct": [{"type": ["Product"], "id": lot_urn(lot_id), "name": lot_id}],
                "conformance": status == "pass",
            }
        ],
    }
    return _credential(
        envelope, context=DCC_CONTEXT, kind=DCC_TYPE,
        name=f"Digital Conformity Credential: {pack} {rule} for lot {lot_id}", subject=subject,
    )  # fmt: skip


def conformity_claim(dcc: Mapping[str, Any], *, url: str, sha256_hex: str) -> dict[str, Any]:
    """The passport's ``conformityClaim`` entry for a DCC: what it says, where it is, its hash."""
    subject = dcc["credentialSubject"]
    return {
        "type": ["Claim"],
        "id": f"{dcc['id']}#claim",
        "referenceRegulation": subject["assessment"][0]["referenceRegulation"],
        "assessmentCriteria": subject["assessment"][0]["assessmentCriteria"],
        "assessmentDate": subject["asOf"],
        "conformance": subject["status"] == "pass",
        "status": subject["status"],
        "conformityEvidence": {
            "type": ["SecureLink"],
            "linkURL": url,
            "linkName": f"{subject['pack']} {subject['clause']} ({dcc['id']})",
            "linkType": DCC_LINK_TYPE,
            "hashDigest": sha256_hex,
            "hashMethod": "SHA-256",
        },
    }
