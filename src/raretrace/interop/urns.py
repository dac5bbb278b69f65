"""How raretrace names its objects in other formats: URNs for lots, facilities, participants
and events, and the extension namespace its EPCIS documents use (docs/interchange.md).

The URNs carry the raretrace id percent-encoded (RFC 3986 §2.1), so any id (spaces, any
script) becomes a URI with no whitespace, and ``parse_urn`` gives the id back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

#: The extension namespace of raretrace's EPCIS documents (JSON-LD prefix ``rt``). A URN, not
#: a web address: nothing needs to be fetched to read a document.
NAMESPACE = "urn:raretrace:epcis:"
PREFIX = "rt"
KINDS = ("lot", "facility", "participant", "event")
#: UN/CEFACT Recommendation 20 unit code for kilogram.
KILOGRAM = "KGM"


def urn(kind: str, raretrace_id: str) -> str:
    """``urn:raretrace:<kind>:<id, percent-encoded>``; the lot form is the one the UNTP
    passport uses as its product id (``credentials.untp.lot_urn``)."""
    return f"urn:raretrace:{kind}:" + quote(raretrace_id, safe="")


def lot_urn(lot_id: str) -> str:
    return urn("lot", lot_id)


def facility_urn(facility_id: str) -> str:
    return urn("facility", facility_id)


def participant_urn(participant_id: str) -> str:
    return urn("participant", participant_id)


def event_urn(event_id: str) -> str:
    return urn("event", event_id)


def parse_urn(value: object, kind: str) -> str | None:
    """The raretrace id inside a URN of ``kind``, or None if ``value`` is not one."""
    prefix = f"urn:raretrace:{kind}:"
    if not isinstance(value, str) or not value.startswith(prefix) or len(value) == len(prefix):
        return None
    return unquote(value[len(prefix) :])


def ext(name: str) -> str:
    """An extension field's name in raretrace's EPCIS documents: ``rt:<name>``."""
    return f"{PREFIX}:{name}"


@dataclass(frozen=True, slots=True)
class CustodyEvent:
    """A stored custody event: its log position, its JSON body, and the kg the ledger linked
    to each (lot, role) it touched (``shipped``, ``received``, ``consumed``, ...)."""

    seq: int
    body: dict[str, Any]
    kg: dict[tuple[str, str], float]
