"""The ledger's nouns: participants, facilities, lots and their provenance, as plain values."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, NamedTuple

from raretrace.domain.errors import ConfigError, ValidationError

if TYPE_CHECKING:
    from raretrace.domain.keys import ParticipantKey

#: Physical forms a lot can take, from the ground to the finished part.
FORMS: tuple[str, ...] = (
    "ore", "concentrate", "intermediate", "oxide", "metal", "alloy", "magnet", "scrap", "residue",
)  # fmt: skip
#: What a facility does. Ports and stores are ``warehouse``.
STAGES: tuple[str, ...] = (
    "mine", "concentrator", "cracking", "separation", "reduction", "alloying", "magnet",
    "recycling", "warehouse",
)  # fmt: skip
#: Transform processes and the facility stage each one needs (None: see ``process_allowed``).
PROCESS_STAGE: dict[str, str | None] = {
    "separation": "separation",
    "reduction": "reduction",
    "alloying": "alloying",
    "magnet": "magnet",
    "recycling": "recycling",
    "split": None,
    "merge": None,
    "other": None,
}
PROCESSES: tuple[str, ...] = tuple(PROCESS_STAGE)

# Lot statuses.
ACTIVE = "active"
IN_TRANSIT = "in_transit"
CONSUMED = "consumed"
WRITTEN_OFF = "written_off"

#: The actor of registry events: the registry authority (the council), not a participant.
REGISTRY_ACTOR = "registry"
#: Origin key for collected end-of-life scrap whose mine of origin is unknown.
RECYCLED = "recycled"
#: Origin key for the trace of an element (within tolerance) that no input declared.
UNATTRIBUTED = "unattributed"


@dataclass(frozen=True, slots=True)
class Participant:
    """A company, auditor or authority that acts in the ledger."""

    id: str
    name: str
    country: str
    keys: tuple[ParticipantKey, ...] = ()
    #: Some of ``operator``, ``auditor``, ``authority`` (domain/licensing.py ROLES).
    roles: tuple[str, ...] = ("operator",)
    #: ISO 3166-2 code of the state or province it belongs to (``MY-08``, Perak), or "": an
    #: authority's jurisdiction is its country, narrowed to this subdivision when given.
    subdivision: str = ""


@dataclass(frozen=True, slots=True)
class Facility:
    """A site where material is extracted, processed, stored or shipped through."""

    id: str
    name: str
    operator: str
    country: str
    stages: tuple[str, ...]
    technology_origin: str
    cahra: bool = False
    region: str = ""
    lat: float | None = None
    lon: float | None = None
    capacity_t_per_year: float | None = None
    #: ISO 3166-2 code of the state or province it is in (``MY-06``, Pahang), or "".
    subdivision: str = ""

    @property
    def stage(self) -> str:
        """The primary stage: the one recorded in a lot's path when material arrives here."""
        return self.stages[0]

    def process_allowed(self, process: str) -> bool:
        """Whether a transform with ``process`` may run here.

        Named processes need their own stage; ``split`` and ``merge`` are bookkeeping and
        allowed anywhere; ``other`` (beneficiation, cracking, leaching, finishing) is physical
        processing, so it is refused at a warehouse-only site.
        """
        needed = PROCESS_STAGE[process]
        if needed is not None:
            return needed in self.stages
        if process == "other":
            return self.stages != ("warehouse",)
        return True


@dataclass(frozen=True, slots=True)
class PathStep:
    """One place a lot's material passed through: (stage, facility, country, technology origin)."""

    stage: str
    facility: str
    country: str
    technology_origin: str

    def to_json(self) -> dict[str, str]:
        return {
            "stage": self.stage,
            "facility": self.facility,
            "country": self.country,
            "technology_origin": self.technology_origin,
        }


#: element -> source -> share of that element's mass (shares sum to 1 per element).
Shares = dict[str, dict[str, float]]


class RouteStep(NamedTuple):
    """One processing step on an element's route: the stage, where, and whose technology.

    A named tuple rather than a dataclass: routes are hashed and compared on every mix, and a
    tuple's hash and equality run in C (a dataclass's ``__hash__`` is Python code).
    """

    stage: str
    country: str
    technology_origin: str

    def to_json(self) -> dict[str, str]:
        return {
            "stage": self.stage,
            "country": self.country,
            "technology_origin": self.technology_origin,
        }


@dataclass(frozen=True, slots=True)
class RouteShare:
    """The share of one element's mass that went through ``steps``, in order."""

    share: float
    steps: tuple[RouteStep, ...]


#: element -> the routes its mass took (each sequence of steps once; shares sum to 1).
Routes = dict[str, tuple[RouteShare, ...]]
#: scheme -> element -> share of that element's mass claimed under the scheme (at most 1).
Claimed = dict[str, dict[str, float]]


@dataclass(frozen=True, slots=True)
class RouteTable:
    """A lot's routes as stored and mixed: its distinct routes (``paths``) once, and per
    element the share of its mass on each (aligned with ``paths``; 0.0 where none).

    The elements of a lot mostly took the same routes in different proportions, so a step
    appended at a receipt or a process extends each route once, not once per element.
    """

    paths: tuple[tuple[RouteStep, ...], ...] = ()
    shares: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def routes(self) -> Routes:
        """Per element, its routes with their shares (routes it did not take left out)."""
        return {
            e: tuple(RouteShare(s, self.paths[i]) for i, s in enumerate(v) if s > 0)
            for e, v in self.shares.items()
        }


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a lot's material came from, per conserved element, and where it has been.

    ``routes`` is, per conserved element, which share of its mass took which sequence of
    processing steps (``provenance.by_stage`` gives the per-stage marginals; ``route_table``
    is the same, as stored); ``claimed`` is, per scheme, the share of each element already
    claimed (subsidy, recycled content, origin) and ``claims`` the claim events behind it, so
    a descendant inherits upstream claims.
    """

    by_mine: Shares
    by_country: Shares
    path: tuple[PathStep, ...]
    route_table: RouteTable = field(default_factory=RouteTable)
    claimed: Claimed = field(default_factory=dict)
    claims: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def routes(self) -> Routes:
        """Per conserved element, the routes its mass took: ``{EL: (RouteShare, ...)}``."""
        return self.route_table.routes()

    def recycled_share(self) -> dict[str, float]:
        """Per element, the share that came from collected scrap of unknown origin."""
        return {e: s.get(RECYCLED, 0.0) for e, s in self.by_mine.items()}


@dataclass(slots=True)
class Lot:
    """A physical batch of material and everything the ledger knows about it now."""

    id: str
    form: str
    mass_kg: float
    elements_kg: dict[str, float]
    custodian: str
    facility: str
    status: str
    time: str
    created_seq: int
    provenance: Provenance
    # Set while in transit: where it is going, to whom, and the ship event's sequence number.
    destination: str | None = None
    consignee: str | None = None
    shipped_seq: int | None = None

    def copy(self) -> Lot:
        """A shallow copy that can be changed without touching the original."""
        return Lot(
            id=self.id,
            form=self.form,
            mass_kg=self.mass_kg,
            elements_kg=self.elements_kg,
            custodian=self.custodian,
            facility=self.facility,
            status=self.status,
            time=self.time,
            created_seq=self.created_seq,
            provenance=self.provenance,
            destination=self.destination,
            consignee=self.consignee,
            shipped_seq=self.shipped_seq,
        )


#: The heaviest lot the ledger accepts, in kg: 10^9 kg = 1,000,000 t. Every mass in an event
#: (a lot, an element in it, an input, a receipt, an adjustment, a declared loss) is at most
#: this. It is more than twice the largest cargo one ship carries (a Valemax ore carrier,
#: ~400,000 t) and above the world's yearly mined rare-earth output (~390,000 t REO, USGS
#: 2025), so no real lot comes near it; at this size a float64 still resolves ~1e-7 kg, far
#: inside any tolerance; and sums of any number of such masses that fits in memory stay
#: finite (float64 overflows near 1.8e308), so no balance can overflow to infinity.
MAX_LOT_KG = 1e9


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far a balance may be off: the larger of ``relative`` × reference and ``absolute_kg``."""

    relative: float = 0.005
    absolute_kg: float = 0.001

    def __post_init__(self) -> None:
        if not (math.isfinite(self.relative) and 0 <= self.relative < 1):
            raise ValidationError(
                "tolerance", "relative", f"must be in [0, 1), got {self.relative}"
            )
        if not (math.isfinite(self.absolute_kg) and 0 <= self.absolute_kg <= MAX_LOT_KG):
            raise ValidationError(
                "tolerance",
                "absolute_kg",
                f"must be between 0 and {MAX_LOT_KG:,.0f} kg (the largest lot), got"
                f" {self.absolute_kg}",
            )

    def of(self, reference_kg: float) -> float:
        """The allowed difference, in kg, for a quantity of ``reference_kg``."""
        return max(self.relative * abs(reference_kg), self.absolute_kg)


# RFC 3339 §5.6 date-time: full date, 'T', full time with seconds, optional fraction, and a
# zone ('Z' or ±hh:mm). Case-insensitive 'T' and 'Z' (§5.6 NOTE).
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?P<fraction>\.\d+)?(?P<zone>[Zz]|[+-]\d{2}:\d{2})?"
)


def normalize_time(value: object, subject: str) -> str:
    """An RFC 3339 timestamp as a fixed-width UTC string that sorts as it compares.

    The fixed width (microseconds always present) makes string comparison equal to time
    comparison, so the store can compare times without parsing.
    """
    if not isinstance(value, str):
        raise ValidationError(
            "format", subject, f"'time' must be an RFC 3339 string, got {value!r}"
        )
    if len(value) == 20 and value[10] == "T" and value[19] == "Z" and _RFC3339.fullmatch(value):
        _parse_time(value, value, subject)  # checks the calendar (no 2025-02-30)
        return value[:19] + ".000000Z"  # already UTC, whole seconds: the common case
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ValidationError(
            "bad-time",
            subject,
            f"'time' {value!r} is not an RFC 3339 date-time (use e.g. 2025-01-05T08:00:00Z)",
        )
    if match["zone"] is None:
        raise ValidationError(
            "bad-time", subject, f"'time' {value!r} has no time zone; add 'Z' for UTC"
        )
    fraction = (match["fraction"] or "")[:7]  # datetime keeps microseconds
    text = value[:19].replace("t", "T") + fraction + match["zone"].upper()
    parsed = _parse_time(text, value, subject)
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        raise ValidationError(
            "bad-time", subject, f"'time' {value!r} is outside the years 0001-9999 in UTC"
        ) from None
    # isoformat, not strftime: strftime does not zero-pad years before 1000 on every libc.
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _parse_time(text: str, value: str, subject: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            "bad-time",
            subject,
            f"'time' {value!r} is not a valid date and time (use e.g. 2025-01-05T08:00:00Z)",
        ) from None


def display_time(normalized: str) -> str:
    """A normalized time without the microseconds when they are zero."""
    return normalized.replace(".000000Z", "Z")


def parse_day(text: str | None, option: str) -> date | None:
    """A calendar date YYYY-MM-DD given to a command's ``option``, or None when not given
    (``--as-of``, ``--from``, ``--to`` of every command)."""
    if text is None:
        return None
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{option} {text!r} is not a date; give YYYY-MM-DD, e.g. 2025-01-31"
        ) from None
