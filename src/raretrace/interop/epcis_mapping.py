"""The mapping file of ``raretrace epcis import``: what an EPCIS document does not say.

EPCIS names lots, places and parties by URIs (GS1 keys, Digital Link URIs, anything); raretrace
needs its own ids, and for material that enters the ledger its form and composition. The
mapping is JSON (docs/interchange.md)::

    {"lots": {"urn:epc:class:lgtin:4012345.011111.4444":
                 {"lot": "MW-7", "form": "concentrate", "composition": {"Nd": 0.07, "Pr": 0.02}}},
     "locations": {"urn:epc:id:sgln:4012345.00001.0":
                 {"facility": "AU-MTWELD", "operator": "lynas-au", "process": "other"}},
     "parties": {"urn:epc:id:pgln:4012345.00000": "lynas-au"}}

``composition`` is kg of each element per kg of the lot (a mass fraction), so it scales with
any quantity; ``operator`` is who records events at the location when the EPCIS event names no
party; ``process`` is the raretrace process of transformations there (default ``other``).
raretrace's own URNs (``urn:raretrace:lot:...``) need no mapping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from raretrace.domain import elements
from raretrace.domain.errors import ValidationError
from raretrace.domain.ids import check_id
from raretrace.domain.model import FORMS, PROCESSES

_TOP = frozenset({"lots", "locations", "parties"})
_LOT_FIELDS = frozenset({"lot", "form", "composition"})
_LOCATION_FIELDS = frozenset({"facility", "operator", "process"})


@dataclass(frozen=True, slots=True)
class LotMapping:
    """A lot an EPCIS class stands for; ``form``/``composition`` when it is created."""

    lot: str
    form: str | None = None
    composition: dict[str, float] | None = None


@dataclass(frozen=True, slots=True)
class LocationMapping:
    facility: str
    operator: str | None = None
    process: str = "other"


@dataclass(frozen=True, slots=True)
class EpcisMapping:
    """A parsed mapping file (empty: only raretrace's own URNs resolve)."""

    lots: dict[str, LotMapping] = field(default_factory=dict)
    locations: dict[str, LocationMapping] = field(default_factory=dict)
    parties: dict[str, str] = field(default_factory=dict)


EMPTY = EpcisMapping()


def _fail(where: str, message: str) -> ValidationError:
    return ValidationError("epcis-mapping", f"mapping {where}", message)


def _object(value: object, where: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, f"must be a JSON object, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _fail(where, f"unknown field(s) {unknown}; allowed: {', '.join(sorted(allowed))}")
    return value


def _lot(uri: str, value: object) -> LotMapping:
    where = f"lots[{uri!r}]"
    if isinstance(value, str):
        return LotMapping(check_id(value, f"mapping {where}", "lot", rule="epcis-mapping"))
    obj = _object(value, where, _LOT_FIELDS)
    lot = check_id(obj.get("lot"), f"mapping {where}", "lot", rule="epcis-mapping")
    form = obj.get("form")
    if form is not None and form not in FORMS:
        raise _fail(where, f"form {form!r} is not one of {', '.join(FORMS)}")
    raw = obj.get("composition")
    return LotMapping(lot, form, None if raw is None else _composition(raw, where))


def _composition(raw: object, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise _fail(where, "composition must be an object of element: kg per kg of the lot")
    out: dict[str, float] = {}
    for key, share in raw.items():
        if not elements.is_known(key):
            raise _fail(where, f"composition has unknown element {key!r}; use symbols like 'Nd'")
        if type(share) not in (int, float) or not (math.isfinite(share) and 0 <= share <= 1):
            raise _fail(
                where,
                f"composition[{key!r}] must be kg per kg of the lot (0 to 1), got {share!r}",
            )
        out[key] = float(share)
    if math.fsum(out.values()) > 1 + 1e-9:
        raise _fail(where, f"composition adds up to {math.fsum(out.values()):.6g} kg per kg (> 1)")
    return out


def _location(uri: str, value: object) -> LocationMapping:
    where = f"locations[{uri!r}]"
    subject = f"mapping {where}"
    if isinstance(value, str):
        return LocationMapping(check_id(value, subject, "facility", rule="epcis-mapping"))
    obj = _object(value, where, _LOCATION_FIELDS)
    facility = check_id(obj.get("facility"), subject, "facility", rule="epcis-mapping")
    operator = obj.get("operator")
    if operator is not None:
        operator = check_id(operator, subject, "operator", rule="epcis-mapping")
    process = obj.get("process", "other")
    if process not in PROCESSES:
        raise _fail(where, f"process {process!r} is not one of {', '.join(PROCESSES)}")
    return LocationMapping(facility, operator, str(process))


def parse_mapping(doc: object) -> EpcisMapping:
    """A mapping file's JSON, checked; ValidationError (``epcis-mapping``) naming the entry."""
    top = _object(doc, "file", _TOP)
    sections = {k: top.get(k, {}) for k in _TOP}
    for key, value in sections.items():
        if not isinstance(value, dict):
            raise _fail(key, "must be an object keyed by EPCIS URI")
    parties = {
        uri: check_id(pid, f"mapping parties[{uri!r}]", "participant", rule="epcis-mapping")
        for uri, pid in sections["parties"].items()
    }
    return EpcisMapping(
        lots={uri: _lot(uri, v) for uri, v in sections["lots"].items()},
        locations={uri: _location(uri, v) for uri, v in sections["locations"].items()},
        parties=parties,
    )
