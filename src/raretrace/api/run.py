"""Running the API under Uvicorn: checked settings, the ledger checked before the first
request, then one or more worker processes."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import uvicorn

from raretrace.api.settings import ServiceSettings
from raretrace.domain.errors import ConfigError
from raretrace.service.ledgers import open_store


def import_app() -> None:
    """Build the application once here, so a broken installation fails before serving."""
    from raretrace.api.app import create_app

    create_app(ServiceSettings(db=":memory:"))


def check_before_serving(settings: ServiceSettings) -> None:
    """Refuse, before any worker starts, a database that is not a current ledger and an
    address that cannot be listened on (ConfigError naming it)."""
    open_store(settings.db).close()
    import_app()
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((settings.host, settings.port))
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror};"
            " give another --host or --port"
        ) from None


def run_server(settings: ServiceSettings, *, announce: Callable[[str], None]) -> None:
    """Serve until stopped (Ctrl-C or SIGTERM)."""
    check_before_serving(settings)
    os.environ.update(settings.to_env())  # the workers build their app from these
    announce(
        f"serving {settings.db} on http://{settings.host}:{settings.port} with"
        f" {settings.workers} worker(s); API docs at /docs, OpenAPI at /openapi.json"
    )
    uvicorn.run(
        "raretrace.api.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )
