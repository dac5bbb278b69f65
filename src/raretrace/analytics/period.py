"""Periods of analysis: calendar days given on the command line, as bounds on stored times.

Stored event times are fixed-width UTC strings (``2025-01-05T08:00:00.000000Z``) that sort as
they compare, so a period is a pair of such strings and a test is a string comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from raretrace.domain.errors import ConfigError
from raretrace.domain.model import parse_day

__all__ = ["Period", "day_start", "parse_day", "parse_period"]


def day_start(day: date) -> str:
    """The stored form of midnight UTC at the start of ``day``."""
    return f"{day.isoformat()}T00:00:00.000000Z"


@dataclass(frozen=True, slots=True)
class Period:
    """From the first day (included) to the last day (included), both optional: an open
    start is the ledger's first event, an open end its last."""

    first: date | None = None
    last: date | None = None

    @property
    def start(self) -> str | None:
        """Stored-time bound: events at or after it are in the period (None: no bound)."""
        return None if self.first is None else day_start(self.first)

    @property
    def end(self) -> str | None:
        """Stored-time bound: events before it are in the period (the day after ``last``)."""
        return None if self.last is None else day_start(self.last + timedelta(days=1))

    def contains(self, time: str) -> bool:
        start, end = self.start, self.end
        return (start is None or time >= start) and (end is None or time < end)

    def to_json(self) -> dict[str, str | None]:
        return {
            "from": None if self.first is None else self.first.isoformat(),
            "to": None if self.last is None else self.last.isoformat(),
        }


def parse_period(start: str | None, end: str | None) -> Period:
    """``--from`` and ``--to``, checked: dates, and the first not after the last."""
    period = Period(parse_day(start, "--from"), parse_day(end, "--to"))
    if period.first and period.last and period.first > period.last:
        raise ConfigError(
            f"--from {period.first} is after --to {period.last}; give the first day of the"
            " period first"
        )
    return period


def today() -> date:
    """Today's date in UTC (the default ``--as-of``)."""
    return datetime.now(UTC).date()
