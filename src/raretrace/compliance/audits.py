"""The accredited audit that covers a facility on a date: one search shared by the packs that
ask for one (asean-esg for every site of a path, oecd-cahra for CAHRA mines)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from raretrace.domain.licensing import Audit, audit_standing
from raretrace.domain.registry import Registry


@dataclass(frozen=True, slots=True)
class AuditSearch:
    """The covering audit, or None with why each candidate failed (empty: none registered)."""

    audit: Audit | None
    notes: tuple[str, ...]


def covering_audit(
    registry: Registry, facility: str, standard: str, accepted: Collection[str], time: str
) -> AuditSearch:
    """The first audit (by id) of ``facility`` against ``standard`` that is in good standing
    (its auditor accredited for the standard), has an accepted result and is valid at
    ``time`` (normalized)."""
    notes = []
    for audit in sorted(registry.audits.values(), key=lambda a: a.id):
        if audit.facility != facility or audit.standard != standard:
            continue
        problem = audit_standing(audit, registry)
        if problem is None and audit.result not in accepted:
            problem = f"audit {audit.id!r} result is {audit.result!r}"
        if problem is None and not audit.valid_at(time):
            problem = (
                f"audit {audit.id!r} valid {audit.date[:10]} to {audit.valid_until[:10]},"
                f" not on {time[:10]}"
            )
        if problem is None:
            return AuditSearch(audit, ())
        notes.append(problem)
    return AuditSearch(None, tuple(notes))
