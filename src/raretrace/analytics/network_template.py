"""The default scenario network: the registry's facilities with the packaged reference data
(``raretrace/data/scenario-reference.json``: capacities, recoveries, compositions, demand,
costs, each with its sources, ``verified`` flag and assumptions).

``template_document`` returns a scenario file (a dict ready for JSON) that ``raretrace
analytics scenario --template`` writes. A site the reference does not know gets the stage
recoveries and costs and no capacity limit, and is named in the file's ``notes``; a site with
only the ``warehouse`` stage becomes a port.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from raretrace.domain.errors import ConfigError

REFERENCE_FILE = "scenario-reference.json"


@dataclass(frozen=True, slots=True)
class Site:
    """What the template needs of a registered facility."""

    id: str
    name: str
    country: str
    stages: tuple[str, ...]
    lat: float | None = None
    lon: float | None = None


@cache
def reference() -> Mapping[str, Any]:
    """The packaged reference data for scenario networks."""
    path = files("raretrace").joinpath(f"data/{REFERENCE_FILE}")
    try:
        doc: Mapping[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"packaged {REFERENCE_FILE} cannot be read ({exc}); reinstall raretrace"
        ) from None
    return doc


def demo_sites() -> list[Site]:
    """The demo world's facilities (the registry ``raretrace demo`` loads)."""
    raw = json.loads(files("raretrace").joinpath("data/world.json").read_text("utf-8"))
    found = []
    for f in raw["facilities"]:
        stages = (f["stage"],) if isinstance(f["stage"], str) else tuple(f["stage"])
        found.append(Site(f["id"], f["name"], f["country"], stages, f.get("lat"), f.get("lon")))
    return found


def _km(a: Site | Mapping[str, Any], b: Site | Mapping[str, Any]) -> float | None:
    """Great-circle distance (haversine, mean Earth radius 6,371 km)."""
    points = []
    for node in (a, b):
        lat = node.lat if isinstance(node, Site) else node.get("lat")
        lon = node.lon if isinstance(node, Site) else node.get("lon")
        if lat is None or lon is None:
            return None
        points.append((math.radians(lat), math.radians(lon)))
    (p1, l1), (p2, l2) = points
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _provenance(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("sources", "verified", "assumptions") if k in record}


def template_document(sites: Iterable[Site], *, year: int | None = None,
                      origin: str = "the demo world") -> dict[str, Any]:  # fmt: skip
    """A complete scenario file for ``sites`` (no shocks; add them)."""
    ref = reference()
    elements = list(ref["elements"])
    sites = list(sites)
    given = {s.id for s in sites}
    extra = [Site(x["id"], x["name"], x["country"], tuple(x["stages"]), x["lat"], x["lon"])
             for x in ref.get("extra_sites", []) if x["id"] not in given]  # fmt: skip
    sites += extra
    plants = {s.id: s for s in sites if set(s.stages) != {"warehouse"}}
    ports = {s.id: s for s in sites if set(s.stages) == {"warehouse"}}
    notes = [f"built from {origin} and the packaged {REFERENCE_FILE} (reviewed "
             f"{ref['reviewed']}); every figure carries its sources and assumptions"]  # fmt: skip
    for x in extra:
        notes.append(f"{x.id} is not in the registry: a representative site from the reference")
    facilities = [_facility(s, ref, notes) for s in plants.values()]
    regions = [{k: r[k] for k in ("id", "name", "countries")} for r in ref["regions"]]
    lanes = _lanes(plants, ports, ref, notes)
    linked = {lane["from"] for lane in lanes} | {lane["to"] for lane in lanes}
    for s in plants.values():
        if s.id not in linked:
            notes.append(f"{s.id} has no lanes in the reference: add lanes to use it")
    solved = year or int(ref["year"])
    return {
        "format": "raretrace-scenario/1",
        "title": f"Default network, {solved}",
        "year": solved,
        "elements": elements,
        "shortage_cost_usd_per_t": ref["shortage_cost_usd_per_t"],
        "facilities": facilities,
        "ports": [_port(s, ref) for s in ports.values()],
        "regions": regions,
        "lanes": lanes,
        "demand": _demand(ref, solved),
        "shocks": [],
        "notes": notes,
    }


def _facility(site: Site, ref: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    known = ref["facilities"].get(site.id)
    rates = ref["stage_recovery"]
    costs = ref["stage_cost_usd_per_t"]["value"]
    out: dict[str, Any] = {"id": site.id, "name": site.name, "country": site.country,
                           "stages": list(site.stages)}  # fmt: skip
    composition = known.get("composition") if known else None
    if composition is not None:
        out["composition"] = composition["value"]
    else:
        out["recovery"] = round(math.prod(rates[s]["value"] for s in site.stages), 6)
    out["capacity_t"] = known.get("capacity_t") if known else None
    if known and "capacity_elements" in known:
        out["capacity_elements"] = known["capacity_elements"]
    out["cost_usd_per_t"] = float(sum(costs[s] for s in site.stages))
    out["lat"], out["lon"] = site.lat, site.lon
    if known is None:
        notes.append(f"{site.id} is not in the reference: stage recoveries and costs, no "
                     "capacity limit")  # fmt: skip
        out["assumptions"] = ["not in the packaged reference: stage recoveries and costs, no "
                              "capacity limit"]  # fmt: skip
        return out
    out.update(_provenance(known))
    if composition is not None:
        out["assumptions"] = [*out.get("assumptions", []), *composition["assumptions"]]
    return out


def _port(site: Site, ref: Mapping[str, Any]) -> dict[str, Any]:
    known = ref["ports"].get(site.id, {"capacity_t": None, "cost_usd_per_t": 0.0})
    return {"id": site.id, "name": site.name, "country": site.country,
            "capacity_t": known["capacity_t"], "cost_usd_per_t": known["cost_usd_per_t"],
            "lat": site.lat, "lon": site.lon, **_provenance(known)}  # fmt: skip


def _lanes(
    plants: Mapping[str, Site], ports: Mapping[str, Site], ref: Mapping[str, Any],
    notes: list[str],
) -> list[dict[str, Any]]:  # fmt: skip
    transport = ref["transport"]
    regions = {r["id"]: r for r in ref["regions"]}
    found = []
    for lane in ref["lanes"]:
        ends_known = lane["from"] in plants and (lane["to"] in plants or lane["to"] in regions)
        via = lane.get("via", [])
        if not ends_known or any(p not in ports for p in via):
            continue
        end: Site | Mapping[str, Any] = plants.get(lane["to"]) or regions[lane["to"]]
        stops: list[Site | Mapping[str, Any]] = [plants[lane["from"]], *(ports[p] for p in via)]
        legs = [_km(a, b) for a, b in itertools.pairwise([*stops, end])]
        km = sum(transport["default_km"] if leg is None else leg for leg in legs)
        base, per_port = transport["base_usd_per_t"], transport["days_per_port"]
        out = {
            "from": lane["from"], "to": lane["to"], "via": via,
            "capacity_t": lane.get("capacity_t"),
            "cost_usd_per_t": round(base + transport["usd_per_t_km"] * km, 2),
            "transit_days": round(km / transport["km_per_day"] + per_port * len(via), 1),
        }  # fmt: skip
        if "elements" in lane:
            out["elements"] = lane["elements"]
        out.update(_provenance(lane))
        out["assumptions"] = [*lane.get("assumptions", []), *transport["assumptions"]]
        found.append(out)
    return found


def _demand(ref: Mapping[str, Any], year: int) -> list[dict[str, Any]]:
    spec, content = ref["magnet_demand"], ref["magnet_content"]
    rare_earths = sum(content["value"].values())
    total_kt = spec["value_kt_2023"] * (1 + spec["growth_per_year"]) ** (year - 2023)
    found = []
    for region in ref["regions"]:
        magnets = total_kt * 1000 * region["share"] / rare_earths
        found.append({
            "region": region["id"], "year": year, "magnets_t": round(magnets, -1),
            "content": content["value"], "sources": spec["sources"] + content["sources"],
            "verified": False, "assumptions": spec["assumptions"] + content["assumptions"],
        })  # fmt: skip
    return found
