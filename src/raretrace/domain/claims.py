"""Claims on a lot's material (subsidies, recycled-content or origin claims), and the rule
that the same kilogram is never claimed twice under one scheme.

A ``claim`` event takes a share of a lot's material for a scheme. Claimed shares are kept per
conserved element in the lot's provenance and travel with the material like origin shares
(mass-balance mixing, ``provenance.mix_claimed``), so a lot made from claimed material
inherits the claim: claiming it again under the same scheme is refused once any element's
claimed share would pass 1.
"""

from __future__ import annotations

from raretrace.domain.elements import CONSERVED
from raretrace.domain.errors import ValidationError
from raretrace.domain.model import Lot, Provenance
from raretrace.domain.provenance import with_claim

#: How far above 1 an element's claimed share may go: float noise of mixing (shares of 0.3
#: and 0.7 mixed through several transforms may add up to 1.0000000000000002), nothing a
#: claim could use. Within it, the claimed share is recorded as exactly 1.
SHARE_TOLERANCE = 1e-9


def claimed_provenance(lot: Lot, *, scheme: str, share: float, claim_id: str) -> Provenance:
    """The lot's provenance once ``share`` of it is claimed under ``scheme``, or the
    ``double-claim`` rule when some element's claimed share would pass 1."""
    elements = [e for e, kg in lot.elements_kg.items() if e in CONSERVED and kg > 0]
    if not elements:
        raise ValidationError(
            "claim-no-elements",
            f"lot {lot.id!r}",
            f"claim {claim_id!r}: the lot holds no rare earth, thorium or uranium (claims are"
            " tracked per element of those); claim a lot that holds them",
        )
    before = lot.provenance.claimed.get(scheme, {})
    after = {e: before.get(e, 0.0) + share for e in elements}
    worst = max(elements, key=lambda e: after[e])
    if after[worst] > 1 + SHARE_TOLERANCE:
        raise _double_claim(lot, scheme, share, claim_id, worst, before.get(worst, 0.0))
    capped = {e: min(v, 1.0) for e, v in after.items()}
    return with_claim(lot.provenance, scheme, capped, claim_id)


def _double_claim(
    lot: Lot, scheme: str, share: float, claim_id: str, element: str, taken: float
) -> ValidationError:
    earlier = lot.provenance.claims.get(scheme, ())
    named = ", ".join(repr(i) for i in earlier[:5]) + (
        f" and {len(earlier) - 5} more" if len(earlier) > 5 else ""
    )
    free = max(0.0, 1.0 - max(lot.provenance.claimed.get(scheme, {}).values(), default=0.0))
    advice = (
        f"{free:.6g} of the lot is still free under this scheme: claim at most that"
        if free > SHARE_TOLERANCE
        else "nothing of it is free under this scheme: the material is fully claimed"
    )
    return ValidationError(
        "double-claim",
        f"lot {lot.id!r}",
        f"claim {claim_id!r} takes {share:.6g} of the lot for scheme {scheme!r}, but"
        f" {taken:.6g} of its {element} is already claimed for it (by {named}, on this lot or"
        f" on material it was made from), which would make {taken + share:.6g}; {advice}",
    )
