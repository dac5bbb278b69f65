"""What ``raretrace check`` calls: one function that reads the lot's evidence, checks the
user's figures and runs the packs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from raretrace.compliance.adapter import lot_evidence
from raretrace.compliance.context import CheckContext
from raretrace.compliance.packs import PACKS, run_packs
from raretrace.compliance.result import FAIL, CheckResult
from raretrace.domain.elements import RARE_EARTHS
from raretrace.domain.errors import ConfigError
from raretrace.ledger.service import read_json
from raretrace.store.store import Store


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The packs' answers for one lot as of one date."""

    lot: str
    as_of: date
    results: tuple[CheckResult, ...]

    @property
    def failed(self) -> bool:
        return any(r.status == FAIL for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "lot": self.lot,
            "as_of": self.as_of.isoformat(),
            "results": [r.to_json() for r in self.results],
        }


def parse_as_of(text: str | None) -> date:
    """``--as-of``: a calendar date YYYY-MM-DD (default: today, UTC)."""
    if text is None:
        return datetime.now(UTC).date()
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--as-of {text!r} is not a date; give YYYY-MM-DD, e.g. 2027-02-01"
        ) from None


def check_packs(names: Sequence[str]) -> tuple[str, ...]:
    """``--pack`` values, each a known pack (all of them when none is given)."""
    unknown = [n for n in names if n not in PACKS]
    if unknown:
        raise ConfigError(f"unknown pack {unknown[0]!r}; the packs are {', '.join(PACKS)}")
    return tuple(names) or PACKS


def check_value(value: float | None) -> float | None:
    """``--declared-value-usd``: a finite amount >= 0."""
    if value is not None and (not math.isfinite(value) or value < 0):
        raise ConfigError(
            f"--declared-value-usd {value} is not an amount; give a finite number of USD >= 0"
        )
    return value


def read_prices(path: Path | None) -> dict[str, float] | None:
    """``--prices FILE``: a JSON object of element -> USD per kg of contained element."""
    if path is None:
        return None
    doc: object = read_json(path)
    if not isinstance(doc, Mapping) or not doc:
        raise ConfigError(
            f'--prices {path}: must be a JSON object of element -> USD per kg, e.g. {{"Dy": 300.0}}'
        )
    prices = {}
    for element, price in doc.items():
        if element not in RARE_EARTHS:
            raise ConfigError(
                f"--prices {path}: {element!r} is not a rare-earth element symbol such as 'Dy'"
            )
        ok = isinstance(price, int | float) and not isinstance(price, bool)
        if not ok or not math.isfinite(price) or price < 0:
            raise ConfigError(
                f"--prices {path}: {element!r} is {price!r}; each price must be a finite"
                " number of USD per kg >= 0"
            )
        prices[str(element)] = float(price)
    return prices


def check_lot(
    store: Store,
    lot_id: str,
    *,
    as_of: date,
    packs: Sequence[str] = PACKS,
    declared_value_usd: float | None = None,
    prices: Mapping[str, float] | None = None,
) -> CheckReport:
    """Run ``packs`` on stored lot ``lot_id`` as of ``as_of``."""
    registry = store.registry()
    evidence = lot_evidence(store, lot_id, registry)
    ctx = CheckContext(evidence, registry, as_of, declared_value_usd, prices)
    return CheckReport(lot_id, as_of, tuple(run_packs(ctx, packs)))
