"""The tour ``raretrace demo`` prints: what was built, what its words mean, one magnet traced
from mine to magnet, a claim on a magnet's material, one leak flagged, that magnet under every
compliance pack today and in 2027, one analytics chart of each kind and a scenario, and the
next commands to try on this very ledger."""

from __future__ import annotations

import shlex
from datetime import UTC, date, datetime
from typing import Any

from rich.console import Console

from raretrace.cli import render, tourcharts
from raretrace.cli.democerts import DemoCertificates
from raretrace.cli.tourcharts import TourCharts
from raretrace.compliance import service as compliance
from raretrace.domain.model import STAGES, Lot
from raretrace.service import reads
from raretrace.service.ingest import IngestReport
from raretrace.service.ledgers import Store

__all__ = ["EVENT_WORDS", "STATUS_WORDS", "show"]

#: What each event type records, in words (docs/formats.md has the fields).
EVENT_WORDS = {
    "participant": "a registry record: a company, with its signing keys",
    "facility": "a registry record: a site, its stages (mine, separation, ...) and operator",
    "extract": "material taken from a mine (or a scrap stream) becomes a new lot",
    "ship": "a lot leaves a facility for another; it is in transit until received",
    "receive": "the consignee takes delivery and records the mass that arrived",
    "transform": "a process (separation, reduction, alloying, magnet making, recycling) uses"
    " input lots and makes new ones; a split divides a lot, a merge combines lots",
    "adjust": "a recorded loss or gain on a lot (sampling, spillage, moisture, write-off)",
    "claim": "a share of a lot's material claimed under a scheme (a subsidy, recycled content)",
    "revocation": "a certificate about a lot revoked by its issuer",
}

#: What each lot status means.
STATUS_WORDS = {
    "active": "at a facility, can be used or shipped",
    "in_transit": "shipped, not yet received",
    "consumed": "used up by a transform (its material lives on in the lots made from it)",
    "written_off": "adjusted to nothing (lost or scrapped)",
}


def show(
    out: Console, store: Store, report: IngestReport, elapsed: float, *,
    certificates: DemoCertificates | None = None, charts: TourCharts | None = None,
) -> None:  # fmt: skip
    """Print the tour of a freshly built demo ledger (and the certificates the demo issued,
    and the analytics charts it wrote)."""
    counts = reads.counts(store)
    out.print(
        f"[bold]raretrace demo[/] — {report.accepted:,} events in {elapsed:.1f} s "
        f"({report.accepted / max(elapsed, 1e-9):,.0f} events/s), "
        f"{report.rejected:,} rejected, {report.discrepancies:,} discrepancies"
    )
    if report.rejections:
        first = report.rejections[0]
        out.print(f"[red]first rejection[/] line {first.line}: {first.error.message}")
    _glossary(out, counts)
    magnet = _showcase_magnet(store)
    if magnet is not None:
        _magnet(out, reads.trace(store, magnet.id))
    _claim(out, store)
    _leak(out, store)
    if magnet is not None:
        _compliance(out, store, magnet.id)
    if certificates is not None:
        _certificates(out, certificates)
    if charts is not None:
        tourcharts.show(out, charts)
    _next(out, store.url, magnet, certificates, charts)


def _glossary(out: Console, counts: dict[str, Any]) -> None:
    out.print("\n[bold]What was recorded[/] (events, by type):")
    for kind, number in sorted(counts["events"].items()):
        words = EVENT_WORDS.get(kind, "")
        out.print(f"  {kind} {number:,}: {words}", markup=False)
    out.print("[bold]Lots now[/] (by status):")
    for status, number in sorted(counts["lots"].items()):
        words = STATUS_WORDS.get(status, "")
        out.print(f"  {status} {number:,}: {words}", markup=False)


def _showcase_magnet(store: Store) -> Lot | None:
    """A magnet lot worth showing: made in Malaysia if any, from the most source mines."""
    best: tuple[int, int, str] | None = None
    chosen = None
    for lot in reads.lots(store, reads.LotFilter(form="magnet"), limit=5000).lots:
        mines = {m for shares in lot.provenance.by_mine.values() for m in shares}
        score = (int(lot.provenance.path[-1].country == "MY"), len(mines), lot.id)
        if best is None or score > best:
            best, chosen = score, lot
    return chosen


def _magnet(out: Console, view: dict[str, Any]) -> None:
    out.print(
        f"\n[bold]Trace of magnet lot {view['lot']}[/] ({render.kg(view['mass_kg'])} kg),"
        " where its magnet elements came from:"
    )
    for element in render.MAGNET_ELEMENTS:
        shares = view["origin"]["by_country"].get(element)
        if shares:
            out.print(
                f"  {element}: {render.kg(view['elements_kg'][element])} kg, from"
                f" {render.join_shares(shares)} (shares of the {element} in this lot)",
                markup=False,
            )
    out.print("  passed through, by stage:")
    for stage in STAGES:
        places = [f"{s['facility']} ({s['country']})" for s in view["path"] if s["stage"] == stage]
        if places:
            out.print(f"    {stage}: {', '.join(places)}", markup=False)
    upstream = view["discrepancies"]
    if upstream:
        out.print(
            f"  {len(upstream):,} receipt(s) upstream weighed more or less than was shipped;"
            f" the first: {render.receipt_line(render.JsonReceipt(upstream[0]))}",
            markup=False,
        )


def _claim(out: Console, store: Store) -> None:
    """A magnet whose material was claimed (recycled content first), as ``trace`` shows it."""
    from raretrace.demo.generate import RECYCLED_SCHEME

    claimed = [
        lot for lot in reads.lots(store, reads.LotFilter(form="magnet"), limit=5000).lots
        if lot.provenance.claimed
    ]  # fmt: skip
    if not claimed:
        return
    lot = min(claimed, key=lambda x: (RECYCLED_SCHEME not in x.provenance.claimed, x.id))
    view = reads.trace(store, lot.id)
    out.print(
        f'\n[bold]Claimed[/]: magnet lot {lot.id} (trace\'s "claimed": the share of each'
        " element claimed under a scheme, on this lot or the material it was made from):"
    )
    for scheme, shares in view["claimed"].items():
        out.print(f"  {scheme}: {render.join_shares(shares)}", markup=False)
    out.print(
        "  claimed shares travel with the material by mass balance; a claim that would take"
        " any element's share for a scheme above 100% is refused (double-claim)",
        markup=False,
    )


def _leak(out: Console, store: Store) -> None:
    found = reads.discrepancies(store, limit=1)
    if not found:
        return
    d = found[0]
    out.print(
        f"\n[bold]Leakage flagged[/]: lot {d.lot} left {d.origin} weighing"
        f" {render.kg(d.shipped_kg)} kg and arrived at {d.destination} weighing"
        f" {render.kg(d.received_kg)} kg ({render.signed_kg(d.delta_kg)} kg,"
        f" {render.signed_share(d.delta_kg / d.shipped_kg if d.shipped_kg else 0.0)}): a"
        " receipt that differs from its shipment beyond the tolerance is accepted and flagged"
    )


#: The second date the tour checks the magnet on: after DFARS 252.225-7052's restriction
#: reaches mining, refining and separation (2027-01-01).
LATER = date(2027, 2, 1)


def _compliance(out: Console, store: Store, lot: str) -> None:
    """The magnet under every pack as of today and as of ``LATER``, side by side."""
    today = datetime.now(UTC).date()
    now, later = (compliance.check_lot(store, lot, as_of=day) for day in (today, LATER))
    out.print(
        f"\n[bold]Compliance of magnet lot {lot}[/] (raretrace check: each pack's answer,"
        " docs/compliance.md):"
    )
    rows = render.table("pack", "rule", f"as of {today}", f"as of {LATER}", ids=("pack",))
    for a, b in zip(now.results, later.results, strict=True):
        rows.add_row(a.pack, a.rule, a.status, b.status)
    render.print_table(out, rows)
    out.print(f"  why, as of {LATER}:", markup=False)
    for result in later.results:
        if result.status != "pass":
            out.print(f"    {result.pack} ({result.status}): {result.summary}", markup=False)


def _certificates(out: Console, certs: DemoCertificates) -> None:
    """The passport and conformity credentials the demo council issued, and their check."""
    c = certs.certified
    out.print(
        f"\n[bold]Certificates for magnet lot {c.lot}[/] (raretrace certify as of {LATER}: W3C"
        " Verifiable Credentials in UNTP shapes, docs/credentials.md), in"
        f" {certs.folder}:",
        markup=True,
    )
    out.print(f"  {c.passport.path.name}: Digital Product Passport {c.passport.credential_id}",
              markup=False)  # fmt: skip
    for issued, result in zip(c.conformity, c.results, strict=True):
        out.print(f"  {issued.path.name}: {result.pack} {result.status}", markup=False)
    out.print(f"  {c.evidence.name}: the lot's evidence bundle they are bound to", markup=False)
    verdict = "valid" if certs.report.valid else "NOT valid"
    out.print(f"  verified offline, with the evidence: {verdict}", markup=False)
    for check in certs.report.checks:
        out.print(f"    {'ok ' if check.ok else 'FAIL'} {check.check}: {check.detail}",
                  markup=False)  # fmt: skip


def _next(
    out: Console, db: str, magnet: Lot | None, certs: DemoCertificates | None = None,
    charts: TourCharts | None = None,
) -> None:  # fmt: skip
    """The next commands to try, with this ledger's path and a real lot id."""
    ledger = f"raretrace --db {shlex.quote(db)}"
    lines = [
        (f"{ledger} lots --form magnet", "list lots (--json for JSON Lines)"),
        (f"{ledger} discrepancies", "every receipt that arrived lighter or heavier"),
    ]
    if magnet is not None:
        lot = shlex.quote(magnet.id)
        lines = [
            (f"{ledger} trace {lot}", "the whole trace (--json for machines)"),
            *lines,
            (
                f"{ledger} export {lot} --bundle magnet-bundle.json --write-trust demo-trust.txt",
                "the lot's evidence bundle, and this ledger's public keys to check it with",
            ),
            (
                "raretrace verify magnet-bundle.json --trust demo-trust.txt",
                "check the bundle offline: no database, only the file and trusted keys",
            ),
            (
                f"{ledger} check {lot} --as-of {LATER}",
                "every pack's answer with its reasons and events (exit code 1: a `fail`)",
            ),
            (
                f"{ledger} portfolio --received-by js-link --from 2025-01-01 --to 2025-12-31",
                "the EU CRMA single-country benchmark on what JS Link received in 2025",
            ),
        ]
    if certs is not None:
        passport = certs.certified.passport.path
        lines.append((
            f"raretrace verify-credential {shlex.quote(str(passport))} --trust"
            f" {shlex.quote(str(certs.did_json))} --status-list"
            f" {shlex.quote(str(certs.status_list))} --evidence"
            f" {shlex.quote(str(certs.certified.evidence))} --ledger-trust"
            f" {shlex.quote(str(certs.ledger_trust))}",
            "check the magnet's passport offline, and every number of it against its evidence",
        ))  # fmt: skip
    if charts is not None:
        lines += tourcharts.commands(ledger, charts)
    lines.append((f"{ledger} audit", "replay every event and check every table and the log"))
    out.print("\n[bold]Next, try[/]:")
    for command, why in lines:
        out.print(f"  {command}", markup=False)
        out.print(f"      {why}", markup=False)
