"""Which dashboard page or action each role may use: the service's role table
(``service.access.PERMISSIONS``) for everything the API also does, and two actions only the
dashboard offers (a scenario run, a licence issued from a form).

``PAGES`` is the table docs/service.md shows under "Dashboard pages"; tests/web walks it.
A page a role may not use is left out of its navigation and refused when asked for (403 for
the page, 404 for a thing outside its scope), never merely hidden.
"""

from __future__ import annotations

from raretrace.service.access import (
    AUDITOR,
    AUTHORITY,
    COUNCIL,
    PERMISSIONS,
    PUBLIC,
    Forbidden,
    Principal,
    require,
)

#: Actions only the dashboard offers, and who may take them.
WEB_PERMISSIONS: dict[str, tuple[str, ...]] = {
    # A scenario is a model of the council's network, not a ledger read; its runs are the
    # council's planning (issue 15 §1 "Scenarios (council)").
    "run-scenarios": (COUNCIL,),
    # A licence is issued by the authority that grants it (issue 15 §1); the council may
    # record one for any authority, as `registry load` does.
    "issue-licence": (AUTHORITY, COUNCIL),
    # An audit is recorded by the auditor who did it, for a facility it audits; the council
    # may record one for any auditor (a first audit widens the auditor's scope).
    "record-audit": (AUDITOR, COUNCIL),
}

#: Page (as docs/service.md names it) → the action it needs.
PAGES: dict[str, str] = {
    "GET /ui/": "read-public",
    "GET /ui/overview/ready": "read-public",
    "GET /ui/registry": "read-public",
    "GET /ui/facilities/{facility}": "read-public",
    "GET /ui/log": "read-public",
    "GET /ui/log/consistency": "read-public",
    "GET /ui/verify": "verify-credential",
    "POST /ui/verify": "verify-credential",
    "GET /ui/lots": "read-lots",
    "GET /ui/lots/{lot}": "read-lots",
    "GET /ui/lots/{lot}/events": "read-lots",
    "GET /ui/lots/{lot}/check": "read-lots",
    "GET /ui/lots/{lot}/bundle": "read-lots",
    "GET /ui/lots/{lot}/credentials/{folder}/{name}": "read-lots",
    "GET /ui/lots/{lot}/credentials/{folder}/{name}/qr": "read-lots",
    "POST /ui/lots/{lot}/certify": "certify",
    "GET /ui/scenarios": "run-scenarios",
    "POST /ui/scenarios/run": "run-scenarios",
    "POST /ui/scenarios/corridor": "run-scenarios",
    "POST /ui/registry/licences": "issue-licence",
    "POST /ui/registry/audits": "record-audit",
    "GET /ui/licences": "read-clearinghouse",
    "GET /ui/licences/{licence}": "read-clearinghouse",
    "GET /ui/agreements": "read-clearinghouse",
    "GET /ui/agreements/{agreement}": "read-clearinghouse",
    "POST /ui/agreements/{agreement}/review": "council-decisions",
    "GET /ui/disputes": "read-clearinghouse",
    "GET /ui/disputes/{dispute}": "read-clearinghouse",
    "POST /ui/disputes/{dispute}/ruling": "council-decisions",
    "POST /ui/cases/prepare": "file-cases",
    "POST /ui/cases/submit": "file-cases",
}


def allowed(role: str, action: str) -> bool:
    """Whether ``role`` may take ``action`` (an API action or a dashboard one)."""
    roles = WEB_PERMISSIONS.get(action) or PERMISSIONS[action]
    return role in roles


def require_page(principal: Principal, action: str) -> None:
    """Forbidden unless ``principal`` may take ``action`` (the same words as the API's)."""
    if action in PERMISSIONS:
        require(principal, action)
        return
    roles = WEB_PERMISSIONS[action]
    if principal.role in roles:
        return
    if principal.role == PUBLIC:
        raise Forbidden(
            "token-required", f"{action} needs you to sign in with a token of role"
            f" {' or '.join(roles)}",
        )  # fmt: skip
    raise Forbidden(
        "role-forbidden",
        f"a {principal.role} may not {action}; it needs role {' or '.join(roles)}",
    )
