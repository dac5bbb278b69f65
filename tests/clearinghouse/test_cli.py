"""The clearinghouse on the command line (a council without the service), as real processes on
a signed demo ledger, SQLite and PostgreSQL: each workflow end to end, every refusal one line
with its rule, exit 1, and the ledger unchanged; the audit clean afterwards."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from service_support import DemoLedger, build_demo

from cli_support import run

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> DemoLedger:
    db = str(tmp_path / "ledger.db")
    if request.param == "postgresql":
        db = request.getfixturevalue("fresh_pg_url")
    return build_demo(tmp_path / "demo", db, events=60)


def _ok(demo: DemoLedger, *args: str) -> str:
    done = run("--db", demo.db, *args, cwd=demo.folder)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _refused(demo: DemoLedger, rule: str, *args: str) -> str:
    before = demo.size()
    done = run("--db", demo.db, *args, cwd=demo.folder)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.startswith(f"error: [{rule}] ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert demo.size() == before
    return done.stderr


def _json(text: str) -> Any:
    return json.loads(text)


def _key(who: str) -> str:
    return f"inputs/keys/{who}.key"


def test_licences(demo: DemoLedger) -> None:
    said = _ok(
        demo,
        "licence",
        "issue",
        "LIC-HRE2-STATE",
        "--key",
        _key("ptg-pahang"),
        "--holder",
        "lynas-my",
        "--kind",
        "operating",
        "--facility",
        "MY-LYNAS-HRE2",
        "--valid-from",
        "2026-01-01T00:00:00Z",
        "--valid-until",
        "2028-01-01T00:00:00Z",
        "--time",
        "2026-01-02T00:00:00Z",
    )
    assert said.startswith("licence LIC-HRE2-STATE issued by ptg-pahang: event licensing-issue:")
    error = _refused(
        demo,
        "licence-jurisdiction",
        "licence",
        "renew",
        "LIC-HRE2-STATE",
        "--key",
        _key("ptg-perak"),
        "--valid-until",
        "2030-01-01T00:00:00Z",
    )
    assert "'ptg-perak' is an authority of MY-08" in error
    _refused(  # a state authority on a federal licence in its state
        demo,
        "licence-issuer",
        "licence",
        "suspend",
        "LIC-LAMP-OP",
        "--key",
        _key("ptg-pahang"),
        "--reason",
        "x",
    )
    _ok(
        demo,
        "licence",
        "suspend",
        "LIC-HRE2-STATE",
        "--key",
        _key("aelb-my"),
        "--reason",
        "survey due",
        "--time",
        "2026-03-01T00:00:00Z",
    )  # a national authority over a state issuer
    _refused(
        demo,
        "licence-suspended",
        "licence",
        "suspend",
        "LIC-HRE2-STATE",
        "--key",
        _key("ptg-pahang"),
        "--reason",
        "again",
    )
    shown = _json(_ok(demo, "licence", "show", "LIC-HRE2-STATE", "--json"))
    assert shown["standing"] == "suspended" and shown["suspensions"][0]["by"] == "aelb-my"
    assert [(h["action"], h["by"]) for h in shown["history"]] == [
        ("issue", "ptg-pahang"),
        ("suspend", "aelb-my"),
    ]
    listed = [json.loads(x) for x in _ok(demo, "licence", "list", "--json").splitlines()]
    assert {x["id"]: x["standing"] for x in listed}["LIC-KENERING-MINE"] == "suspended"


def test_agreements(demo: DemoLedger) -> None:
    terms = {
        "id": "AGR-CLI",
        "title": "Tolling of Pahang concentrate",
        "kind": "joint-venture",
        "parties": [
            {"name": "Lynas Malaysia", "country": "MY", "participant": "lynas-my"},
            {"name": "A Japanese trader", "country": "JP"},
        ],
        "jurisdictions": ["MY", "MY-06"],
        "elements": ["Nd"],
        "dates": {"signed": "2026-01-05"},
        "documents": [{"name": "jv.pdf", "sha256": "cd" * 32}],
    }
    (demo.folder / "agreement.json").write_text(json.dumps(terms))
    _refused(
        demo, "agreement-party", "agreement", "submit", "agreement.json", "--key", _key("js-link")
    )
    _ok(demo, "agreement", "submit", "agreement.json", "--key", _key("lynas-my"))
    _refused(
        demo,
        "agreement-exists",
        "agreement",
        "submit",
        "agreement.json",
        "--key",
        _key("lynas-my"),
        "--time",
        "2026-01-09T00:00:00Z",
    )
    _refused(
        demo,
        "agreement-transition",
        "agreement",
        "review",
        "AGR-CLI",
        "--status",
        "approved",
        "--by",
        "council.asean",
        "--reason",
        "fine",
    )
    _refused(
        demo,
        "reviewer-is-party",
        "agreement",
        "review",
        "AGR-CLI",
        "--status",
        "under-review",
        "--by",
        "lynas-my",
    )
    _ok(demo, "agreement", "review", "AGR-CLI", "--status", "under-review", "--by", "council.asean")
    said = _ok(
        demo, "agreement", "review", "AGR-CLI", "--status", "under-review", "--by", "council.asean"
    )
    assert "already recorded: nothing changed" in said
    _ok(
        demo,
        "agreement",
        "review",
        "AGR-CLI",
        "--status",
        "rejected",
        "--by",
        "council.asean",
        "--reason",
        "no environmental assessment filed",
    )
    error = _refused(
        demo,
        "agreement-transition",
        "agreement",
        "review",
        "AGR-CLI",
        "--status",
        "approved",
        "--by",
        "council.asean",
        "--reason",
        "on appeal",
    )
    assert "the decision is final" in error
    shown = _json(_ok(demo, "agreement", "show", "AGR-CLI", "--json"))
    assert [h["status"] for h in shown["history"]] == ["submitted", "under-review", "rejected"]
    hidden = run("--db", demo.db, "agreement", "show", "AGR-CLI", "--public", cwd=demo.folder)
    assert hidden.returncode == 2 and "not public" in hidden.stderr  # rejected: never public
    public = _json(_ok(demo, "agreement", "show", "AGR-PERAK-SUPPLY-2025", "--public", "--json"))
    assert public["status"] == "approved-with-conditions" and "documents" not in public
    assert public["parties"][1]["name"] == "Overseas REE Group (illustrative)"
    text = _ok(demo, "agreement", "list", "--status", "under-review")
    assert "MOU-VN-SEPARATION-2025" in text and "1 agreements" in text


def test_disputes(demo: DemoLedger) -> None:
    event, consignee, lot = _a_receipt(demo)
    respondent = "lynas-au" if consignee != "lynas-au" else "lynas-my"
    (demo.folder / "ticket.pdf").write_bytes(b"weighbridge ticket")
    _refused(
        demo,
        "not-event-party",
        "dispute",
        "open",
        "D-CLI",
        "--key",
        _key("sgs"),
        "--event",
        event,
        "--respondent",
        respondent,
        "--summary",
        "short",
    )
    _ok(
        demo,
        "dispute",
        "open",
        "D-CLI",
        "--key",
        _key(consignee),
        "--event",
        event,
        "--lot",
        lot,
        "--respondent",
        respondent,
        "--summary",
        "arrived short",
        "--evidence",
        "ticket.pdf",
        "--time",
        "2026-01-10T00:00:00Z",
    )
    _ok(
        demo,
        "dispute",
        "statement",
        "D-CLI",
        "--key",
        _key(respondent),
        "--text",
        "loaded in full",
        "--time",
        "2026-01-11T00:00:00Z",
    )
    _refused(
        demo,
        "ruler-is-party",
        "dispute",
        "rule",
        "D-CLI",
        "--outcome",
        "upheld",
        "--by",
        respondent,
        "--reason",
        "x",
    )
    _ok(
        demo,
        "dispute",
        "rule",
        "D-CLI",
        "--outcome",
        "settled",
        "--by",
        "council.asean",
        "--reason",
        "the parties agreed",
        "--corrective-party",
        respondent,
        "--corrective-action",
        "ship the shortfall",
        "--time",
        "2026-01-20T00:00:00Z",
    )
    _refused(
        demo,
        "dispute-closed",
        "dispute",
        "statement",
        "D-CLI",
        "--key",
        _key(consignee),
        "--text",
        "one more thing",
    )
    _refused(
        demo,
        "dispute-closed",
        "dispute",
        "rule",
        "D-CLI",
        "--outcome",
        "dismissed",
        "--by",
        "council.asean",
        "--reason",
        "changed",
    )
    shown = _json(_ok(demo, "dispute", "show", "D-CLI", "--json"))
    digest = hashlib.sha256(b"weighbridge ticket").hexdigest()  # what the log keeps of it
    assert shown["evidence"] == [{"name": "ticket.pdf", "sha256": digest}]
    assert shown["about"] == {"event": event, "lot": lot}
    assert shown["ruling"]["corrective"] == {
        "party": respondent,
        "action": "ship the shortfall",
        "recorded": False,
    }
    text = _ok(demo, "dispute", "show", "D-CLI")
    assert "corrective event by" in text and "awaited" in text
    listed = [json.loads(x) for x in _ok(demo, "dispute", "list", "--json").splitlines()]
    assert "D-CLI" in {d["id"] for d in listed}
    done = run("--db", demo.db, "audit", cwd=demo.folder)
    assert done.returncode == 0, done.stdout + done.stderr


def _a_receipt(demo: DemoLedger) -> tuple[str, str, str]:
    """A receipt between two different participants: its id, consignee and lot."""
    from raretrace.service.ledgers import open_store

    store = open_store(demo.db)
    try:
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT id, actor, body FROM events WHERE type = 'receive' ORDER BY seq"
            ).all()
    finally:
        store.close()
    for event, actor, body in rows:
        if actor not in ("lynas-au", "sgs"):
            return str(event), str(actor), json.loads(body)["lot"]
    raise AssertionError("no receipt in the demo ledger")
