"""``raretrace audit``: replay the store from its events and report every difference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from raretrace.cli.main import DbOption, _store, app, err, out
from raretrace.domain.errors import ConfigError, NotFound
from raretrace.ledger.audit import AuditReport, audit_ledger

__all__ = ["app"]

_RANK = {
    check: rank
    for rank, check in enumerate(
        ("sequence", "signature", "canonical", "rules", "tables", "lineage", "checkpoints", "tiles")
    )
}


@app.command()
def audit(
    db: DbOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Recompute the lineage of every lot, not a sample.")
    ] = False,
    sample: Annotated[
        int, typer.Option(metavar="N", help="Lots whose lineage is recomputed.", min=0)
    ] = 200,
    vkey: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="The log's verifier key to trust [default: log.vkey in the log dir].",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(metavar="N", help="Differences listed (0: all kept).", min=0)
    ] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    require_signatures: Annotated[
        bool,
        typer.Option(
            "--require-signatures",
            help="Check every event's signature even if the settings allow unsigned.",
        ),
    ] = False,
) -> None:
    """Replay every event and compare with everything stored; exit code 1 on any difference."""
    trusted = _read_vkey(vkey) if vkey else None
    report = audit_ledger(
        _store(db), lineage_sample=sample, full=full, vkey=trusted,
        require_signatures=require_signatures,
    )  # fmt: skip
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        _render(report, limit)
    if not report.ok:
        raise typer.Exit(1)


def _read_vkey(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise NotFound(f"cannot read the verifier key {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        text = ""
    if not text or "\n" in text:
        raise ConfigError(
            f"{path} does not hold one verifier key line; give the file `raretrace log vkey` wrote"
        )
    return text


def _render(report: AuditReport, limit: int) -> None:
    # Causes first: a deleted event also changes every later tile and checkpoint.
    ranked = sorted(report.findings, key=lambda f: _RANK.get(f.check, len(_RANK)))
    shown = ranked[:limit] if limit else ranked
    for finding in shown:
        err.print(finding.line(), markup=False)
    if report.total_findings > len(shown):
        err.print(
            f"... {report.total_findings - len(shown)} more differences; "
            "use --limit 0 or --json to see them"
        )
    verdict = "OK" if report.ok else f"{report.total_findings} DIFFERENCES"
    out.print(
        f"audit {verdict}: {report.events:,} events checked in {report.seconds:.1f} s "
        f"({report.events_per_s:,.0f} events/s), {report.lots:,} lots, "
        f"{report.checkpoints:,} checkpoints, {report.tiles:,} tiles, "
        f"{report.lineage_lots:,} lineages recomputed; log size {report.tree_size:,}, "
        f"root {report.root or '-'}",
        markup=False,
    )
    if report.by_check:
        out.print(
            "by check: " + ", ".join(f"{k} {v}" for k, v in sorted(report.by_check.items())),
            markup=False,
        )
