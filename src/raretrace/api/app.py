"""The HTTP API of the ledger (``raretrace serve``; docs/service.md): a FastAPI application
whose routes parse the request, call one service function and render its answer.

Interactive docs at ``/docs`` load Swagger UI from files served by this application (the
``fastapi-offline`` package's copy), never from a CDN: the service works on a network with
no way out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from raretrace import __version__
from raretrace.api import errors, routes_clearinghouse, routes_log, routes_read, routes_write
from raretrace.api.fastpath import TraceFastPath
from raretrace.api.http import BodyLimit
from raretrace.api.settings import ServiceSettings
from raretrace.api.state import AppState
from raretrace.web import mount as mount_dashboard

DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
STATIC = "/docs-assets"


def create_app(settings: ServiceSettings) -> FastAPI:
    """The application for ``settings`` (the ledger is opened when it starts)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.raretrace = AppState.open(settings)
        try:
            yield
        finally:
            app.state.raretrace.close()

    app = FastAPI(
        title="raretrace",
        version=__version__,
        summary="Chain of custody for rare earths: the council's ledger service.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    errors.install(app, settings.db)
    app.add_middleware(BodyLimit, single=settings.max_body_bytes, batch=settings.max_batch_bytes)
    routers = (routes_read, routes_write, routes_log, routes_clearinghouse)
    for router in (r.router for r in routers):
        app.include_router(router)
    app.mount(STATIC, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    mount_dashboard(app)  # the web dashboard under /ui (docs/dashboard.md)
    # Added last, so it runs first: a trace passes no other middleware (api.fastpath).
    app.add_middleware(TraceFastPath, db=settings.db)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="raretrace API",
            swagger_js_url=f"{root}{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC}/favicon.png",
        )

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_env() -> FastAPI:
    """The application configured from ``RARETRACE_*`` variables (what Uvicorn's worker
    processes build: ``raretrace serve`` sets the variables from its options)."""
    return create_app(ServiceSettings.from_env())
