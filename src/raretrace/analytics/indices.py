"""Concentration indices over a distribution of kg by country: shares and the
Herfindahl–Hirschman index.

HHI = Σ (100 · sᵢ)² over the countries' shares sᵢ (US DOJ/FTC Horizontal Merger Guidelines
(2023) §2.1 use the same scale: 0 to 10,000; 10,000 is one supplier). With n countries of
positive output it lies between 10,000 / n (equal shares) and 10,000.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Concentration", "concentration", "hhi", "shares"]


def shares(kg: Mapping[str, float]) -> dict[str, float]:
    """Each key's share of the positive total; {} when nothing is positive."""
    positive = {k: v for k, v in kg.items() if v > 0}
    total = sum(positive.values())
    if total <= 0:
        return {}
    return {k: v / total for k, v in positive.items()}


def hhi(share_values: Iterable[float]) -> float:
    """Σ (100 · s)² for shares s (fractions of 1)."""
    return sum((100.0 * s) ** 2 for s in share_values)


@dataclass(frozen=True, slots=True)
class Concentration:
    """One distribution: kg and share by country, the HHI, and the largest country."""

    kg: dict[str, float]
    shares: dict[str, float]
    hhi: float
    top_country: str | None
    top_share: float

    @property
    def total_kg(self) -> float:
        return sum(self.kg.values())


def concentration(kg: Mapping[str, float]) -> Concentration:
    """Shares, HHI and the top country (ties: the first country code in sort order)."""
    positive = {k: v for k, v in sorted(kg.items()) if v > 0}
    s = shares(positive)
    top = min(s, key=lambda k: (-s[k], k), default=None)
    return Concentration(
        kg=positive,
        shares=s,
        hhi=hhi(s.values()),
        top_country=top,
        top_share=s[top] if top is not None else 0.0,
    )
