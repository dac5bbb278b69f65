"""The service layer both edges share: the command line (``raretrace.cli``) and the HTTP API
(``raretrace.api``) call these functions and nothing below them.

- ``ledgers``: which database, opening it, why it cannot be used; the demo's ledger marks.
- ``reads``: trace, lots, facilities, discrepancies, statistics (and their JSON shapes).
- ``ingest``: appending a stream of events with its bookkeeping.
- ``tokens``: bearer tokens (issued, listed, revoked; stored hashed).
- ``access``: roles, what each may call, and which lots and events a caller may see.
- ``submit``: signed events and registry records submitted through the HTTP API.

The ledger's own operations (``raretrace.ledger.service``: init, keygen, sign, registry)
are re-exported here as ``ledger`` so an edge needs one import.
"""

from __future__ import annotations

from raretrace.ledger import service as ledger

__all__ = ["ledger"]
