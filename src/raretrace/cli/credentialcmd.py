"""``raretrace issuer ...`` (issuer keys, DID document, status list) and
``raretrace verify-credential``: certificates as W3C Verifiable Credentials, offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from raretrace.cli.main import app, out
from raretrace.credentials.datamodel import format_datetime, parse_datetime
from raretrace.credentials.diddoc import did_document
from raretrace.credentials.didweb import parse_did_web
from raretrace.credentials.evidence import evidence_check
from raretrace.credentials.files import read_issuer_key, read_text, read_trust, write_issuer_key
from raretrace.credentials.keys import new_issuer_key
from raretrace.credentials.securing import FORMATS, Format
from raretrace.credentials.statusfile import publish_status_list
from raretrace.credentials.statuslist import PURPOSES
from raretrace.credentials.verify import CredentialReport, NamedCheck, verify_credential
from raretrace.domain.errors import ConfigError, NotFound, VerificationError
from raretrace.trust import read_trust_file

__all__ = ["app", "issuer_app"]

issuer_app = typer.Typer(
    help="Issuer identity (did:web key, DID document) and the revocation status list.",
    no_args_is_help=True,
    # Plain help as the rest of the CLI (cli/main.py): Rich markup would drop "[...]" text.
    rich_markup_mode=None,
    context_settings={"max_content_width": 100},
)
app.add_typer(issuer_app, name="issuer")


def _now() -> datetime:
    return datetime.now(UTC)


@issuer_app.command("keygen")
def issuer_keygen(
    did: Annotated[
        str,
        typer.Option(metavar="DID", help="The issuer's did:web DID, e.g. did:web:council.example"),
    ],
    out_file: Annotated[
        Path,
        typer.Option("--out", metavar="FILE", help="Key file to create (0600, never overwritten)."),
    ],
) -> None:
    """Make the issuer's Ed25519 signing key for a did:web DID."""
    web = parse_did_web(did)
    key = new_issuer_key(did, created=format_datetime(_now()))
    write_issuer_key(out_file, key)
    out.print(
        f"issuer key for {did} → {out_file} (0600; keep it secret and backed up)\n"
        f"  JOSE kid / JsonWebKey method:    {key.key_id}\n"
        f"  Data Integrity Multikey method:  {key.multikey_id}\n"
        f"publish `raretrace issuer did-document --key {out_file}` at {web.did_json_url()}",
        markup=False,
    )


@issuer_app.command("did-document")
def issuer_did_document(
    key: Annotated[
        list[Path],
        typer.Option(
            "--key", metavar="FILE", help="Issuer key file; repeat to list older keys too."
        ),
    ],
) -> None:
    """Print the did:web DID document (did.json) listing the keys' public halves."""
    print(json.dumps(did_document(read_issuer_key(k) for k in key), indent=2))


@issuer_app.command("status-list")
def issuer_status_list(
    key: Annotated[
        Path, typer.Option("--key", metavar="FILE", help="The issuer key file that signs the list.")
    ],
    out_file: Annotated[
        Path,
        typer.Option("--out", metavar="FILE", help="Signed status list file to write or update."),
    ],
    url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="URL the list is published at [default: https://<did host>"
            "/credentials/status/<purpose>-1]; fixed when the list is created.",
        ),
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option(metavar="PURPOSE", help=f"{' or '.join(PURPOSES)} [default: revocation]"),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", metavar="FORMAT", help="jose (VC-JOSE JWS) or di (eddsa-jcs-2022)."
        ),
    ] = "jose",
    valid_days: Annotated[
        int,
        typer.Option(
            metavar="DAYS", help="Days until the signed list expires; re-run before then."
        ),
    ] = 7,
    revoke: Annotated[
        list[int] | None,
        typer.Option(
            metavar="INDEX", help="Set this credential's statusListIndex (revoke); repeat."
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Why (kept in the state file).")
    ] = None,
) -> None:
    """Write or re-sign the issuer's status list (state kept in <out>.state.json)."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    chosen: Format = "jose" if fmt == "jose" else "di"
    published = publish_status_list(
        read_issuer_key(key), out_file, url=url, purpose=purpose, fmt=chosen,
        valid_days=valid_days, revoke=revoke or (), reason=reason, now=_now(),
    )  # fmt: skip
    newly = ", ".join(map(str, published.newly_set)) or "none"
    out.print(
        f"{published.purpose} list {published.list_url} → {out_file} ({published.entries}"
        f" entries, {published.allocated} given out, {len(published.set_indexes)} set; newly"
        f" set: {newly}); valid until {published.valid_until}; state in {published.state_file}",
        markup=False,
    )


@app.command("verify-credential")
def verify_credential_cmd(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="A credential: a VC-JOSE JWS or a JSON credential."),
    ],
    trust: Annotated[
        list[Path] | None,
        typer.Option(metavar="DID_DOC", help="A trusted issuer's DID document (did.json); repeat."),
    ] = None,
    status_list: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="FILE", help="The status list file a credentialStatus points at; repeat."
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="Check validity at this RFC 3339 time [default: now]."),
    ] = None,
    evidence: Annotated[
        Path | None,
        typer.Option(
            metavar="BUNDLE",
            help="The evidence.json issued with it: verify it and recompute every number.",
        ),
    ] = None,
    ledger_trust: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="With --evidence: the ledger's trust file (log vkey, registry key, witnesses).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check a credential offline: securing, validity, VC 2.0 data model, status, and with
    --evidence the bundle it rests on."""
    if not trust:
        raise ConfigError(
            "pass --trust DID_DOC: the did.json of each issuer you trust (the credential's, and"
            " its status list's); nothing is fetched over the network"
        )
    extra = _evidence(evidence, ledger_trust)
    report = verify_credential(
        read_text(file, "credential"), trust=read_trust(trust), at=_moment(at),
        status_lists=[(str(p), read_text(p, "status list")) for p in status_list or ()],
        extra=extra,
    )  # fmt: skip
    if as_json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        if not report.valid:
            raise typer.Exit(1)
        return
    _render(report)


def _evidence(bundle: Path | None, ledger_trust: Path | None) -> list[NamedCheck]:
    """The ``evidence`` check, when a bundle is given (with the ledger's trust file)."""
    if bundle is None:
        if ledger_trust is not None:
            raise ConfigError("--ledger-trust is for checking --evidence BUNDLE; pass both")
        return []
    if ledger_trust is None:
        raise ConfigError(
            "--evidence needs --ledger-trust FILE: the ledger's trust file (`raretrace export"
            " --write-trust` writes it; the council publishes it); keys inside a bundle are"
            " never trusted on their own"
        )
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        raise NotFound(f"cannot read the bundle {bundle}: {exc.strerror}") from None
    return [evidence_check(data, read_trust_file(ledger_trust), source=str(bundle))]


def _moment(at: str | None) -> datetime:
    if at is None:
        return _now()
    try:
        return parse_datetime(at, "--at")
    except VerificationError as exc:
        raise ConfigError(exc.message) from None


def _render(report: CredentialReport) -> None:
    for check in report.checks:
        out.print(f"{'ok ' if check.ok else 'FAIL'} {check.check}: {check.detail}", markup=False)
    failure = report.first_failure
    if failure is not None:
        raise VerificationError(f"credential NOT valid: {failure.check}: {failure.detail}")
    credential = report.credential or {}
    out.print(f"credential {credential.get('id', '(no id)')} is valid", markup=False)
