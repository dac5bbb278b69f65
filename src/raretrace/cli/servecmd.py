"""``raretrace serve``: the ledger's HTTP API (FastAPI under Uvicorn), docs/service.md."""

from __future__ import annotations

from typing import Annotated

import typer

from raretrace.cli.main import DbOption, _db, app, err


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[
        str | None,
        typer.Option(metavar="HOST", help="Address to listen on [env: RARETRACE_HOST; default:"
                     " 127.0.0.1]"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(metavar="PORT", help="TCP port [env: RARETRACE_PORT; default: 8080]"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(metavar="N", help="Worker processes [env: RARETRACE_WORKERS; default: 1]"),
    ] = None,
) -> None:  # fmt: skip
    """Serve the ledger over HTTP: the JSON API, /openapi.json, /docs, the log's files."""
    from raretrace.api.run import run_server
    from raretrace.api.settings import ServiceSettings

    settings = ServiceSettings.from_env(db=_db(db), host=host, port=port, workers=workers)
    run_server(settings, announce=lambda line: err.print(line, markup=False))
