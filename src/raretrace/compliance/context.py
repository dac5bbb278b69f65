"""What every pack is given: the lot's evidence, the registry, the as-of date and the user's
figures (declared value, prices), plus small date helpers shared by the packs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from raretrace.compliance.evidence import LotEvidence
from raretrace.domain.registry import Registry


@dataclass(frozen=True, slots=True)
class CheckContext:
    """The input of a pack: pure values, no ledger."""

    evidence: LotEvidence
    registry: Registry
    as_of: date
    #: The lot's declared value in USD (``--declared-value-usd``), if given.
    declared_value_usd: float | None = None
    #: USD per kg of contained element replacing the packaged table (``--prices``), if given.
    prices: Mapping[str, float] | None = None


def day(time: str) -> date:
    """The UTC calendar date of a normalized time."""
    return date.fromisoformat(time[:10])


def instant(when: date) -> str:
    """A date as a normalized time: the start of that day in UTC (what "as of" means)."""
    return f"{when.isoformat()}T00:00:00.000000Z"


def pct(share: float) -> str:
    """A share as a percentage for messages: 4 significant digits, no float noise."""
    return f"{share * 100:.4g}%"
