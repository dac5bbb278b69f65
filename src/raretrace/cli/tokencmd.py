"""``raretrace token``: bearer tokens for the HTTP service (issue, revoke, list)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from raretrace.cli import render
from raretrace.cli.main import PLAIN_HELP, DbOption, JsonFlag, _store, app, out
from raretrace.service import tokens
from raretrace.service.access import TOKEN_ROLES

__all__ = ["token_app"]

token_app = typer.Typer(
    help="Bearer tokens for `raretrace serve`: one per participant and role.",
    no_args_is_help=True,
    **PLAIN_HELP,
)
app.add_typer(token_app, name="token")


@token_app.command("issue")
def token_issue(
    participant: Annotated[
        str, typer.Option(metavar="ID", help="The participant (or council / witness name).")
    ],
    role: Annotated[str, typer.Option(metavar="ROLE", help=f"One of: {', '.join(TOKEN_ROLES)}.")],
    expires: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Last day the token works (YYYY-MM-DD, UTC) or an RFC 3339 time [default: never]",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Make a token and print it once: only its SHA-256 is stored, so keep it now."""
    issued = tokens.issue(_store(db, write=True), participant=participant, role=role,
                          expires=expires)  # fmt: skip
    record = issued.record
    print(issued.bearer)
    until = f"until {record.expires}" if record.expires else "with no expiry"
    typer.echo(
        f"token {record.id} for {record.participant} as {record.role}, {until}; it is shown"
        " only now: give it to its holder over a safe channel",
        err=True,
    )


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID", help="The id `token list` shows.")],
    db: DbOption = None,
) -> None:
    """Revoke a token: the service refuses it from the next request on."""
    record, now = tokens.revoke(_store(db, write=True), token_id)
    when = "" if now else f" (already revoked on {record.revoked})"
    out.print(f"token {record.id} of {record.participant} ({record.role}) revoked{when}")


@token_app.command("list")
def token_list(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """List every token issued, oldest first, with its state (secrets are never shown)."""
    found = tokens.listed(_store(db))
    now = datetime.now(UTC)
    if as_json:
        for record in found:
            print(json.dumps(record.to_json(now)))
        return
    rows = render.table("token", "participant", "role", "created", "expires", "state",
                        ids=("token", "participant"))  # fmt: skip
    for r in found:
        rows.add_row(r.id, r.participant, r.role, r.created, r.expires or "never", r.state(now))
    render.print_table(out, rows)
    out.print(f"{len(found)} tokens")
