"""The world beside the ledger: USGS mine production and reserves by country, packaged in
``raretrace/data/analytics-world.json`` with its source (USGS Mineral Commodity Summaries
2025, Rare Earths), and ASEAN's member states.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from raretrace.analytics.indices import Concentration, concentration
from raretrace.domain.errors import ConfigError

__all__ = ["WorldSupply", "asean_members", "world_supply"]

DATA_FILE = "analytics-world.json"
OTHER = "XX-OTHER"
WORLD = "XX-WORLD"


@dataclass(frozen=True, slots=True)
class WorldSupply:
    """World mine production in one year (t REO) by country and its concentration."""

    year: str
    production_t_reo: dict[str, float]
    world_total_t_reo: float
    reserves_t_reo: dict[str, float]
    concentration: Concentration
    source: str
    url: str

    def to_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "production_t_reo": self.production_t_reo,
            "world_total_t_reo": self.world_total_t_reo,
            "hhi": round(self.concentration.hhi, 1),
            "top_country": self.concentration.top_country,
            "top_share": round(self.concentration.top_share, 6),
            "source": self.source,
            "url": self.url,
        }


@cache
def _doc() -> Mapping[str, Any]:
    try:
        text = files("raretrace").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
        doc = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"packaged file {DATA_FILE} cannot be read ({exc}); reinstall raretrace"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("countries"), dict):
        raise ConfigError(f"packaged file {DATA_FILE} has no 'countries'; reinstall raretrace")
    return doc


def asean_members() -> frozenset[str]:
    """ASEAN's member states (ISO 3166-1 alpha-2)."""
    return frozenset(_doc()["asean_members"])


def world_supply(year: str | None = None) -> WorldSupply:
    """USGS production by country for ``year`` (default: the file's reference year).

    Shares are of the sum of the listed lines (the named countries and 'Other'), so they add
    up to 1; 'Other' is many small producers and counts as no single country in the HHI.
    """
    doc = _doc()
    year = year or str(doc["reference_year"])
    production: dict[str, float] = {}
    reserves: dict[str, float] = {}
    for iso, entry in doc["countries"].items():
        if iso == WORLD:
            continue
        made = entry["production_t_reo"].get(year)
        if made:
            production[iso] = float(made)
        if entry.get("reserves_t_reo"):
            reserves[iso] = float(entry["reserves_t_reo"])
    named = {k: v for k, v in production.items() if k != OTHER}
    listed_total = sum(production.values())
    conc = concentration(named)
    scaled = {k: v / listed_total for k, v in conc.kg.items()}
    top = conc.top_country
    return WorldSupply(
        year=year,
        production_t_reo=production,
        world_total_t_reo=float(doc["countries"][WORLD]["production_t_reo"][year]),
        reserves_t_reo=reserves,
        concentration=Concentration(
            kg=conc.kg,
            shares=scaled,
            hhi=sum((100.0 * s) ** 2 for s in scaled.values()),
            top_country=top,
            top_share=scaled[top] if top else 0.0,
        ),
        source=str(doc["source"]["title"]),
        url=str(doc["source"]["url"]),
    )
