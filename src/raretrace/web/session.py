"""Signing in to the dashboard: a service token (``raretrace token issue``) kept in a cookie
that scripts cannot read (HttpOnly) and the browser never sends from another site
(SameSite=Strict), so a form on another site cannot act as the signed-in user.

The cookie holds the token itself, checked on every request like a bearer header, so
revoking the token (``raretrace token revoke``) signs the browser out at its next request.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from raretrace.api.http import call, state
from raretrace.domain.errors import RaretraceError
from raretrace.service import tokens
from raretrace.service.access import ANONYMOUS, Forbidden, Principal

COOKIE = "rt_session"
#: A sign-in lasts at most this long in the browser (the token's own expiry still applies).
MAX_AGE_S = 12 * 3600


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: the principal, and why a cookie sent was not accepted (if it was not)."""

    principal: Principal
    problem: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.principal.role != ANONYMOUS.role

    @property
    def label(self) -> str:
        p = self.principal
        return f"{p.participant} ({p.role})" if p.participant else p.role


async def viewer(request: Request) -> Viewer:
    """The viewer of this request: the cookie's principal, or the public."""
    token = request.cookies.get(COOKIE)
    if not token:
        return Viewer(ANONYMOUS)
    try:
        found = await call(tokens.authenticate, state(request).store, token)
    except RaretraceError as exc:
        return Viewer(ANONYMOUS, f"you were signed out: {exc.message}")
    return Viewer(found)


def same_origin(request: Request) -> None:
    """Forbidden for a form posted from another origin (a second guard beside SameSite)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return
    host = request.headers.get("host", "")
    if origin.split("://", 1)[-1] != host:
        raise Forbidden("cross-origin", "this form was sent from another site; use the dashboard")


async def check_token(request: Request, token: str) -> Principal:
    """The principal of ``token`` (Unauthorized naming why it does not work)."""
    return await call(tokens.authenticate, state(request).store, token.strip())
