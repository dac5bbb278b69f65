"""The packaged demo world: real rare-earth facilities, operators and routes, with sources.

The world ships inside the package (``raretrace/data/world.json``) so the demo never reads
files outside it; ``SOURCES.md`` beside it says where each value comes from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

#: Fields of a facility that make up the registry format; the rest are kept as extras.
_FACILITY_FIELDS = (
    "id", "name", "operator", "country", "region", "stage", "lat", "lon",
    "capacity_t_per_year", "technology_origin", "cahra",
)  # fmt: skip
_EXTRA_FIELDS = (
    "status", "capacity_unit", "reference_id", "sources", "verified", "assumptions", "subdivision",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Facility:
    """A site where material is mined, processed, stored or recycled."""

    id: str
    operator: str
    country: str
    stages: tuple[str, ...]
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Feed:
    """What a mine (or the recycler) extracts: composition, grades, Th/U and cadence."""

    facility: str
    form: str
    composition: Mapping[str, float] | None
    ore_treo_pct: float | None
    concentrate_treo_pct: float | None
    th_kg_per_t_treo: float
    u_kg_per_t_treo: float
    lot_t: tuple[float, float]
    every_days: float


@dataclass(frozen=True, slots=True)
class World:
    """The demo world: the raw JSON plus typed views the generator needs."""

    raw: Mapping[str, Any]
    facilities: Mapping[str, Facility]
    feeds: Mapping[str, Feed]
    recoveries: Mapping[str, tuple[float, float]]
    magnet_wt_pct: Mapping[str, tuple[float, float]]


def _facility(obj: Mapping[str, Any]) -> Facility:
    stage = obj["stage"]
    stages = (stage,) if isinstance(stage, str) else tuple(stage)
    return Facility(
        id=obj["id"], operator=obj["operator"], country=obj["country"], stages=stages,
        lat=float(obj["lat"]), lon=float(obj["lon"]),
    )  # fmt: skip


def _normalised_pct(pct: Mapping[str, float]) -> dict[str, float]:
    """Shares of TREO that add up to 1 (reference rows sum to 98.8–101.9%)."""
    total = sum(pct.values())
    return {element: value / total for element, value in pct.items() if value > 0}


def _feed(obj: Mapping[str, Any], compositions: Mapping[str, Mapping[str, float]]) -> Feed:
    comp_id = obj["composition"]
    low, high = obj["lot_t"]
    return Feed(
        facility=obj["facility"], form=obj["form"],
        composition=None if comp_id is None else _normalised_pct(compositions[comp_id]),
        ore_treo_pct=obj["ore_treo_pct"], concentrate_treo_pct=obj["concentrate_treo_pct"],
        th_kg_per_t_treo=float(obj["th_kg_per_t_treo"]),
        u_kg_per_t_treo=float(obj["u_kg_per_t_treo"]),
        lot_t=(float(low), float(high)), every_days=float(obj["every_days"]),
    )  # fmt: skip


def world_from_json(raw: Mapping[str, Any]) -> World:
    """Typed views over a world document (the shape of ``raretrace/data/world.json``)."""
    compositions = {c["id"]: c["pct"] for c in raw["compositions"]}
    ranges = raw["magnet"]["sourced_wt_pct"]
    recoveries = raw["recoveries"]
    return World(
        raw=raw,
        facilities={f["id"]: _facility(f) for f in raw["facilities"]},
        feeds={f["facility"]: _feed(f, compositions) for f in raw["feeds"]},
        recoveries={r["id"]: (float(r["range"][0]), float(r["range"][1])) for r in recoveries},
        magnet_wt_pct={k: (float(v[0]), float(v[1])) for k, v in ranges.items()},
    )


def load_world() -> World:
    """The world packaged with raretrace (``raretrace/data/world.json``)."""
    text = resources.files("raretrace").joinpath("data/world.json").read_text(encoding="utf-8")
    raw: dict[str, Any] = json.loads(text)
    return world_from_json(raw)


def _registry_facility(obj: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: obj[key] for key in _FACILITY_FIELDS}
    out.update({key: obj[key] for key in _EXTRA_FIELDS if key in obj})
    return out


#: Fields of the world's records that say where a fact comes from, not part of the registry.
_NOTES = ("sources", "verified", "assumptions")
#: The compliance records (docs/formats.md, "Licences, accreditations, audits"), in the
#: order a registry file lists them.
COMPLIANCE_RECORDS = ("accreditations", "licences", "audits")


def _participant(obj: Mapping[str, Any]) -> dict[str, Any]:
    out = {"id": obj["id"], "name": obj["name"], "country": obj["country"]}
    if "roles" in obj:
        out["roles"] = list(obj["roles"])
    if "subdivision" in obj:  # a state authority's jurisdiction (docs/clearinghouse.md)
        out["subdivision"] = obj["subdivision"]
    return out


def registry(world: World) -> dict[str, Any]:
    """The registry document in the ledger's import format: participants (with their roles),
    facilities, and the authorities' licences, the auditors' accreditations and audits."""
    doc: dict[str, Any] = {
        "participants": [_participant(p) for p in world.raw["participants"]],
        "facilities": [_registry_facility(f) for f in world.raw["facilities"]],
    }
    for kind in COMPLIANCE_RECORDS:
        doc[kind] = [
            {k: v for k, v in record.items() if k not in _NOTES} for record in world.raw[kind]
        ]
    return doc
