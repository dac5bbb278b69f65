"""Facilities as a GeoJSON FeatureCollection (RFC 7946), readable by any GIS.

One Feature per facility, in id order: a Point at ``[lon, lat]`` (RFC 7946 §3.1.1: longitude
first, WGS 84), or ``null`` geometry when the registry has no coordinates (§3.2 allows it; the
facility is still listed). Properties: id, name, stage (the primary one) and stages, country,
operator (id and name), capacity in tonnes per year, whether it is in a conflict-affected or
high-risk area, and its licence status as of the export.
"""

from __future__ import annotations

from typing import Any

from raretrace.domain.licensing import Licence, licence_standing
from raretrace.domain.model import Facility, display_time
from raretrace.domain.registry import Registry

#: Licences that license a site (export licences license a shipment, not a site).
SITE_LICENCES = ("operating", "residue-storage")


def licence_status(facility: Facility, registry: Registry, now: str) -> dict[str, Any]:
    """``licensed`` (an operating licence that counts is valid now), ``expired`` (one was
    valid and is no longer, or is not yet), ``not-counted`` (its authority has no authority
    role) or ``none``; with the licences behind it."""
    mine = sorted(
        (x for x in registry.licences.values()
         if x.facility == facility.id and x.kind in SITE_LICENCES),
        key=lambda x: x.id,
    )  # fmt: skip
    counted = [x for x in mine if licence_standing(x, registry) is None]
    valid = [x for x in counted if x.valid_at(now)]
    operating = [x for x in valid if x.kind == "operating"]
    if operating:
        status = "licensed"
    elif counted:
        status = "expired"
    elif mine:
        status = "not-counted"
    else:
        status = "none"
    return {"status": status, "licences": [_licence(x, now) for x in mine]}


def _licence(licence: Licence, now: str) -> dict[str, Any]:
    until = licence.valid_until
    return {
        "id": licence.id,
        "kind": licence.kind,
        "valid_from": display_time(licence.valid_from),
        "valid_until": display_time(until) if until else None,
        "valid_now": licence.valid_at(now),
    }


def feature(facility: Facility, registry: Registry, now: str) -> dict[str, Any]:
    has_point = facility.lat is not None and facility.lon is not None
    operator = registry.participants.get(facility.operator)
    licences = licence_status(facility, registry, now)
    return {
        "type": "Feature",
        "id": facility.id,
        "geometry": (
            {"type": "Point", "coordinates": [facility.lon, facility.lat]} if has_point else None
        ),
        "properties": {
            "id": facility.id,
            "name": facility.name,
            "stage": facility.stage,
            "stages": list(facility.stages),
            "country": facility.country,
            "region": facility.region or None,
            "operator": facility.operator,
            "operator_name": operator.name if operator else None,
            "capacity_t_per_year": facility.capacity_t_per_year,
            "technology_origin": facility.technology_origin,
            "cahra": facility.cahra,
            "licence_status": licences["status"],
            "licences": licences["licences"],
        },
    }


def feature_collection(registry: Registry, *, now: str) -> dict[str, Any]:
    """Every facility of ``registry`` as a FeatureCollection; ``now`` (normalized UTC time)
    is when licence status is judged."""
    facilities = sorted(registry.facilities.values(), key=lambda f: f.id)
    return {
        "type": "FeatureCollection",
        "features": [feature(f, registry, now) for f in facilities],
    }
