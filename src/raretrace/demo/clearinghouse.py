"""The demo's clearinghouse year (docs/clearinghouse.md): licensing by federal and state
authorities, three agreements in different review states, and a dispute over a short receipt
that ends in a ruling and a corrective shipment.

Everything here is illustrative — the agreements, the foreign group and the dispute are made
up for the demo, not taken from a source — and pure: the builders take what the demo ledger
holds (a short receipt, the shipper's stock) as plain values and return unsigned events in the
order they are recorded; ``raretrace.clearinghouse.demoworld`` reads the ledger, signs them
(each participant with its demo key, the council's with the registry key) and appends them.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from raretrace.domain.model import REGISTRY_ACTOR, display_time

#: The council member who reviews and rules in the demo (a party to none of it).
MEMBER = "council.asean"


def _digest(text: str) -> str:
    return hashlib.sha256(f"raretrace demo document/{text}".encode()).hexdigest()


def _doc(name: str) -> dict[str, str]:
    return {"name": name, "sha256": _digest(name)}


def licensing_steps() -> list[dict[str, Any]]:
    """A state authority licenses the Perak pilot mine (and suspends it late in the year);
    the federal environment department suspends the Kuantan magnet plant's licence from
    mid-June to mid-August; the federal atomic energy board renews LAMP's licence."""
    kenering = {
        "id": "LIC-KENERING-MINE", "holder": "perak-ree-pilot", "facility": "MY-PERAK-KENERING",
        "kind": "operating", "authority": "ptg-perak", "valid_from": "2025-01-01T00:00:00Z",
        "valid_until": "2028-01-01T00:00:00Z",
    }  # fmt: skip
    return [
        _licensing("2025-01-10T00:00:00Z", "ptg-perak", "issue", kenering),
        _licensing("2025-06-16T00:00:00Z", "doe-my", "suspend", "LIC-JSLINK-OP",
                   reason="effluent above the discharge limit at the magnet plant"),
        _licensing("2025-08-18T00:00:00Z", "doe-my", "reinstate", "LIC-JSLINK-OP",
                   reason="treatment plant upgraded and effluent within limits"),
        _licensing("2025-11-03T00:00:00Z", "ptg-perak", "suspend", "LIC-KENERING-MINE",
                   reason="tailings pond inspection pending"),
        _licensing("2025-11-20T00:00:00Z", "aelb-my", "renew", "LIC-LAMP-OP",
                   valid_until="2029-03-02T00:00:00Z"),
    ]  # fmt: skip


def _licensing(time: str, actor: str, action: str, licence: Any, **fields: str) -> dict[str, Any]:
    subject = licence if isinstance(licence, str) else licence["id"]
    event_id = f"demo:licensing:{subject}:{action}:{time[:10]}"
    return {"id": event_id, "type": "licensing", "time": time, "actor": actor,
            "action": action, "licence": licence, **fields}  # fmt: skip


_SUPPLY = {
    "id": "AGR-PERAK-SUPPLY-2025",
    "title": "Supply of mixed rare earth carbonate from the Kenering pilot to an overseas group",
    "kind": "supply",
    "parties": [
        {"name": "Perak State Government", "country": "MY", "participant": "perak-sg",
         "role": "state government, seller"},
        {"name": "Overseas REE Group (illustrative)", "country": "CN", "participant": "oreg-cn",
         "role": "buyer"},
    ],
    "jurisdictions": ["MY", "MY-08"],
    "elements": ["La", "Ce", "Pr", "Nd"],
    "volumes": [{"material": "mixed rare earth carbonate", "tonnes": 2000, "per": "year"}],
    "dates": {"signed": "2025-02-12", "start": "2025-07-01", "end": "2030-06-30"},
    "documents": [_doc("perak-supply-agreement.pdf"), _doc("perak-supply-annex-volumes.pdf")],
}  # fmt: skip
_OFFTAKE = {
    "id": "AGR-LAMP-OFFTAKE-2025",
    "title": "Offtake of NdPr oxide from LAMP by the Kuantan magnet plant",
    "kind": "offtake",
    "parties": [
        {"name": "Lynas Malaysia Sdn Bhd", "country": "MY", "participant": "lynas-my",
         "role": "seller"},
        {"name": "JS Link (Kuantan)", "country": "MY", "participant": "js-link", "role": "buyer"},
    ],
    "jurisdictions": ["MY"],
    "elements": ["Pr", "Nd"],
    "volumes": [{"material": "NdPr oxide", "tonnes": 1200, "per": "year"}],
    "dates": {"signed": "2025-03-28", "start": "2025-05-01", "end": "2028-04-30"},
    "documents": [_doc("lamp-offtake.pdf")],
}  # fmt: skip
_MOU = {
    "id": "MOU-VN-SEPARATION-2025",
    "title": "Memorandum on transferring solvent-extraction separation know-how",
    "kind": "technology-transfer",
    "parties": [
        {"name": "Vietnam Rare Earth JSC", "country": "VN", "participant": "vtre",
         "role": "recipient"},
        {"name": "Shin-Etsu Magnetic Materials Vietnam", "country": "VN",
         "participant": "shin-etsu-vn", "role": "provider"},
    ],
    "jurisdictions": ["VN"],
    "elements": ["Dy", "Tb"],
    "dates": {"signed": "2025-09-05"},
    "documents": [_doc("vn-separation-mou.pdf")],
}  # fmt: skip


def agreement_steps() -> list[dict[str, Any]]:
    """The state–foreign group supply deal (approved with conditions), the LAMP offtake
    (approved), and a technology-transfer MoU still under review."""
    return [
        _submit("2025-02-20T00:00:00Z", "perak-sg", _SUPPLY),
        _review("2025-03-03T00:00:00Z", _SUPPLY, "under-review"),
        _review("2025-05-15T00:00:00Z", _SUPPLY, "approved-with-conditions",
                reasons="strategic review: a state's direct deal abroad is in the national"
                " interest only with domestic processing first; environmental review pending",
                conditions=["the environmental impact assessment is approved before the first"
                            " shipment", "each year's output is first offered to Malaysian"
                            " processors for 60 days"],
                public=["title", "elements", "volumes", "dates"]),
        _submit("2025-04-02T00:00:00Z", "lynas-my", _OFFTAKE),
        _review("2025-04-10T00:00:00Z", _OFFTAKE, "under-review"),
        _review("2025-06-01T00:00:00Z", _OFFTAKE, "approved",
                reasons="keeps separated NdPr in the region's magnet chain",
                public=["title", "volumes"]),
        _submit("2025-09-15T00:00:00Z", "vtre", _MOU),
        _review("2025-10-01T00:00:00Z", _MOU, "under-review"),
    ]  # fmt: skip


def _submit(time: str, actor: str, terms: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"demo:agreement:{terms['id']}", "type": "agreement", "time": time,
            "actor": actor, "agreement": terms}  # fmt: skip


def _review(time: str, terms: dict[str, Any], status: str, **fields: Any) -> dict[str, Any]:
    return {"id": f"review:{terms['id']}:{status}", "type": "agreement-review", "time": time,
            "actor": REGISTRY_ACTOR, "agreement": terms["id"], "status": status, "by": MEMBER,
            **fields}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ShortReceipt:
    """A receipt that weighed less than shipped, and who shipped and received it."""

    receive_event: str
    lot: str
    origin: str
    destination: str
    shipper: str
    consignee: str
    shipped_kg: float
    received_kg: float
    time: str


@dataclass(frozen=True, slots=True)
class Stock:
    """An active lot the shipper still holds at the origin (the make-up's source)."""

    lot: str
    form: str
    mass_kg: float
    elements_kg: dict[str, float]
    time: str


def _later(time: str, **delta: float) -> str:
    moment = datetime.fromisoformat(time.replace("Z", "+00:00")) + timedelta(**delta)
    return display_time(moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def dispute_steps(short: ShortReceipt, stock: Stock | None) -> list[dict[str, Any]]:
    """The consignee disputes a short receipt; both parties file statements; the council
    upholds it and requires the shipper to ship the shortfall (when it holds stock there:
    a split of that stock, then the make-up's shipment carrying ``corrects``, then its
    receipt), else it settles it without a corrective event."""
    dispute = "D-SHORT-1"
    shortfall = short.shipped_kg - short.received_kg
    opened = _later(short.time, days=3)
    steps: list[dict[str, Any]] = [
        {"id": f"demo:dispute:{dispute}", "type": "dispute", "time": opened,
         "actor": short.consignee,
         "dispute": {"id": dispute, "about": {"event": short.receive_event, "lot": short.lot},
                     "respondents": [short.shipper],
                     "summary": f"lot {short.lot} arrived {shortfall:,.1f} kg short of the"
                     f" {short.shipped_kg:,.1f} kg shipped",
                     "evidence": [_doc(f"weighbridge-{short.lot}.pdf")]}},
        {"id": f"demo:statement:{dispute}:1", "type": "statement",
         "time": _later(opened, days=4), "actor": short.shipper, "dispute": dispute,
         "text": "the lot was loaded at full weight; the loading tally is attached",
         "evidence": [_doc(f"loading-tally-{short.lot}.pdf")]},
        {"id": f"demo:statement:{dispute}:2", "type": "statement",
         "time": _later(opened, days=6), "actor": short.consignee, "dispute": dispute,
         "text": "the independent draft survey on arrival confirms the shortfall",
         "evidence": [_doc(f"draft-survey-{short.lot}.pdf")]},
    ]  # fmt: skip
    ruled = _later(opened, days=20)
    if stock is None:
        steps.append(_ruling(dispute, ruled, "settled", "the parties settled commercially;"
                             " the receipt stands as recorded", None))  # fmt: skip
        return steps
    action = f"ship {shortfall:,.1f} kg of make-up material to {short.destination}"
    required = {"party": short.shipper, "action": action}
    why = "the draft survey on arrival is independent and the loading tally is not"
    steps.append(_ruling(dispute, ruled, "upheld", why, required))
    return steps + _make_up(dispute, short, stock, shortfall, max(ruled, stock.time))


def _ruling(
    dispute: str, time: str, outcome: str, reasons: str, corrective: dict[str, str] | None
) -> dict[str, Any]:
    event: dict[str, Any] = {"id": f"ruling:{dispute}", "type": "ruling", "time": time,
                             "actor": REGISTRY_ACTOR, "dispute": dispute, "outcome": outcome,
                             "by": MEMBER, "reasons": reasons}  # fmt: skip
    if corrective is not None:
        event["corrective"] = corrective
    return event


def _make_up(
    dispute: str, short: ShortReceipt, stock: Stock, shortfall: float, after: str
) -> list[dict[str, Any]]:
    """Split the make-up off the shipper's stock, ship it (the corrective event) and receive it."""
    share = min(shortfall / stock.mass_kg, 1.0)
    make_up = f"{stock.lot}-MAKEUP"
    taken = {e: kg * share for e, kg in stock.elements_kg.items()}
    rest = {e: kg - taken[e] for e, kg in stock.elements_kg.items()}
    outputs = [{"lot": make_up, "form": stock.form, "mass_kg": stock.mass_kg * share,
                "elements_kg": taken}]  # fmt: skip
    if share < 1.0 and not math.isclose(share, 1.0):
        left = stock.mass_kg - stock.mass_kg * share
        outputs.append({"lot": f"{stock.lot}-REST", "form": stock.form, "mass_kg": left,
                        "elements_kg": rest})  # fmt: skip
    split_at, ship_at = _later(after, hours=1), _later(after, hours=2)
    return [
        {"id": f"demo:split:{make_up}", "type": "transform", "process": "split",
         "time": split_at, "actor": short.shipper, "facility": short.origin,
         "inputs": [{"lot": stock.lot, "mass_kg": stock.mass_kg}], "outputs": outputs},
        {"id": f"demo:ship:{make_up}", "type": "ship", "time": ship_at, "actor": short.shipper,
         "lot": make_up, "from": short.origin, "to": short.destination,
         "consignee": short.consignee, "corrects": dispute},
        {"id": f"demo:receive:{make_up}", "type": "receive", "time": _later(ship_at, days=9),
         "actor": short.consignee, "lot": make_up, "facility": short.destination},
    ]  # fmt: skip


def open_dispute_steps(receipt: ShortReceipt) -> list[dict[str, Any]]:
    """A second dispute, still open at the year's end: a quality complaint on a receipt."""
    dispute = "D-QUALITY-1"
    return [
        {"id": f"demo:dispute:{dispute}", "type": "dispute",
         "time": _later(receipt.time, days=2), "actor": receipt.consignee,
         "dispute": {"id": dispute, "about": {"event": receipt.receive_event,
                                              "lot": receipt.lot},
                     "respondents": [receipt.shipper],
                     "summary": "thorium content above the contract's limit",
                     "evidence": [_doc(f"assay-{receipt.lot}.pdf")]}},
    ]  # fmt: skip
