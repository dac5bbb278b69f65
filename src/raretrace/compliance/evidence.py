"""What the rule packs read about one lot: ``LotEvidence``, plain frozen values.

The packs never touch the ledger; ``compliance.adapter.lot_evidence`` builds this from the
store and the lot's lineage, and tests build it by hand. Times are normalized UTC strings
(``domain.model.normalize_time``), which compare as they sort.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: A route share below this is numerical noise from mass-balance mixing, not material: one
#: part in a billion of an element's mass.
NOISE = 1e-9


@dataclass(frozen=True, slots=True)
class Step:
    """One processing step on an element's route (issue 9 §1)."""

    stage: str
    country: str
    technology_origin: str


@dataclass(frozen=True, slots=True)
class Route:
    """The share of one element's mass that went through ``steps``, in order."""

    share: float
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Shipment:
    """A ship event in the lot's lineage (or of a residue): what left where, for where, when."""

    event: str
    time: str
    shipper: str
    lot: str
    origin: str
    origin_country: str
    destination: str
    destination_country: str
    #: Elements the shipped lot held (kg > 0).
    elements: frozenset[str]
    #: The receipt's time, if it was received.
    received: str | None = None


@dataclass(frozen=True, slots=True)
class SiteEvent:
    """An event of the lineage that happened at a facility (extract, transform, receive, or
    ship from it)."""

    event: str
    type: str
    time: str
    facility: str


@dataclass(frozen=True, slots=True)
class Extraction:
    """An extract event at a mine (or a recycler) that created a lot of the lineage."""

    event: str
    time: str
    facility: str
    country: str
    cahra: bool


@dataclass(frozen=True, slots=True)
class Residue:
    """A residue lot made by a transform of the lineage, with its Th and U and where it went."""

    lot: str
    event: str
    mass_kg: float
    th_kg: float
    u_kg: float
    shipments: tuple[Shipment, ...] = ()

    @property
    def radioactive_fraction(self) -> float:
        """Th and U together, as a fraction of the residue's mass."""
        return (self.th_kg + self.u_kg) / self.mass_kg if self.mass_kg > 0 else 0.0


@dataclass(frozen=True, slots=True)
class LotEvidence:
    """Everything the packs need about one lot and its lineage."""

    lot: str
    form: str
    mass_kg: float
    elements_kg: Mapping[str, float]
    custodian: str
    facility: str
    facility_country: str
    #: element -> the routes its mass took (shares sum to 1).
    routes: Mapping[str, tuple[Route, ...]]
    #: element -> mine facility id (or "recycled") -> share of that element's mass.
    by_mine: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    #: The facilities of the lot's path (where material was processed or held in store).
    path_facilities: tuple[str, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    site_events: tuple[SiteEvent, ...] = ()
    extractions: tuple[Extraction, ...] = ()
    residues: tuple[Residue, ...] = ()

    def recycled_share(self, element: str) -> float:
        """The share of ``element`` that came from collected scrap."""
        return self.by_mine.get(element, {}).get("recycled", 0.0)


def share_through(
    routes: tuple[Route, ...], stages: frozenset[str], countries: frozenset[str] | None
) -> float:
    """The share of an element whose route has a step at one of ``stages`` in one of
    ``countries`` (any country when None)."""
    return sum(
        r.share
        for r in routes
        if any(s.stage in stages and (countries is None or s.country in countries)
               for s in r.steps)
    )  # fmt: skip


def by_stage(routes: tuple[Route, ...]) -> dict[str, dict[str, float]]:
    """Per stage, per country, the share of an element's mass that went through that stage
    there (a route passing one stage twice in one country counts once)."""
    out: dict[str, dict[str, float]] = {}
    for route in routes:
        for stage, country in {(s.stage, s.country) for s in route.steps}:
            per = out.setdefault(stage, {})
            per[country] = per.get(country, 0.0) + route.share
    return out
