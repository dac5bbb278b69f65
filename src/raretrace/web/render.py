"""Rendering pages: the Jinja2 templates, the filters that put units on numbers and times in
the viewer's zone, the navigation each role sees, and the error page that a refusal or a
missing thing gets (its status code and one line in words, never a traceback)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from raretrace.domain.errors import (
    ConfigError,
    NotFound,
    RaretraceError,
    ValidationError,
    VerificationError,
)
from raretrace.service.access import Forbidden, Unauthorized
from raretrace.web.access import allowed
from raretrace.web.session import Viewer

P = ParamSpec("P")
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the navigation: its label, path and the action it needs."""

    label: str
    path: str
    action: str


#: The navigation, in order.
NAV: list[NavItem] = [
    NavItem("Overview", "/ui/", "read-public"),
    NavItem("Lots", "/ui/lots", "read-lots"),
    NavItem("Registry", "/ui/registry", "read-public"),
    # The clearinghouse (issue 12; views_cases.py).
    NavItem("Licences", "/ui/licences", "read-clearinghouse"),
    NavItem("Agreements", "/ui/agreements", "read-clearinghouse"),
    NavItem("Disputes", "/ui/disputes", "read-clearinghouse"),
    NavItem("Scenarios", "/ui/scenarios", "run-scenarios"),
    NavItem("Verify", "/ui/verify", "verify-credential"),
    NavItem("Log", "/ui/log", "read-public"),
]


def nav_for(viewer: Viewer) -> list[NavItem]:
    """The entries ``viewer``'s role may open (the others are not shown, and refused)."""
    return [item for item in NAV if allowed(viewer.principal.role, item.action)]


def kg(value: float | None) -> str:
    """A mass with its unit: kg below 100 t, t above (thin spaces never; commas for 1,000s)."""
    if value is None:
        return "—"
    if abs(value) >= 100_000:
        return f"{value / 1000:,.1f} t"
    return f"{value:,.1f} kg" if abs(value) >= 10 else f"{value:,.3f} kg"


def pct(share: float | None, digits: int = 1) -> str:
    """A share (0..1) as a percentage with its unit."""
    return "—" if share is None else f"{100 * share:.{digits}f} %"


def tonnes(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} t"


def when(iso: str | None) -> Markup:
    """A UTC time as ``<time>``: the page's script shows it in the viewer's zone, with the
    UTC time on hover (the text is UTC until the script runs)."""
    if not iso:
        return Markup("—")
    text = escape(iso)
    return Markup(f'<time datetime="{text}" title="{text} (UTC)">{text}</time>')


templates.env.filters.update(kg=kg, pct=pct, tonnes=tonnes, when=when)


def page(request: Request, viewer: Viewer, name: str, status: int = 200,
         **context: Any) -> HTMLResponse:  # fmt: skip
    """The template ``name`` rendered for ``viewer``."""
    base = {"viewer": viewer, "nav": nav_for(viewer), "path": request.url.path}
    response = templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status,
        headers={"Cache-Control": "no-store"},
    )  # fmt: skip
    assert isinstance(response, HTMLResponse)
    return response


def status_of(exc: RaretraceError) -> int:
    """The HTTP status a failure gets (the API's mapping, docs/service.md "Errors")."""
    if isinstance(exc, Unauthorized):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, ValidationError | VerificationError):
        return 422
    if isinstance(exc, ConfigError):
        return 400
    return 400


def error_page(request: Request, viewer: Viewer, exc: RaretraceError) -> HTMLResponse:
    """The refusal or failure as a page: its status and its one line."""
    status = status_of(exc)
    if request.headers.get("hx-request"):
        body = f'<p class="error" role="alert">{escape(exc.message)}</p>'
        # Shown in the page's alert area whatever the form targeted (htmx headers).
        headers = {"HX-Retarget": "#htmx-error", "HX-Reswap": "innerHTML"}
        return HTMLResponse(body, status_code=status, headers=headers)
    return page(request, viewer, "error.html", status=status, status_code=status,
                message=exc.message)  # fmt: skip


def guarded(fn: Callable[P, Awaitable[Response]]) -> Callable[P, Awaitable[Response]]:
    """A view whose failures of the error family render as the error page (the view takes
    ``request`` and ``who`` as keyword arguments, as FastAPI passes them)."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return await fn(*args, **kwargs)
        except RaretraceError as exc:
            request, who = kwargs["request"], kwargs["who"]
            assert isinstance(request, Request) and isinstance(who, Viewer)
            return error_page(request, who, exc)

    return run
