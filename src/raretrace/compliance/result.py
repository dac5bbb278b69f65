"""A rule pack's answer: one frozen ``CheckResult`` per rule, serialised exactly as
``raretrace check --json`` prints it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PASS = "pass"
FAIL = "fail"
NEEDS_EVIDENCE = "needs-evidence"
NOT_APPLICABLE = "not-applicable"
STATUSES: tuple[str, ...] = (PASS, FAIL, NEEDS_EVIDENCE, NOT_APPLICABLE)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The answer of one rule of one pack for one lot as of one date."""

    pack: str
    rule: str
    status: str
    summary: str
    reasons: tuple[str, ...] = ()
    #: The ids of the events the answer rests on.
    events: tuple[str, ...] = ()
    #: The date the pack's facts file was last reviewed (YYYY-MM-DD).
    facts_reviewed: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "rule": self.rule,
            "status": self.status,
            "summary": self.summary,
            "reasons": list(self.reasons),
            "events": list(self.events),
            "facts_reviewed": self.facts_reviewed,
        }
