"""``raretrace demo --serve``: after the tour, serve the demo ledger with its web dashboard
(docs/dashboard.md) and print a link that signs the browser in as the council."""

from __future__ import annotations

from raretrace.cli.main import err, out

#: The demo world's council (``raretrace.demo.world``) and how long the link's token works.
COUNCIL = "council.asean"
TOKEN_LIFETIME = "1d"


def serve_dashboard(db: str, *, port: int) -> None:
    """Issue a council token valid for a day, print the dashboard's sign-in link (the token
    after ``#``, which the browser never sends to a server or its logs), then serve."""
    from datetime import UTC, datetime, timedelta

    from raretrace.api.run import run_server
    from raretrace.api.settings import ServiceSettings
    from raretrace.service import tokens
    from raretrace.service.ledgers import open_store

    store = open_store(db, write=True)
    try:
        expires = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
        issued = tokens.issue(store, participant=COUNCIL, role="council", expires=expires)
    finally:
        store.close()
    url = f"http://127.0.0.1:{port}/ui/signin#token={issued.bearer}"
    out.print(f"\nThe dashboard, signed in as the council (for a day): {url}", markup=False)
    out.print(f"The public view: http://127.0.0.1:{port}/ui/ (Ctrl-C stops the server)",
              markup=False)  # fmt: skip
    settings = ServiceSettings.from_env(db=db, host="127.0.0.1", port=port, workers=1)
    run_server(settings, announce=lambda line: err.print(line, markup=False))
