"""``GET /v1/lots/{lot}`` is answered below the framework (api.fastpath): the same trace as
``raretrace trace --json``, the same error shape and rules as every other endpoint, a token
checked on every read (a revoked one refused at once), and a lot's kept view never stale
once its row changes."""

from __future__ import annotations

import json
import secrets
from typing import Any

from service_support import DemoLedger, Server, assert_error, ok


def _lots(ledger: DemoLedger) -> list[dict[str, Any]]:
    out = ok("--db", ledger.db, "lots", "--limit", "0", "--json", cwd=ledger.folder)
    return [json.loads(line) for line in out.splitlines()]


def _trace(ledger: DemoLedger, lot: str) -> Any:
    return json.loads(ok("--db", ledger.db, "trace", lot, "--json", cwd=ledger.folder))


def test_a_trace_is_the_clis_trace(demo_ledger: DemoLedger, server: Server) -> None:
    council = demo_ledger.token("council", "council")
    lots = [lot["lot"] for lot in _lots(demo_ledger)]
    picked = lots[:: max(1, len(lots) // 6)][:6]
    with server.client(council) as http:
        for lot in picked:
            first, again = http.get(f"/v1/lots/{lot}"), http.get(f"/v1/lots/{lot}")
            assert first.status_code == 200, first.text
            assert first.headers["content-type"] == "application/json"
            assert first.json() == _trace(demo_ledger, lot) == again.json()


def test_a_trace_answers_failures_in_the_one_shape(demo_ledger: DemoLedger, server: Server) -> None:
    every = _lots(demo_ledger)
    holder = every[0]["custodian"]
    other = next(
        lot["lot"] for lot in every if holder not in (lot["custodian"], lot.get("consignee"))
    )
    mine = every[0]["lot"]
    operator = demo_ledger.token(holder, "operator")
    revoked = demo_ledger.token(holder, "operator")
    with server.client() as public:
        assert_error(public.get(f"/v1/lots/{mine}"), 403, "token-required")
    with server.client(operator) as http:
        assert http.get(f"/v1/lots/{mine}").status_code == 200
        unseen = assert_error(http.get(f"/v1/lots/{other}"), 404, "not-found")
        missing = assert_error(http.get("/v1/lots/NO-SUCH-LOT"), 404, "not-found")
        assert unseen["error"] == missing["error"].replace("NO-SUCH-LOT", other)
        assert http.get(f"/v1/lots/{mine}/").status_code in (307, 404)  # not a trace
    for header in (
        "Basic abc",
        "Bearer",
        "Bearer rt_nothing",
        f"Bearer rt_{secrets.token_hex(6)}_x",
    ):
        with server.client(headers={"Authorization": header}) as http:
            response = http.get(f"/v1/lots/{mine}")
        assert_error(response, 401, "invalid-token")
        assert response.headers.get("www-authenticate", "Bearer") == "Bearer"
    with server.client(revoked) as http:
        assert http.get(f"/v1/lots/{mine}").status_code == 200
        ok("--db", demo_ledger.db, "token", "revoke", revoked.split("_")[1], cwd=demo_ledger.folder)
        assert_error(http.get(f"/v1/lots/{mine}"), 401, "token-revoked")
    with server.client(operator) as http:  # a GET with a body takes the framework's path
        response = http.request("GET", f"/v1/lots/{mine}", content=b"x" * 10)
        assert response.status_code == 200 and response.json()["lot"] == mine
        big = http.request("GET", f"/v1/lots/{mine}", content=b"x" * (2 * 2**20))
        assert_error(big, 413, "body-too-large")


def test_a_kept_trace_follows_the_lot(demo_ledger: DemoLedger, server: Server) -> None:
    """A lot read once, then changed by an accepted event, is read as it is now."""
    every = _lots(demo_ledger)
    lot = next(x for x in every if x["status"] == "active" and x["mass_kg"] > 1)
    holder = lot["custodian"]
    operator = demo_ledger.token(holder, "operator")
    loss = demo_ledger.sign({
        "id": f"trace-test-{secrets.token_hex(6)}", "type": "adjust",
        "time": "2025-12-30T00:00:00Z", "actor": holder, "lot": lot["lot"],
        "mass_kg": -0.5, "reason": "sampling",
    })  # fmt: skip
    with server.client(operator) as http:
        before = http.get(f"/v1/lots/{lot['lot']}").json()
        answer = http.post("/v1/events", json=loss)
        assert answer.status_code == 200, answer.text
        after = http.get(f"/v1/lots/{lot['lot']}").json()
    assert after == _trace(demo_ledger, lot["lot"]) != before
    assert round(before["mass_kg"] - after["mass_kg"], 6) == 0.5
