"""The JSON view of a lot that ``raretrace trace --json`` prints and bundles claim.

One function for both, so what the ledger prints and what an offline verifier recomputes
cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from raretrace.domain.elements import oxide_equivalent, total_reo
from raretrace.domain.errors import VerificationError
from raretrace.domain.model import Lot, display_time
from raretrace.domain.provenance import by_stage, routes_to_json


def _rounder(digits: int | None) -> Callable[[float], float]:
    if digits is None:
        return float
    return lambda x: round(x, digits) + 0.0  # + 0.0 turns -0.0 into 0.0


def _not_finite(lot: Lot) -> VerificationError:
    return VerificationError(
        f"lot {lot.id!r}: a stored mass or share is not a finite number (NaN, infinite or"
        " missing); ledgers written before masses were bounded could hold such lots: run"
        " `raretrace audit` to see which, and rebuild the ledger from its events"
    )


def lot_view(
    lot: Lot, *, mass_digits: int | None = 6, share_digits: int | None = 9
) -> dict[str, Any]:
    """A lot's state and provenance as JSON: masses in kg (to the milligram by default),
    shares to 1e-9; ``None`` digits keep full precision (what a verifier compares with).

    A lot holding a number that is not finite raises VerificationError naming it.
    """
    try:
        view = _view(lot, mass_digits, share_digits)
    except (TypeError, ValueError):  # round(None): a NaN stored as JSON null
        raise _not_finite(lot) from None
    if not _finite(view):
        raise _not_finite(lot)
    return view


def _finite(value: object) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def _view(lot: Lot, mass_digits: int | None, share_digits: int | None) -> dict[str, Any]:
    kg, share = _rounder(mass_digits), _rounder(share_digits)
    p = lot.provenance

    def shares(by: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
        return {e: {k: share(v) for k, v in s.items()} for e, s in by.items()}

    view: dict[str, Any] = {
        "lot": lot.id,
        "form": lot.form,
        "status": lot.status,
        "mass_kg": kg(lot.mass_kg),
        "elements_kg": {e: kg(v) for e, v in lot.elements_kg.items()},
        "oxide_equivalent_kg": {o: kg(v) for o, v in oxide_equivalent(lot.elements_kg).items()},
        "treo_kg": kg(total_reo(lot.elements_kg)),
        "custodian": lot.custodian,
        "facility": lot.facility,
        "time": display_time(lot.time),
        "origin": {"by_country": shares(p.by_country), "by_mine": shares(p.by_mine)},
        "recycled_share": {e: share(v) for e, v in p.recycled_share().items()},
        "path": [s.to_json() for s in p.path],
        "routes": {
            e: [{**r, "share": share(r["share"])} for r in routes]
            for e, routes in routes_to_json(p.routes).items()
        },
        "by_stage": {
            e: {stage: {c: share(v) for c, v in at.items()} for stage, at in stages.items()}
            for e, stages in by_stage(p.routes).items()
        },
        "claimed": {scheme: {e: share(v) for e, v in c.items()} for scheme, c in p.claimed.items()},
    }
    if lot.destination:
        view.update(in_transit_to=lot.destination, consignee=lot.consignee)
    return view
