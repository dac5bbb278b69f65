"""An EPCIS 2.0 capture document as raretrace events, ready to sign and ingest.

Pure: a document that passed the schema (``epcis_schema``) and a mapping in; per EPCIS event
one ``Outcome`` out — ``mapped`` (with the raretrace events it became), ``skipped`` (the event
has no mass-balance meaning: packing, a business-transaction link, an inspection) or
``refused`` (it would mean something, but cannot be mapped: a lot or location the mapping
lacks, a unit that is not a mass, a shape the event parser refuses). Each reason says what to
do. docs/interchange.md has the table of what maps to what.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from raretrace.domain.errors import ValidationError
from raretrace.domain.events import parse_event
from raretrace.domain.ids import id_problem
from raretrace.interop.epcis_export import ADJUSTING, CLAIMING
from raretrace.interop.epcis_mapping import EMPTY, EpcisMapping, LocationMapping
from raretrace.interop.urns import ext, parse_urn

Status = Literal["mapped", "skipped", "refused"]
#: UN/CEFACT Rec 20 mass units and their kg.
MASS_UNITS = {"KGM": 1.0, "TNE": 1000.0, "GRM": 0.001, "MGM": 1e-6, "LBR": 0.45359237}
CREATING = ("commissioning", "creating_class_instance")
SHIPPING = ("shipping", "departing")
RECEIVING = ("receiving", "arriving", "accepting")
ENDING = ("destroying", "decommissioning", "disposing")
_SKIP_TYPES = {
    "AggregationEvent": "packing or unpacking has no mass-balance meaning (the material is"
    " the same before and after)",
    "AssociationEvent": "linking parts or devices has no mass-balance meaning",
    "TransactionEvent": "a business transaction link (order, invoice) has no mass-balance"
    " meaning; custody moves with shipping and receiving events",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one EPCIS event (``index`` in the event list)."""

    index: int
    epcis_type: str
    biz_step: str
    status: Status
    reason: str
    events: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "type": self.epcis_type, "bizStep": self.biz_step,
            "status": self.status, "reason": self.reason, "events": list(self.events),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Imported:
    """The raretrace events (in document order) and one outcome per EPCIS event."""

    events: tuple[dict[str, Any], ...]
    outcomes: tuple[Outcome, ...]

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


class _Refused(Exception):
    """An event that cannot be mapped; the message says why and what to do."""


class _Skipped(Exception):
    """An event with no mass-balance meaning."""


def short_word(value: object) -> str:
    """A CBV word from any of its spellings: bare, ``cbv:BizStep-x``, the ref.gs1.org URI or
    the EPCIS 1.x URN (``urn:epcglobal:cbv:bizstep:x``); other URIs unchanged."""
    text = str(value or "")
    for marker in ("BizStep-", "Disp-", "SDT-", "bizstep:", "disp:", "sdt:"):
        if marker in text and ("gs1" in text or text.startswith(("cbv:", "urn:epcglobal"))):
            return text.rsplit(marker, 1)[1]
    return text


def event_list(document: Mapping[str, Any]) -> list[Any]:
    """The events of a document, or the one event of a bare event."""
    if document.get("type") == "EPCISDocument":
        return list(document["epcisBody"]["eventList"])
    return [document]


def import_document(document: Mapping[str, Any], mapping: EpcisMapping = EMPTY) -> Imported:
    """Every event of ``document`` mapped, skipped or refused (see the module docstring)."""
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:12]
    events: list[dict[str, Any]] = []
    outcomes: list[Outcome] = []
    for index, raw in enumerate(event_list(document)):
        kind, step = str(raw.get("type")), short_word(raw.get("bizStep"))
        reader = _Reader(raw, mapping, f"epcis:{digest}:{index}")
        try:
            made = reader.convert()
            for event in made:
                parse_event(event)  # the raretrace shape rules, before anything is written
        except _Skipped as why:
            outcomes.append(Outcome(index, kind, step, "skipped", f"{why}; skipped"))
            continue
        except (_Refused, ValidationError) as why:
            text = why.message if isinstance(why, ValidationError) else str(why)
            outcomes.append(Outcome(index, kind, step, "refused", text))
            continue
        events.extend(made)
        ids = tuple(str(e["id"]) for e in made)
        outcomes.append(Outcome(index, kind, step, "mapped", f"→ {', '.join(ids)}", ids))
    return Imported(tuple(events), tuple(outcomes))


class _Reader:
    """One EPCIS event and the lookups it needs."""

    def __init__(self, raw: Mapping[str, Any], mapping: EpcisMapping, fallback_id: str) -> None:
        self.raw, self.mapping, self.fallback_id = raw, mapping, fallback_id
        self.step = short_word(raw.get("bizStep"))

    # -- dispatch ---------------------------------------------------------------------------
    def convert(self) -> list[dict[str, Any]]:
        kind = str(self.raw.get("type"))
        if kind in _SKIP_TYPES:
            raise _Skipped(f"{kind}: {_SKIP_TYPES[kind]}")
        if "errorDeclaration" in self.raw:
            raise _Skipped(
                "an error declaration retracts an earlier event, and raretrace never changes an"
                " accepted event; record a correcting event (an adjustment) instead"
            )
        if kind == "TransformationEvent":
            return [self.transform()]
        if kind != "ObjectEvent":
            raise _Skipped(f"{kind}: not an EPCIS 2.0 event type raretrace knows")
        return self.object_event()

    def object_event(self) -> list[dict[str, Any]]:
        quantities = self.raw.get("quantityList") or []
        if not quantities:
            raise _Skipped(
                "ObjectEvent: instance identifiers (epcList) carry no mass, and raretrace"
                " tracks material by mass (give quantityList in KGM)"
            )
        action = self.raw.get("action")
        handlers: dict[str, Callable[[], list[dict[str, Any]]]] = {
            ADJUSTING: self.adjust, CLAIMING: self.claim,
        }  # fmt: skip
        if self.step in handlers:
            return handlers[self.step]()
        if action == "ADD" and (self.step in CREATING or not self.step):
            return [self.extract()]
        if self.step in SHIPPING:
            return self.per_lot(self.ship)
        if self.step in RECEIVING:
            return self.per_lot(self.receive)
        if action == "DELETE" and self.step in ENDING:
            return self.per_lot(self.write_off)
        shown = self.step or "(none)"
        raise _Skipped(
            f"ObjectEvent {action} with bizStep {shown}: neither creates, moves nor consumes"
            " material"
        )

    def per_lot(self, one: Callable[[Mapping[str, Any], str], dict[str, Any]]) -> list[Any]:
        items = self.raw["quantityList"]
        base = self.event_id()
        return [one(q, base if len(items) == 1 else f"{base}#{i}") for i, q in enumerate(items)]

    # -- ids and references -----------------------------------------------------------------
    def event_id(self) -> str:
        own = self.raw.get(ext("eventID"))
        if isinstance(own, str):
            return own
        given = self.raw.get("eventID")
        decoded = parse_urn(given, "event")
        if decoded is not None:
            return decoded
        if isinstance(given, str) and id_problem(given) is None and len(given) <= 200:
            return given
        return self.fallback_id

    def lot(self, epc_class: object) -> str:
        own = parse_urn(epc_class, "lot")
        if own is not None:
            return own
        found = self.mapping.lots.get(str(epc_class))
        if found is None:
            raise _Refused(
                f"epcClass {epc_class!r} is not a raretrace lot URN and the mapping has no"
                " entry for it; add it under 'lots' in the mapping file"
            )
        return found.lot

    def location(self, uri: object, what: str) -> tuple[str, LocationMapping | None]:
        own = parse_urn(uri, "facility")
        if own is not None:
            return own, None
        found = self.mapping.locations.get(str(uri))
        if found is None:
            raise _Refused(
                f"{what} {uri!r} is not a raretrace facility URN and the mapping has no entry"
                " for it; add it under 'locations' in the mapping file"
            )
        return found.facility, found

    def party(self, uri: object) -> str:
        own = parse_urn(uri, "participant")
        if own is not None:
            return own
        found = self.mapping.parties.get(str(uri))
        if found is None:
            raise _Refused(
                f"party {uri!r} is not a raretrace participant URN and the mapping has no"
                " entry for it; add it under 'parties' in the mapping file"
            )
        return found

    def where(self) -> tuple[str, LocationMapping | None]:
        for key in ("bizLocation", "readPoint"):
            place = self.raw.get(key)
            if isinstance(place, dict) and "id" in place:
                return self.location(place["id"], key)
        raise _Refused("no bizLocation or readPoint: raretrace needs the facility")

    def listed(self, key: str, role: str, kind: str) -> str | None:
        for entry in self.raw.get(key) or []:
            if short_word(entry.get("type")) == kind:
                return str(entry.get(role))
        return None

    def actor(self, party: str | None, place: LocationMapping | None) -> str:
        own = self.raw.get(ext("actor"))
        if isinstance(own, str):
            return own
        if party is not None:
            return self.party(party)
        if place is not None and place.operator is not None:
            return place.operator
        raise _Refused(
            "no party records this event: give an owning_party in the source/destination list,"
            " or an 'operator' for the location in the mapping file"
        )

    def kg(self, item: Mapping[str, Any]) -> float:
        uom, quantity = item.get("uom"), item.get("quantity")
        if quantity is None:
            raise _Refused(f"{item.get('epcClass')!r} has no quantity; raretrace needs a mass")
        if uom not in MASS_UNITS:
            raise _Refused(
                f"{item.get('epcClass')!r}: unit {uom!r} is not a mass; give quantities in"
                f" {', '.join(MASS_UNITS)} (UN/CEFACT Rec 20)"
            )
        return float(quantity) * MASS_UNITS[str(uom)]

    def base(self, event_id: str, kind: str, actor: str) -> dict[str, Any]:
        return {"id": event_id, "type": kind, "time": self.raw["eventTime"], "actor": actor}

    # -- the mappings -----------------------------------------------------------------------
    def outputs(self, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        described = {
            str(x.get("lot")): x for x in (self.raw.get("ilmd") or {}).get(ext("lots"), [])
            if isinstance(x, dict)
        }  # fmt: skip
        out = []
        for item in items:
            lot, mass = self.lot(item.get("epcClass")), self.kg(item)
            own = described.get(lot)
            if own is not None:
                out.append({"lot": lot, "form": own.get("form"), "mass_kg": own.get("massKg", mass),
                            "elements_kg": own.get("elementsKg")})  # fmt: skip
                continue
            entry = self.mapping.lots.get(str(item.get("epcClass")))
            if entry is None or entry.form is None or entry.composition is None:
                raise _Refused(
                    f"new lot {lot!r} has no form and composition; give 'form' and"
                    f" 'composition' for {item.get('epcClass')!r} under 'lots' in the mapping"
                )
            # to the microgram: a fraction times a mass carries float noise (0.07 × 12500)
            elements_kg = {e: round(s * mass, 9) for e, s in entry.composition.items() if s}
            out.append({"lot": lot, "form": entry.form, "mass_kg": mass,
                        "elements_kg": elements_kg})  # fmt: skip
        return out

    def extract(self) -> dict[str, Any]:
        facility, place = self.where()
        event = self.base(self.event_id(), "extract", self.actor(None, place))
        return {**event, "facility": facility, "outputs": self.outputs(self.raw["quantityList"])}

    def ship(self, item: Mapping[str, Any], event_id: str) -> dict[str, Any]:
        source = self.listed("sourceList", "source", "location")
        origin, place = self.location(source, "source") if source else self.where()
        target = self.listed("destinationList", "destination", "location")
        consignee = self.listed("destinationList", "destination", "owning_party") or self.listed(
            "destinationList", "destination", "possessing_party"
        )
        if target is None or consignee is None:
            raise _Refused(
                "a shipment needs a destination location and an owning_party (or"
                " possessing_party) in its destinationList"
            )
        sender = self.listed("sourceList", "source", "owning_party")
        event = self.base(event_id, "ship", self.actor(sender, place))
        destination = self.location(target, "destination")[0]
        return {**event, "lot": self.lot(item.get("epcClass")), "from": origin,
                "to": destination, "consignee": self.party(consignee)}  # fmt: skip

    def receive(self, item: Mapping[str, Any], event_id: str) -> dict[str, Any]:
        target = self.listed("destinationList", "destination", "location")
        facility, place = self.location(target, "destination") if target else self.where()
        receiver = self.listed("destinationList", "destination", "owning_party")
        event = self.base(event_id, "receive", self.actor(receiver, place))
        event.update(lot=self.lot(item.get("epcClass")), facility=facility)
        if self.raw.get(ext("weighed"), True):
            event["mass_kg"] = self.kg(item)
        return event

    def transform(self) -> dict[str, Any]:
        inputs = self.raw.get("inputQuantityList") or []
        outputs = self.raw.get("outputQuantityList") or []
        if not inputs or not outputs:
            raise _Skipped(
                "TransformationEvent without input and output quantities: instance identifiers"
                " carry no mass, and raretrace balances mass"
            )
        facility, place = self.where()
        process = self.raw.get(ext("process")) or (place.process if place else "other")
        event = self.base(self.event_id(), "transform", self.actor(None, place))
        event.update(
            facility=facility, process=process,
            inputs=[{"lot": self.lot(i.get("epcClass")), "mass_kg": self.kg(i)} for i in inputs],
            outputs=self.outputs(outputs),
        )  # fmt: skip
        if self.raw.get(ext("lossesKg")):
            event["losses_kg"] = self.raw[ext("lossesKg")]
        return event

    def adjust(self) -> list[dict[str, Any]]:
        item = self.raw["quantityList"][0]
        event = self.base(self.event_id(), "adjust", self.actor(None, None))
        return [{**event, "lot": self.lot(item.get("epcClass")),
                 "mass_kg": self.raw.get(ext("adjustKg"), -self.kg(item)),
                 "reason": self.raw.get(ext("reason"), "EPCIS adjustment")}]  # fmt: skip

    def claim(self) -> list[dict[str, Any]]:
        item = self.raw["quantityList"][0]
        event = self.base(self.event_id(), "claim", self.actor(None, None))
        scheme, share = self.raw.get(ext("scheme")), self.raw.get(ext("share"))
        return [{**event, "lot": self.lot(item.get("epcClass")), "scheme": scheme, "share": share}]

    def write_off(self, item: Mapping[str, Any], event_id: str) -> dict[str, Any]:
        place = self.where()[1] if ("bizLocation" in self.raw or "readPoint" in self.raw) else None
        event = self.base(event_id, "adjust", self.actor(None, place))
        return {**event, "lot": self.lot(item.get("epcClass")), "mass_kg": -self.kg(item),
                "reason": f"EPCIS {self.step}"}  # fmt: skip
