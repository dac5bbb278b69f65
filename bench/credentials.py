"""Benchmark: issuing and verifying a magnet lot's credentials (issue 10).

    python bench/credentials.py [--events 20000] [--db PATH] [--runs 50]

Builds the signed demo ledger (``raretrace demo``; not timed) unless PATH holds one, picks the
typical magnet lot (the median lineage among the first 60 active magnet lots; ``--lot`` to
choose another), exports its evidence bundle once, and prints the median
(p50) and p90 of:

- **issue**: the passport built from the bundle's recomputed lot and signed (VC-JOSE), plus
  one DCC signed — what ``certify`` does per credential once the ledger is read (target
  ≤ 20 ms);
- **certify**: the whole ``certify_lot`` (ledger reads, compliance packs, bundle export, every
  DCC and the DPP, files) — information, no target;
- **verify**: ``verify_credential`` of the passport: securing, validity, data model, status
  (target ≤ 5 ms);
- **verify + evidence**: the same with ``--evidence``: the bundle verified and every number
  recomputed (target ≤ 50 ms with the bundle of a typical demo magnet lot).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from audit import demo_ledger  # bench/ is on the path when run as a script

from raretrace.credentials import build_trust, did_document, new_issuer_key, secure
from raretrace.credentials.evidence import evidence_check, related_resources
from raretrace.credentials.statusfile import publish_status_list
from raretrace.credentials.untp import Envelope, conformity_credential, product_passport
from raretrace.credentials.verify import verify_credential
from raretrace.ledger.bundle import export_bundle, own_trust
from raretrace.ledger.certify import CertifyRequest, certify_lot
from raretrace.ledger.recompute import StoredHistory
from raretrace.ledger.settings import LedgerSettings
from raretrace.store.store import Store
from raretrace.verify import closure_events, expected_view, lineage_closure


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(p50, p90) in milliseconds over ``runs`` calls, after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def typical_magnet(store: Store, sample: int = 60) -> tuple[str, int]:
    """The active magnet lot whose lineage (the events its bundle holds) is the median among
    the first ``sample`` active magnet lots, and that count."""
    lots = [lot.id for lot in store.lots(form="magnet", status="active", limit=sample)]
    if not lots:
        raise SystemExit("the demo ledger holds no active magnet lot; build it with more --events")
    with store.engine.connect() as conn:
        history = StoredHistory(conn)
        sizes = sorted((len(closure_events(history, lineage_closure(history, lot))), lot)
                       for lot in lots)  # fmt: skip
    size, lot = sizes[len(sizes) // 2]
    return lot, size


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--db", type=Path, help="demo ledger (default: a new one in a temp dir)")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--lot", help="the lot to certify [default: a typical magnet lot]")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="raretrace-credentials-bench-"))
    db = args.db or work / "demo.db"
    demo_ledger(db, args.events)
    store = Store.open(str(db), access="read")
    lot, _ = typical_magnet(store)
    if args.lot:
        lot = args.lot
    now = datetime.now(UTC)
    key = new_issuer_key("did:web:council.example", created="2026-01-01T00:00:00Z")
    trust = build_trust([("did.json", did_document([key]))])
    status_file = work / "revocation.jwt"
    publish_status_list(key, status_file, now=now)
    built = export_bundle(store, lot)
    verdict = built.verdict
    print(
        f"lot {lot}: {verdict.custody_events} events in its bundle ({len(built.data):,} bytes),"
        f" {len(verdict.lot.elements_kg)} elements"
    )
    related = related_resources(
        bundle=built.data, evidence_url="https://council.example/c/evidence.json",
        checkpoint_note=json.loads(built.data)["checkpoint"], origin=verdict.checkpoint.origin,
        size=verdict.checkpoint.size,
    )  # fmt: skip
    envelope = Envelope(
        credential_id="urn:uuid:0", issuer=key.did, valid_from="2026-01-01T00:00:00Z",
        valid_until="2099-01-01T00:00:00Z", status=None, related=related,
    )  # fmt: skip
    result = {"pack": "us-dfars", "rule": "r", "status": "pass", "summary": "s", "reasons": []}

    def issue() -> str:
        passport = product_passport(envelope, expected_view(verdict.lot), claims=[])
        secure(conformity_credential(envelope, result, lot_id=lot, as_of="2027-02-01"), key,
               fmt="jose", now=now)  # fmt: skip
        return secure(passport, key, fmt="jose", now=now)

    token = issue()
    ledger_trust = own_trust(LedgerSettings.from_meta(store.meta()))
    lists = [(str(status_file), status_file.read_text())]
    check = evidence_check(built.data, ledger_trust)

    def verify(extra: bool) -> None:
        report = verify_credential(token, trust=trust, at=now, status_lists=lists,
                                   extra=[check] if extra else [])  # fmt: skip
        report.require_valid()

    counter = iter(range(10**6))

    def certify() -> None:
        request = CertifyRequest(
            lot=lot, issuer=key, status_list=status_file, out=work / f"out-{next(counter)}",
            as_of=date(2027, 2, 1), now=now,
        )  # fmt: skip
        certify_lot(str(db), request)

    rows = [
        ("issue (DPP + one DCC, VC-JOSE)", timed(issue, args.runs), "≤ 20 ms"),
        ("certify (whole command, all DCCs)", timed(certify, max(5, args.runs // 10)), "—"),
        ("verify (no evidence)", timed(lambda: verify(False), args.runs), "≤ 5 ms"),
        ("verify + evidence bundle", timed(lambda: verify(True), args.runs), "≤ 50 ms"),
    ]
    for name, (p50, p90), target in rows:
        print(f"{name:36} p50 {p50:8.2f} ms   p90 {p90:8.2f} ms   target {target}")
    store.close()


if __name__ == "__main__":
    main()
