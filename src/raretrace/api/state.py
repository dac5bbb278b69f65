"""What one service process keeps while it runs: its settings, a read handle on the ledger,
the append path (one writer per process) and the issuer setup for ``certify``."""

from __future__ import annotations

from dataclasses import dataclass

from raretrace.api.settings import ServiceSettings
from raretrace.service.credentials import IssuerSetup
from raretrace.service.ledgers import Store, open_store
from raretrace.service.submit import Submitter


@dataclass(slots=True)
class AppState:
    """The process's service state."""

    settings: ServiceSettings
    store: Store
    submitter: Submitter
    issuer: IssuerSetup

    @classmethod
    def open(cls, settings: ServiceSettings) -> AppState:
        """Open the ledger (refused here, before serving, if it is not a current ledger).

        Both handles are opened here, before any request, and never again while serving:
        opening a SQLite file reads its header with a plain open/close, and closing any
        descriptor of a database file drops every POSIX lock this process holds on it
        (sqlite.org/howtocorrupt.html §2.2), which would let another process's write slip
        under this process's readers.
        """
        submitter = Submitter(settings.db)
        submitter.write_store()  # the append path's engine first
        store = open_store(settings.db)
        issuer = IssuerSetup(
            settings.issuer_key, settings.status_list, settings.credentials_dir,
            settings.credentials_url,
        )  # fmt: skip
        return cls(settings, store, submitter, issuer)

    def close(self) -> None:
        self.submitter.close()
        self.store.close()
