"""raretrace custody events as a GS1 EPCIS 2.0 JSON-LD document (docs/interchange.md).

Pure: the events, the registry and the lots' JSON views in, one ``EPCISDocument`` out.

- ``extract`` → ``ObjectEvent`` ADD, bizStep ``commissioning``, the new lots in
  ``quantityList`` (KGM) and their form and composition as ILMD (EPCIS 2.0 §7.3.5: lot master
  data belongs to the event that creates the lot);
- ``ship`` → ``ObjectEvent`` OBSERVE, ``shipping``, disposition ``in_transit``, the shipped kg,
  ``sourceList``/``destinationList`` (CBV 2.0 §7.4: owning party and location);
- ``receive`` → ``ObjectEvent`` OBSERVE, ``receiving``, the received kg, ``destinationList``;
- ``transform`` → ``TransformationEvent`` with ``inputQuantityList``/``outputQuantityList``;
- ``adjust`` and ``claim`` → ``ObjectEvent`` OBSERVE with a raretrace bizStep URI.

Lots are ``epcClass`` URNs (``urn:raretrace:lot:<id>``); ``readPoint``/``bizLocation`` are the
facility's URN; the raretrace event id, actor, process, losses, composition and everything
else the import needs are extension fields in the ``rt:`` namespace. The header's master
data describes each facility (CBV master data attributes) and each lot (its composition,
origin shares and route shares now), so a reader needs nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from raretrace.domain.model import Facility, display_time
from raretrace.domain.registry import Registry
from raretrace.interop.urns import (
    KILOGRAM,
    NAMESPACE,
    PREFIX,
    CustodyEvent,
    event_urn,
    ext,
    facility_urn,
    lot_urn,
    participant_urn,
)

#: The ratified EPCIS 2.0 JSON-LD context (what ``@context`` names; never fetched here).
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#: bizStep URIs for what CBV has no word for (CBV 2.0 §7.1 allows user vocabulary URIs).
ADJUSTING = NAMESPACE + "bizstep:adjusting"
CLAIMING = NAMESPACE + "bizstep:claiming"
#: CBV 2.0 §8 master data attributes of a location, and the vocabulary types (§8.2, §8.3).
_MDA = "urn:epcglobal:cbv:mda#"
LOCATION_VOCABULARY = "urn:epcglobal:epcis:vtype:BusinessLocation"
CLASS_VOCABULARY = "urn:epcglobal:epcis:vtype:EPCClass"
CUSTODY_TYPES = ("extract", "ship", "receive", "transform", "adjust", "claim")


def _kg(value: float) -> float:
    """A mass as the ledger holds it (not rounded: an import must give the same lots back)."""
    return float(value) + 0.0  # + 0.0 turns -0.0 into 0.0


def _quantity(lot: str, kg: float) -> dict[str, Any]:
    return {"epcClass": lot_urn(lot), "quantity": _kg(kg), "uom": KILOGRAM}


def _place(facility: str) -> dict[str, Any]:
    return {
        "readPoint": {"id": facility_urn(facility)},
        "bizLocation": {"id": facility_urn(facility)},
    }


def _party(role: str, participant: str) -> dict[str, str]:
    return {"type": "owning_party", role: participant_urn(participant)}


def _location(role: str, facility: str) -> dict[str, str]:
    return {"type": "location", role: facility_urn(facility)}


def _common(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "eventTime": display_time(str(body["time"])),
        "eventTimeZoneOffset": "+00:00",
        "eventID": event_urn(str(body["id"])),
        ext("eventID"): body["id"],
        ext("actor"): body["actor"],
    }


def _lots_ilmd(outputs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    lots = [
        {"lot": o["lot"], "form": o["form"], "massKg": o["mass_kg"],
         "elementsKg": dict(o["elements_kg"])}
        for o in outputs
    ]  # fmt: skip
    return {ext("lots"): lots}


def _extract(e: CustodyEvent) -> dict[str, Any]:
    b = e.body
    return {
        **_common("ObjectEvent", b),
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "quantityList": [_quantity(o["lot"], o["mass_kg"]) for o in b["outputs"]],
        **_place(b["facility"]),
        "ilmd": _lots_ilmd(b["outputs"]),
    }


def _ship(e: CustodyEvent) -> dict[str, Any]:
    b = e.body
    return {
        **_common("ObjectEvent", b),
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "quantityList": [_quantity(b["lot"], e.kg[(b["lot"], "shipped")])],
        **_place(b["from"]),
        "sourceList": [_party("source", b["actor"]), _location("source", b["from"])],
        "destinationList": [
            _party("destination", b["consignee"]),
            _location("destination", b["to"]),
        ],
    }


def _receive(e: CustodyEvent) -> dict[str, Any]:
    b = e.body
    return {
        **_common("ObjectEvent", b),
        "action": "OBSERVE",
        "bizStep": "receiving",
        "disposition": "in_progress",
        "quantityList": [_quantity(b["lot"], e.kg[(b["lot"], "received")])],
        **_place(b["facility"]),
        "destinationList": [
            _party("destination", b["actor"]),
            _location("destination", b["facility"]),
        ],
        # Whether the receiver weighed the lot (mass_kg given) or took the shipped mass.
        ext("weighed"): b.get("mass_kg") is not None,
    }


def _transform(e: CustodyEvent) -> dict[str, Any]:
    b = e.body
    out = {
        **_common("TransformationEvent", b),
        "inputQuantityList": [_quantity(i["lot"], i["mass_kg"]) for i in b["inputs"]],
        "outputQuantityList": [_quantity(o["lot"], o["mass_kg"]) for o in b["outputs"]],
        "bizStep": "commissioning",
        "disposition": "active",
        **_place(b["facility"]),
        "ilmd": _lots_ilmd(b["outputs"]),
        ext("process"): b["process"],
    }
    if b.get("losses_kg"):
        out[ext("lossesKg")] = dict(b["losses_kg"])
    return out


def _adjust(e: CustodyEvent) -> dict[str, Any]:
    b = e.body
    return {
        **_common("ObjectEvent", b),
        "action": "OBSERVE",
        "bizStep": ADJUSTING,
        "quantityList": [_quantity(b["lot"], -float(b["mass_kg"]))],
        ext("adjustKg"): b["mass_kg"],
        ext("reason"): b["reason"],
    }


def _claim(e: CustodyEvent) -> dict[str, Any]:
    b = e.body
    return {
        **_common("ObjectEvent", b),
        "action": "OBSERVE",
        "bizStep": CLAIMING,
        "quantityList": [_quantity(b["lot"], e.kg[(b["lot"], "claimed")])],
        ext("scheme"): b["scheme"],
        ext("share"): b["share"],
    }


_MAPPERS: dict[str, Callable[[CustodyEvent], dict[str, Any]]] = {
    "extract": _extract,
    "ship": _ship,
    "receive": _receive,
    "transform": _transform,
    "adjust": _adjust,
    "claim": _claim,
}


def epcis_event(event: CustodyEvent) -> dict[str, Any]:
    """One custody event as an EPCIS 2.0 event (``CUSTODY_TYPES`` only)."""
    return _MAPPERS[str(event.body["type"])](event)


def _attributes(pairs: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"id": k, "attribute": v} for k, v in pairs.items() if v is not None]


def _facility_element(f: Facility) -> dict[str, Any]:
    pairs = {
        _MDA + "name": f.name,
        _MDA + "countryCode": f.country,
        _MDA + "latitude": f.lat,
        _MDA + "longitude": f.lon,
        ext("facilityID"): f.id,
        ext("operator"): f.operator,
        ext("stage"): " ".join(f.stages),
        ext("capacityTonnesPerYear"): f.capacity_t_per_year,
    }
    return {"id": facility_urn(f.id), "attributes": _attributes(pairs)}


def _lot_element(view: Mapping[str, Any]) -> dict[str, Any]:
    pairs = {
        ext("lotID"): view["lot"],
        ext("form"): view["form"],
        ext("massKg"): view["mass_kg"],
        ext("elementsKg"): view["elements_kg"],
        ext("originByMine"): view["origin"]["by_mine"],
        ext("originByCountry"): view["origin"]["by_country"],
        ext("routes"): {"routes": view.get("routes", {})},
    }
    return {"id": lot_urn(str(view["lot"])), "attributes": _attributes(pairs)}


def epcis_document(
    events: Sequence[CustodyEvent],
    registry: Registry,
    lots: Mapping[str, Mapping[str, Any]],
    *,
    created: str,
) -> dict[str, Any]:
    """The EPCISDocument of ``events`` (custody events in log order); ``lots`` are the JSON
    views of the lots they touch, ``created`` the document's creationDate (RFC 3339)."""
    chosen = [e for e in events if e.body.get("type") in _MAPPERS]
    places = sorted({f for e in chosen for f in _facilities_of(e.body)})
    facilities = [registry.facilities[f] for f in places if f in registry.facilities]
    return {
        "@context": [EPCIS_CONTEXT, {PREFIX: NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created,
        "epcisHeader": {
            "epcisMasterData": {
                "vocabularyList": [
                    {
                        "type": LOCATION_VOCABULARY,
                        "vocabularyElementList": [_facility_element(f) for f in facilities],
                    },
                    {
                        "type": CLASS_VOCABULARY,
                        "vocabularyElementList": [_lot_element(lots[k]) for k in sorted(lots)],
                    },
                ]
            }
        },
        "epcisBody": {"eventList": [epcis_event(e) for e in chosen]},
    }


def _facilities_of(body: Mapping[str, Any]) -> list[str]:
    if body.get("type") == "ship":
        return [str(body["from"]), str(body["to"])]
    return [str(body["facility"])] if "facility" in body else []
