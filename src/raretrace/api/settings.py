"""The service's settings: one object, from ``raretrace serve``'s options and ``RARETRACE_*``
environment variables (docs/service.md, "Configuration").

Worker processes started by Uvicorn read the same variables, so ``serve`` writes its
options into the environment before it starts them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from raretrace.domain.errors import ConfigError
from raretrace.service.ledgers import ENV_VAR, resolve_db

PREFIX = "RARETRACE_"


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Everything ``raretrace serve`` can be told (each field's variable is
    ``RARETRACE_<FIELD>``, upper case; ``db`` is ``RARETRACE_DB``)."""

    db: str
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    #: Largest body of a single request (one event, a registry file, a cosignature), bytes.
    max_body_bytes: int = 1 << 20
    #: Largest body of a JSON Lines batch, bytes.
    max_batch_bytes: int = 64 << 20
    #: ``certify``: the council's issuer key, its status list and where credentials go.
    issuer_key: Path | None = None
    status_list: Path | None = None
    credentials_dir: Path | None = None
    credentials_url: str | None = None

    @classmethod
    def from_env(
        cls,
        *,
        db: str | None = None,
        host: str | None = None,
        port: int | None = None,
        workers: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ServiceSettings:
        """Options given win over the environment, which wins over the defaults; every
        value is checked (ConfigError naming the variable or option)."""
        source = os.environ if env is None else env

        def number(name: str, given: int | None, default: int, low: int, high: int) -> int:
            text = source.get(PREFIX + name.upper())
            value = given
            if value is None and text:
                try:
                    value = int(text)
                except ValueError:
                    raise ConfigError(
                        f"{PREFIX}{name.upper()}={text!r} is not a whole number"
                    ) from None
            value = default if value is None else value
            if not low <= value <= high:
                raise ConfigError(
                    f"--{name.replace('_', '-')} {value} is out of range: give {low}…{high}"
                )
            return value

        def path(name: str) -> Path | None:
            text = source.get(PREFIX + name.upper())
            return Path(text) if text else None

        chosen_host = host if host is not None else source.get(PREFIX + "HOST", "127.0.0.1")
        if not chosen_host.strip():
            raise ConfigError("--host is empty: give an address such as 127.0.0.1 or 0.0.0.0")
        return cls(
            db=resolve_db(db or source.get(ENV_VAR)),
            host=chosen_host,
            port=number("port", port, 8080, 0, 65535),
            workers=number("workers", workers, 1, 1, 64),
            max_body_bytes=number("max_body_bytes", None, 1 << 20, 1024, 1 << 30),
            max_batch_bytes=number("max_batch_bytes", None, 64 << 20, 1024, 1 << 34),
            issuer_key=path("issuer_key"),
            status_list=path("status_list"),
            credentials_dir=path("credentials_dir"),
            credentials_url=source.get(PREFIX + "CREDENTIALS_URL") or None,
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes ``from_env`` give these settings back."""
        out = {}
        for name, value in asdict(self).items():
            if value is None:
                continue
            out[ENV_VAR if name == "db" else PREFIX + name.upper()] = str(value)
        return out
