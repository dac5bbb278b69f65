"""The supply network a scenario or corridor plan is solved on: facilities, ports, lanes,
regions, demand, shocks and the corridor's options, as plain frozen values.

Masses are tonnes of element content per year (t/y) throughout; money is US dollars.
``network_file`` reads these from a scenario file; ``network_template`` builds the default
network from a registry and the packaged reference data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

#: Shock types, as spelt in a scenario file.
EXPORT_BAN, OUTAGE, PORT_CLOSURE = "export-ban", "facility-outage", "port-closure"
DEMAND_GROWTH, CAPACITY_ADDITION = "demand-growth", "capacity-addition"
SHOCK_TYPES = (EXPORT_BAN, OUTAGE, PORT_CLOSURE, DEMAND_GROWTH, CAPACITY_ADDITION)

#: The corridor's switchable constraints, as spelt on the command line and in the file.
US_DEFENCE, EU_SINGLE_COUNTRY, RECYCLED_FLOOR = "us-defence", "eu-single-country", "recycled-floor"
CONSTRAINTS = (US_DEFENCE, EU_SINGLE_COUNTRY, RECYCLED_FLOOR)


@dataclass(frozen=True, slots=True)
class Facility:
    """A plant. With a ``composition`` it is a source (a mine, a scrap collector): it makes
    ``composition[e]`` t of element e per tonne of rare-earth content it produces, up to
    ``capacity_t`` of that content a year. Without one it is a processor: it ships at most
    ``recovery[e]`` of each element it receives, and ``capacity_t`` bounds its output of
    ``capacity_elements`` (all modelled elements when empty). ``None`` capacity: no limit."""

    id: str
    name: str
    country: str
    stages: tuple[str, ...]
    capacity_t: float | None
    recovery: Mapping[str, float]
    cost_usd_per_t: float = 0.0
    composition: Mapping[str, float] | None = None
    capacity_elements: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None

    @property
    def is_source(self) -> bool:
        """Whether the facility makes material rather than receiving it."""
        return self.composition is not None


@dataclass(frozen=True, slots=True)
class Port:
    """A hub lanes pass through; ``capacity_t`` bounds all tonnes through it a year."""

    id: str
    name: str
    country: str
    capacity_t: float | None
    cost_usd_per_t: float = 0.0
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Region:
    """Where magnets are used: a market, made of countries."""

    id: str
    name: str
    countries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lane:
    """A way material moves from a facility to a facility or a region, through ports."""

    id: str
    origin: str
    destination: str
    via: tuple[str, ...]
    capacity_t: float | None
    cost_usd_per_t: float
    transit_days: float
    elements: tuple[str, ...] = ()  # empty: every modelled element


@dataclass(frozen=True, slots=True)
class Demand:
    """Magnets a region needs in a year and their element content (fraction of the mass)."""

    region: str
    year: int
    magnets_t: float
    content: Mapping[str, float]
    must_meet: bool = False


@dataclass(frozen=True, slots=True)
class Shock:
    """One shock; which fields mean something depends on ``type`` (see docs/analytics.md)."""

    type: str
    start: dt.date | None = None
    end: dt.date | None = None  # exclusive; None: to the end of the year
    country: str = ""
    stages: tuple[str, ...] = ()
    elements: tuple[str, ...] = ()
    facility: str = ""
    port: str = ""
    region: str = ""
    factor: float = 1.0
    year: int = 0
    capacity_t: float = 0.0

    @property
    def label(self) -> str:
        """The shock in a few words, for reports."""
        when = f" from {self.start}" if self.start else ""
        until = f" until {self.end - dt.timedelta(days=1)}" if self.end else ""
        match self.type:
            case "export-ban":
                what = "/".join(self.elements) or "all elements"
                stages = f" at {', '.join(self.stages)}" if self.stages else ""
                return f"{self.country} bans exports of {what}{stages}{when}{until}"
            case "facility-outage":
                return f"{self.facility} down{when}{until}"
            case "port-closure":
                return f"port {self.port} closed{when}{until}"
            case "demand-growth":
                return f"demand in {self.region} × {self.factor:g} in {self.year}"
            case _:
                return f"{self.facility} +{self.capacity_t:,.0f} t/y{when}"


@dataclass(frozen=True, slots=True)
class Option:
    """A corridor option: build or expand ``site`` (a facility or port) by ``capacity_t``
    for ``annual_cost_usd`` (capital charge and fixed costs a year). Options on one site
    are alternatives (capacity steps): at most one is chosen."""

    id: str
    site: str
    capacity_t: float
    annual_cost_usd: float


@dataclass(frozen=True, slots=True)
class Target:
    """What the corridor must achieve: output of ``stage`` in ``countries`` of at least
    ``t`` (t/y, element content), or a ``share`` of ``region``'s demand of every element."""

    id: str
    stage: str = ""
    countries: tuple[str, ...] = ()
    t: float = 0.0
    region: str = ""
    share: float = 0.0


@dataclass(frozen=True, slots=True)
class CorridorSpec:
    """The corridor plan's options, targets and switchable constraints."""

    options: tuple[Option, ...]
    targets: tuple[Target, ...]
    enabled: frozenset[str] = frozenset()
    us_defence_region: str = ""
    us_defence_excluded: tuple[str, ...] = ()
    eu_region: str = ""
    eu_max_share: float = 0.65
    recycled_share: float = 0.0
    recycled_regions: tuple[str, ...] = ()
    configured: frozenset[str] = frozenset()  # the constraints the file describes


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole scenario file: the network, the year solved, demand, shocks and corridor."""

    title: str
    year: int
    elements: tuple[str, ...]
    facilities: Mapping[str, Facility]
    ports: Mapping[str, Port]
    regions: Mapping[str, Region]
    lanes: tuple[Lane, ...]
    demand: tuple[Demand, ...]
    shocks: tuple[Shock, ...] = ()
    shortage_cost_usd_per_t: float = 100_000_000.0
    corridor: CorridorSpec | None = None
    notes: tuple[str, ...] = field(default=())

    def country_of(self, node: str) -> str:
        """The country of a facility or port id ('' for a region)."""
        if node in self.facilities:
            return self.facilities[node].country
        if node in self.ports:
            return self.ports[node].country
        return ""
