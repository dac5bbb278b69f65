"""``raretrace export LOT --bundle FILE`` and ``raretrace verify FILE``: evidence bundles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from raretrace.cli import render
from raretrace.cli.main import DbOption, _check_output, _store, app, out
from raretrace.domain.errors import ConfigError, VerificationError
from raretrace.ledger.bundle import export_bundle, trust_file
from raretrace.verify import Verdict, read_trust_file, verify_file

__all__ = ["app"]


@app.command()
def export(
    lot: Annotated[str, typer.Argument(metavar="LOT", help="Lot id.")],
    bundle: Annotated[
        Path,
        typer.Option(
            "--bundle", metavar="FILE", help="Write the lot's evidence bundle (JSON) here."
        ),
    ],
    db: DbOption = None,
    write_trust: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Also write this ledger's keys as a trust file, to publish."
        ),
    ] = None,
    checkpoint: Annotated[
        int | None,
        typer.Option(metavar="SIZE", help="Prove against the stored checkpoint of this tree size."),
    ] = None,
    cosigned: Annotated[
        bool,
        typer.Option(
            "--cosigned", help="Prove against the newest checkpoint a witness has cosigned."
        ),
    ] = False,
) -> None:
    """Write a lot's evidence bundle: its lineage's events, proofs, checkpoint and keys."""
    _check_output(bundle, "the bundle")  # both before anything is written
    if write_trust is not None:
        _check_output(write_trust, "the trust file")
    store = _store(db)
    built = export_bundle(store, lot, checkpoint=checkpoint, cosigned=cosigned)
    bundle.write_bytes(built.data)
    if write_trust is not None:
        write_trust.write_text(trust_file(store), encoding="utf-8")
    v = built.verdict
    out.print(
        f"bundle for lot {lot}: {v.custody_events} events and {v.registry_events} registry"
        f" records, proven against checkpoint size {v.checkpoint.size}"
        f" ({len(built.data):,} bytes) → {bundle}"
    )


@app.command()
def verify(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="An evidence bundle (`raretrace export --bundle`)."),
    ],
    trust: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Trusted keys: the log's vkey, witness vkeys, 'registry <base64 key>' lines.",
        ),
    ] = None,
    witnesses: Annotated[
        int | None,
        typer.Option(
            metavar="N", help="Trusted witness cosignatures required [default: 1 if any listed]."
        ),
    ] = None,
) -> None:
    """Check a bundle offline; exit code 1 naming what failed."""
    if trust is None:
        raise ConfigError(
            "pass --trust KEYS: a file with the log's vkey, a 'registry <base64 key>' line and"
            " the witness vkeys you trust; keys inside a bundle are never trusted on their own"
        )
    try:
        verdict = verify_file(file, read_trust_file(trust), witnesses=witnesses)
    except VerificationError as exc:
        raise VerificationError(f"NOT VERIFIED: {exc.message}") from None
    _render(verdict)


def _render(v: Verdict) -> None:
    lot, cp = v.lot, v.checkpoint
    cosigned = (
        f"cosigned by {len(v.witnesses)} trusted witness(es) ({', '.join(v.witnesses)})"
        if v.witnesses
        else "no witness cosignature required"
    )
    countries = render.join_shares(v.origin_by_country())
    out.print(f"VERIFIED: lot {lot.id} ({lot.form}, {render.kg(lot.mass_kg)} kg, {lot.status})")
    out.print(f"  checkpoint: {cp.origin} size {cp.size}, log signature trusted; {cosigned}")
    out.print(
        f"  {v.custody_events} events and {v.registry_events} registry records: inclusion"
        f" proofs and signatures check ({len(v.participants)} participants)"
    )
    out.print(
        f"  custody chain, {v.transforms} transforms' mass balance (tolerance"
        f" {v.tolerance.relative:.4%} or {render.kg(v.tolerance.absolute_kg)} kg), claimed state"
        " and provenance recomputed"
    )
    out.print(
        "  origin by country (share of the rare-earth element mass in this lot):"
        f" {countries or 'none'}"
    )
    _render_upstream(v)


def _render_upstream(v: Verdict) -> None:
    """The receipts in the lineage that weighed more or less than shipped: information for the
    buyer, not a failure (the custody chain and every mass balance checked)."""
    if not v.discrepancies:
        out.print("  discrepancies upstream: none (every receipt weighed what was shipped)")
        return
    out.print(
        f"  discrepancies upstream (information, not a failure): {len(v.discrepancies)}"
        " receipt(s) weighed more or less than was shipped, beyond the tolerance:"
    )
    for d in v.discrepancies:
        out.print(f"    {render.receipt_line(d)}", markup=False)
