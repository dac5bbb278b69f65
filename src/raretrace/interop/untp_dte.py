"""A UNTP Digital Traceability Event credential (UNTP DTE 0.6, VC 2.0) of raretrace custody
events, unsigned; ``credentials.securing.secure`` signs it (VC-JOSE or eddsa-jcs-2022).

UNTP models traceability events on GS1 EPCIS (UNTP specification, "Digital Traceability
Events"); one credential may carry several events, as ``credentialSubject`` list. Mapping:

- ``extract`` → ``ObjectEvent`` (action ``Add``, bizStep commissioning) with the new lots;
- ``transform`` → ``TransformationEvent`` with input and output quantity lists;
- ``ship`` → ``TransactionEvent`` (UNTP requirement TEV-04: movement between parties) from
  the shipper to the consignee, with the lot shipped;
- ``receive`` → ``ObjectEvent`` (bizStep receiving); ``adjust`` → ``ObjectEvent`` with a
  raretrace bizStep.

Products are lots (``urn:raretrace:lot:<id>``, the passport's product id); locations and
parties are raretrace URNs; CBV words are written as their ``https://ref.gs1.org/cbv/`` URIs.
Each event keeps its raretrace event id (``raretraceEventId``) so it can be found in the
ledger and its evidence bundle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from raretrace.domain.model import display_time
from raretrace.interop.epcis_export import ADJUSTING
from raretrace.interop.urns import (
    KILOGRAM,
    CustodyEvent,
    event_urn,
    facility_urn,
    lot_urn,
    participant_urn,
)

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
DTE_CONTEXT = "https://test.uncefact.org/vocabulary/untp/dte/0.6.0/"
DTE_TYPE = "DigitalTraceabilityEvent"
CBV = "https://ref.gs1.org/cbv/"
DTE_TYPES = ("extract", "transform", "ship", "receive", "adjust")


def _product(lot: str, kg: float, views: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    form = views.get(lot, {}).get("form", "material")
    return {
        "productId": lot_urn(lot),
        "productName": f"{form} lot {lot}",
        "quantity": float(kg) + 0.0,
        "uom": KILOGRAM,
    }


def _event(kind: str, body: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    step, disposition = fields.pop("bizStep"), fields.pop("disposition", None)
    out: dict[str, Any] = {
        "type": [kind, "Event"],
        "id": event_urn(str(body["id"])),
        "processType": fields.pop("processType"),
        "eventTime": display_time(str(body["time"])),
        "action": fields.pop("action", "Observe"),
        "bizStep": step if step.startswith(("https:", "urn:")) else f"{CBV}BizStep-{step}",
    }
    if disposition is not None:
        out["disposition"] = f"{CBV}Disp-{disposition}"
    out.update(fields)
    out["raretraceEventId"] = body["id"]
    return out


def dte_event(event: CustodyEvent, views: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One custody event (``DTE_TYPES``) as a UNTP DTE event."""
    b, kg = event.body, event.kg
    kind = b["type"]
    if kind == "extract":
        return _event(
            "ObjectEvent", b, processType="extraction", action="Add", bizStep="commissioning",
            disposition="active", bizLocation=facility_urn(b["facility"]),
            quantityList=[_product(o["lot"], o["mass_kg"], views) for o in b["outputs"]],
        )  # fmt: skip
    if kind == "transform":
        return _event(
            "TransformationEvent", b, processType=b["process"], action="Add",
            bizStep="commissioning", disposition="active", bizLocation=facility_urn(b["facility"]),
            inputQuantityList=[_product(i["lot"], i["mass_kg"], views) for i in b["inputs"]],
            outputQuantityList=[_product(o["lot"], o["mass_kg"], views) for o in b["outputs"]],
        )  # fmt: skip
    if kind == "ship":
        return _event(
            "TransactionEvent", b, processType="shipping", bizStep="shipping",
            disposition="in_transit", bizLocation=facility_urn(b["from"]),
            sourcePartyId=participant_urn(b["actor"]),
            destinationPartyId=participant_urn(b["consignee"]),
            destinationLocation=facility_urn(b["to"]),
            quantityList=[_product(b["lot"], kg[(b["lot"], "shipped")], views)],
        )  # fmt: skip
    if kind == "receive":
        return _event(
            "ObjectEvent", b, processType="receiving", bizStep="receiving",
            disposition="in_progress", bizLocation=facility_urn(b["facility"]),
            quantityList=[_product(b["lot"], kg[(b["lot"], "received")], views)],
        )  # fmt: skip
    return _event(
        "ObjectEvent", b, processType=f"adjustment: {b['reason']}", bizStep=ADJUSTING,
        quantityList=[_product(b["lot"], -float(b["mass_kg"]), views)],
    )  # fmt: skip


def traceability_credential(
    events: Sequence[CustodyEvent],
    views: Mapping[str, Mapping[str, Any]],
    *,
    credential_id: str,
    issuer: str,
    issuer_name: str,
    valid_from: str,
    about: str,
) -> dict[str, Any]:
    """The unsigned DTE credential of ``events`` (in log order; other types left out)."""
    chosen = [e for e in events if e.body.get("type") in DTE_TYPES]
    return {
        "@context": [VC_CONTEXT, DTE_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", DTE_TYPE],
        "name": f"Digital Traceability Events: {about}",
        "issuer": {"type": ["CredentialIssuer"], "id": issuer, "name": issuer_name},
        "validFrom": valid_from,
        "credentialSubject": [dte_event(e, views) for e in chosen],
    }
