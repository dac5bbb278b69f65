"""``raretrace certify LOT`` (a lot's UNTP passport and conformity credentials, bound to its
evidence bundle) and ``raretrace revoke CREDENTIAL_ID`` (docs/credentials.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from raretrace.cli.checkcmd import _amount
from raretrace.cli.main import DbOption, _check_output, _db, app, out
from raretrace.compliance.service import check_value, parse_as_of
from raretrace.credentials.files import read_issuer_key
from raretrace.credentials.qr import write_qr_svg
from raretrace.credentials.securing import FORMATS, Format
from raretrace.domain.errors import ConfigError
from raretrace.ledger.certify import Certified, CertifyRequest, certify_lot, revoke_credential
from raretrace.ledger.keyfiles import read_key_file

__all__ = ["app"]

IssuerKeyOption = Annotated[
    Path, typer.Option("--issuer-key", metavar="FILE", help="The issuer's key file.")
]
StatusListOption = Annotated[
    Path,
    typer.Option(
        "--status-list",
        metavar="FILE",
        help="The issuer's status list (as `issuer status-list --out` manages it).",
    ),
]


@app.command()
def certify(
    lot: Annotated[str, typer.Argument(metavar="LOT", help="Lot id.")],
    issuer_key: IssuerKeyOption,
    status_list: StatusListOption,
    out_dir: Annotated[
        Path,
        typer.Option("--out", metavar="DIR", help="New (or empty) folder for the credentials."),
    ],
    as_of: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help="Judge compliance as of [default: today, UTC]."),
    ] = None,
    declared_value_usd: Annotated[
        str | None,
        typer.Option(metavar="USD", help="The lot's declared value (cn-mofcom's 0.1% test)."),
    ] = None,
    scheme: Annotated[
        str | None,
        typer.Option(
            metavar="SCHEME",
            help="Claim the whole lot for this scheme (recorded; refused if already claimed).",
        ),
    ] = None,
    custodian_key: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="The lot custodian's key file, to sign the claim."),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", metavar="FORMAT", help="jose (VC-JOSE JWS) or di (eddsa-jcs-2022)."
        ),
    ] = "jose",
    qr: Annotated[
        Path | None,
        typer.Option(metavar="FILE.svg", help="Also write a QR code of the passport's URL."),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Where --out folders are published [default: https://<did host>/credentials].",
        ),
    ] = None,
    valid_days: Annotated[
        int, typer.Option(metavar="DAYS", help="Days the credentials are valid for.")
    ] = 365,
    db: DbOption = None,
) -> None:
    """Issue a lot's Digital Product Passport and one Conformity Credential per check result."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if qr is not None:
        _check_output(qr, "the QR code")
    chosen: Format = "jose" if fmt == "jose" else "di"
    request = CertifyRequest(
        lot=lot, issuer=read_issuer_key(issuer_key), status_list=status_list, out=out_dir,
        as_of=parse_as_of(as_of), now=datetime.now(UTC), fmt=chosen,
        declared_value_usd=check_value(_amount(declared_value_usd)), scheme=scheme,
        custodian=read_key_file(custodian_key) if custodian_key else None,
        base_url=base_url, valid_days=valid_days,
    )  # fmt: skip
    certified = certify_lot(_db(db), request)
    if qr is not None:
        write_qr_svg(certified.passport.url, qr)
    _render(certified, qr)


def _render(c: Certified, qr: Path | None) -> None:
    print_ = out.print
    print_(
        f"certified lot {c.lot} (evidence proven against checkpoint size {c.checkpoint_size})"
        f" → {c.passport.path.parent}",
        markup=False,
    )
    print_(
        f"  {c.passport.path.name}: Digital Product Passport {c.passport.credential_id}"
        f" (status index {c.passport.status_index})",
        markup=False,
    )
    for issued, result in zip(c.conformity, c.results, strict=True):
        print_(
            f"  {issued.path.name}: {result.pack} {result.rule}: {result.status}"
            f" ({issued.credential_id}, status index {issued.status_index})",
            markup=False,
        )
    print_(f"  {c.evidence.name}: the lot's evidence bundle", markup=False)
    if c.claim_event is not None:
        print_(f"  claim {c.claim_event} recorded in the ledger", markup=False)
    print_(f"publish the folder at {c.folder_url}; the passport is {c.passport.url}", markup=False)
    if qr is not None:
        print_(f"QR code of {c.passport.url} → {qr}", markup=False)


@app.command()
def revoke(
    credential_id: Annotated[
        str, typer.Argument(metavar="CREDENTIAL_ID", help="The credential's id (urn:uuid:...).")
    ],
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why (recorded in the ledger).")],
    issuer_key: IssuerKeyOption,
    status_list: StatusListOption,
    db: DbOption = None,
) -> None:
    """Revoke a credential: log a revocation event and set its bit in the status list."""
    done = revoke_credential(
        _db(db), credential_id, reason=reason, issuer=read_issuer_key(issuer_key),
        status_list=status_list, now=datetime.now(UTC),
    )  # fmt: skip
    logged = "logged" if done.event_logged else "was already in the ledger"
    about = f" (lot {done.lot})" if done.lot else ""
    out.print(
        f"revoked {done.credential_id}{about}: event {done.event_id} {logged}; index"
        f" {done.index} set in {status_list} (valid until {done.valid_until}); publish it at"
        f" {done.list_url}",
        markup=False,
    )
