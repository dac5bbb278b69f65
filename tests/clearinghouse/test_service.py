"""The clearinghouse's workflows through the running service (``raretrace serve``), on a signed
demo ledger on SQLite and on PostgreSQL: an authority licenses within its jurisdiction and not
outside it, a party submits an agreement that the council reviews (never a party's member), a
dispute is opened, argued, ruled with a corrective event that is then recorded; each caller
reads what it may; refusals answer the one error shape and change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import DemoLedger, Server, assert_error, build_demo, serving

pytestmark = pytest.mark.integration

DIGEST = "ab" * 32


@pytest.fixture(params=["sqlite", "postgresql"])
def running(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[DemoLedger, Server, dict[str, str]]]:
    db = str(tmp_path / "ledger.db")
    if request.param == "postgresql":
        db = request.getfixturevalue("fresh_pg_url")
    ledger = build_demo(tmp_path / "demo", db, events=60)
    tokens = {
        "pahang": ledger.token("ptg-pahang", "authority"),
        "perak": ledger.token("ptg-perak", "authority"),
        "doe": ledger.token("doe-my", "authority"),
        "lynas": ledger.token("lynas-my", "operator"),
        "jslink": ledger.token("js-link", "operator"),
        "vtre": ledger.token("vtre", "operator"),
        "council": ledger.token("council.asean", "council"),
        "party-member": ledger.token("js-link", "council"),  # a council token named for a party
    }
    with serving(ledger) as server:
        yield ledger, server, tokens
    ledger.audit_clean()


def _post(server: Server, token: str | None, path: str, body: dict[str, Any]) -> httpx.Response:
    with server.client(token) as http:
        return http.post(path, json=body)


def _get(server: Server, token: str | None, path: str) -> httpx.Response:
    with server.client(token) as http:
        return http.get(path)


def test_licensing_within_jurisdiction(running: tuple[DemoLedger, Server, dict[str, str]]) -> None:
    ledger, server, tokens = running
    issue = ledger.sign(
        {
            "id": "lic-hre2",
            "type": "licensing",
            "time": "2026-01-05T00:00:00Z",
            "actor": "ptg-pahang",
            "action": "issue",
            "licence": {
                "id": "LIC-HRE2-STATE",
                "holder": "lynas-my",
                "facility": "MY-LYNAS-HRE2",
                "kind": "operating",
                "authority": "ptg-pahang",
                "valid_from": "2026-01-01T00:00:00Z",
                "valid_until": "2029-01-01T00:00:00Z",
            },
        }
    )
    done = _post(server, tokens["pahang"], "/v1/licensing", issue)
    assert done.status_code == 200, done.text
    again = _post(server, tokens["pahang"], "/v1/licensing", issue)
    assert again.headers.get("Raretrace-Replay") == "true"
    before = ledger.size()
    renew = ledger.sign(
        {
            "id": "lic-hre2-renew",
            "type": "licensing",
            "time": "2026-02-01T00:00:00Z",
            "actor": "ptg-perak",
            "action": "renew",
            "licence": "LIC-HRE2-STATE",
            "valid_until": "2030-01-01T00:00:00Z",
        }
    )
    refused = assert_error(
        _post(server, tokens["perak"], "/v1/licensing", renew), 422, "licence-jurisdiction"
    )
    assert "'ptg-perak' is an authority of MY-08" in refused["error"]
    assert_error(_post(server, tokens["pahang"], "/v1/licensing", renew), 403, "actor-not-token")
    assert_error(_post(server, tokens["lynas"], "/v1/licensing", renew), 403, "role-forbidden")
    assert ledger.size() == before
    shown = _get(server, None, "/v1/licences/LIC-JSLINK-OP").json()
    assert [h["action"] for h in shown["history"]] == ["suspend", "reinstate"]
    assert shown["standing"] == "valid" and shown["suspensions"][0]["until"].startswith(
        "2025-08-18"
    )
    listed = {x["id"]: x for x in _get(server, None, "/v1/licences").json()}
    assert listed["LIC-KENERING-MINE"]["standing"] == "suspended"
    assert listed["LIC-HRE2-STATE"]["authority"] == "ptg-pahang"


def _terms(agreement_id: str) -> dict[str, Any]:
    return {
        "id": agreement_id,
        "title": "Offtake of NdPr metal",
        "kind": "offtake",
        "parties": [
            {"name": "JS Link", "country": "MY", "participant": "js-link"},
            {"name": "Lynas Malaysia", "country": "MY", "participant": "lynas-my"},
        ],
        "jurisdictions": ["MY", "MY-06"],
        "elements": ["Nd", "Pr"],
        "volumes": [{"material": "NdPr metal", "tonnes": 300, "per": "year"}],
        "dates": {"signed": "2026-01-10"},
        "documents": [{"name": "offtake.pdf", "sha256": DIGEST}],
    }


def test_an_agreement_is_reviewed_and_published(
    running: tuple[DemoLedger, Server, dict[str, str]],
) -> None:
    ledger, server, tokens = running
    submit = ledger.sign(
        {
            "id": "agr-api",
            "type": "agreement",
            "time": "2026-01-12T00:00:00Z",
            "actor": "js-link",
            "agreement": _terms("AGR-API"),
        }
    )
    assert _post(server, tokens["jslink"], "/v1/agreements", submit).status_code == 200
    # Before approval: the parties and the council see it, the public and others do not.
    assert _get(server, tokens["lynas"], "/v1/agreements/AGR-API").json()["view"] == "full"
    assert_error(_get(server, None, "/v1/agreements/AGR-API"), 404, "not-found")
    assert_error(_get(server, tokens["vtre"], "/v1/agreements/AGR-API"), 404, "not-found")
    review = "/v1/agreements/AGR-API/reviews"
    early = _post(server, tokens["council"], review, {"status": "approved", "reasons": "x"})
    assert (
        "from submitted a review moves it to under-review"
        in assert_error(early, 422, "agreement-transition")["error"]
    )
    member = _post(server, tokens["party-member"], review, {"status": "under-review"})
    assert_error(member, 422, "reviewer-is-party")
    assert_error(_post(server, tokens["jslink"], review, {"status": "under-review"}), 403)
    assert _post(server, tokens["council"], review, {"status": "under-review"}).status_code == 200
    approve = {
        "status": "approved-with-conditions",
        "reasons": "regional supply",
        "conditions": ["volumes reported quarterly"],
        "public": ["title", "volumes"],
    }
    assert _post(server, tokens["council"], review, approve).status_code == 200
    retry = _post(server, tokens["council"], review, approve)
    assert retry.status_code == 200 and retry.headers.get("Raretrace-Replay") == "true"
    other = _post(server, tokens["council"], review, {**approve, "reasons": "changed my mind"})
    assert_error(other, 422, "agreement-transition")  # that step was taken
    public = _get(server, None, "/v1/agreements/AGR-API").json()
    assert public["view"] == "public" and "documents" not in public and "elements" not in public
    assert public["volumes"][0]["tonnes"] == 300
    assert [h["status"] for h in public["history"]] == [
        "submitted",
        "under-review",
        "approved-with-conditions",
    ]
    listed = {a["id"] for a in _get(server, None, "/v1/agreements").json()}
    assert {"AGR-API", "AGR-PERAK-SUPPLY-2025", "AGR-LAMP-OFFTAKE-2025"} <= listed
    assert "MOU-VN-SEPARATION-2025" not in listed  # under review: not public
    assert "MOU-VN-SEPARATION-2025" in {
        a["id"] for a in _get(server, tokens["vtre"], "/v1/agreements").json()
    }


def test_a_dispute_is_ruled_and_its_correction_recorded(
    running: tuple[DemoLedger, Server, dict[str, str]],
) -> None:
    ledger, server, tokens = running
    receipt, opener, bystander = _disputable(ledger)
    respondent = "js-link" if opener != "js-link" else "lynas-au"
    mine, theirs = ledger.token(opener, "operator"), ledger.token(respondent, "operator")
    outsider = ledger.token(bystander, "operator")
    dispute = {
        "id": "D-API",
        "about": {"event": receipt},
        "respondents": [respondent],
        "summary": "mass contested",
        "evidence": [{"name": "t.pdf", "sha256": DIGEST}],
    }
    opened = ledger.sign(
        {
            "id": "dsp-api",
            "type": "dispute",
            "time": "2026-01-12T00:00:00Z",
            "actor": opener,
            "dispute": dispute,
        }
    )
    assert _post(server, mine, "/v1/disputes", opened).status_code == 200
    stranger = {**dispute, "id": "D-API-2", "respondents": [opener]}
    bystanders = ledger.sign({**opened, "id": "dsp-api-2", "actor": bystander, "dispute": stranger})
    assert_error(_post(server, outsider, "/v1/disputes", bystanders), 422, "not-event-party")
    said = ledger.sign(
        {
            "id": "st-api",
            "type": "statement",
            "time": "2026-01-13T00:00:00Z",
            "actor": respondent,
            "dispute": "D-API",
            "text": "we weighed it",
        }
    )
    assert _post(server, theirs, "/v1/disputes/D-API/statements", said).status_code == 200
    assert_error(_get(server, None, "/v1/disputes/D-API"), 404, "not-found")  # open: private
    assert_error(_get(server, outsider, "/v1/disputes/D-API"), 404, "not-found")
    rule = {
        "outcome": "upheld",
        "reasons": "the survey stands",
        "time": "2026-02-15T00:00:00Z",
        "corrective": {"party": opener, "action": "write off the contested kg"},
    }
    assert _post(server, tokens["council"], "/v1/disputes/D-API/ruling", rule).status_code == 200
    changed = {**rule, "outcome": "dismissed"}
    again = _post(server, tokens["council"], "/v1/disputes/D-API/ruling", changed)
    assert_error(again, 422, "dispute-closed")
    late = ledger.sign({**said, "id": "st-api-2", "time": "2026-02-01T00:00:00Z"})
    closed = _post(server, theirs, "/v1/disputes/D-API/statements", late)
    assert "was ruled 'upheld'" in assert_error(closed, 422, "dispute-closed")["error"]
    public = _get(server, None, "/v1/disputes/D-API").json()
    assert public == {
        "id": "D-API",
        "status": "ruled",
        "opened": "2026-01-12T00:00:00Z",
        "outcome": "upheld",
        "ruled": public["ruled"],
        "corrective_required": True,
        "corrective_recorded": False,
        "view": "outcome",
    }
    lot = ledger.lots_of(opener)[0]["lot"]
    fix = ledger.sign(
        {
            "id": "fix-api",
            "type": "adjust",
            "time": "2026-03-01T00:00:00Z",
            "actor": opener,
            "lot": lot,
            "mass_kg": -0.5,
            "reason": "contested kg written off",
            "corrects": "D-API",
        }
    )
    done = _post(server, mine, "/v1/events", fix)
    assert done.status_code == 200, done.text
    full = _get(server, theirs, "/v1/disputes/D-API").json()
    assert full["view"] == "full" and full["statements"][0]["by"] == respondent
    assert full["ruling"]["corrective"]["recorded_by"]["event"] == "fix-api"
    assert _get(server, None, "/v1/disputes/D-API").json()["corrective_recorded"] is True
    twice = ledger.sign({**fix, "id": "fix-api-2", "time": "2026-03-02T00:00:00Z"})
    assert_error(_post(server, mine, "/v1/events", twice), 422, "dispute-correction")


def _disputable(ledger: DemoLedger) -> tuple[str, str, str]:
    """A receipt, its consignee (who holds an active lot, for the corrective adjustment) and
    an operator who is no party to it."""
    from raretrace.service.access import Scope
    from raretrace.service.ledgers import open_store

    store = open_store(ledger.db)
    try:
        registry = store.registry()
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT id, actor, body FROM events WHERE type = 'receive' ORDER BY seq"
            ).all()
    finally:
        store.close()

    def party(who: str, body: str) -> bool:
        operated = frozenset(f.id for f in registry.facilities.values() if f.operator == who)
        return Scope(False, operated, frozenset({who})).sees_event(json.loads(body))

    for receipt, actor, body in rows:
        if actor in {"js-link", "lynas-au"} or not ledger.lots_of(actor):
            continue
        for other in ("vtre", "mp-materials", "solvay", "iluka"):
            if other != actor and not party(other, body):
                return str(receipt), str(actor), other
    raise AssertionError("the demo ledger has no receipt to dispute")
