"""Every endpoint × role against the role table in docs/service.md, on the running service:
an allowed call answers 2xx, a refused one 403 or 404 (never saying whether the thing
exists). Also: the table, the code's PERMISSIONS and the app's routes are the same set, and
an operator sees its own lots but not another's."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from service_support import DemoLedger, Server, assert_error, ok, serving

from raretrace.log.note import Ed25519Verifier
from raretrace.log.witness import CosignatureSigner, Witness, WitnessState, generate_cosigner_key
from raretrace.service.access import PERMISSIONS, ROLES

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"
YES, NO = "✓", "—"


def role_table() -> dict[str, tuple[str, set[str]]]:
    """Endpoint → (action, roles allowed), from the table in docs/service.md."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("| endpoint | action | operator |", 1)[1].split("\n\n", 1)[0]
    header = list(ROLES)  # the table's columns, in this order
    rows: dict[str, tuple[str, set[str]]] = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        endpoint, action, marks = cells[0].strip("`"), cells[1], cells[2:]
        assert set(marks) <= {YES, NO}, line
        rows[endpoint] = (action, {role for role, m in zip(header, marks, strict=True) if m == YES})
    return rows


def test_the_documented_table_is_the_code_s_table() -> None:
    rows = role_table()
    for endpoint, (action, allowed) in rows.items():
        assert set(PERMISSIONS[action]) == allowed, (endpoint, action)
    # read-log-entries guards only a log not yet moved to salted commitments (its entry
    # bundles hold events in clear): no row of the demo's table, tested beside log migrate
    assert {action for action, _ in rows.values()} | {"read-log-entries"} == set(PERMISSIONS)


def test_every_route_of_the_app_is_in_the_table(server: Server) -> None:
    with server.client() as http:
        paths = http.get("/openapi.json").json()["paths"]
    routes = {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}
    documented = {re.sub(r"\{id\}", "{event_id}", e) for e in role_table()}
    routes.discard("GET /log/{path}")  # documented as its three kinds of files
    assert routes <= documented, routes - documented


@dataclass
class World:
    """Tokens per role and, per role, a lot and an event it may see."""

    ledger: DemoLedger
    tokens: dict[str, str | None]
    lot: dict[str, str]
    event: dict[str, str]
    own_event: dict[str, object]
    witness: CosignatureSigner
    did: dict[str, object]
    #: The clearinghouse: per role allowed to file, its own signed steps (already recorded,
    #: so the walk's resubmission is a replay); the cases the walk reads.
    filed: dict[str, dict[str, dict[str, object]]]
    cases: dict[str, str]


def _scoped_ids(ledger: DemoLedger) -> tuple[dict[str, str], dict[str, str], str]:
    """For each scoped role's participant, a lot and an event it may see (from the council's
    view), and the operator chosen (the custodian of the most lots)."""
    from raretrace.service.access import Principal, scope_of
    from raretrace.service.ledgers import open_store

    store = open_store(ledger.db)
    try:
        registry = store.registry()
        lots = list(store.lots())
        holders: dict[str, int] = {}
        for lot in lots:
            holders[lot.custodian] = holders.get(lot.custodian, 0) + 1
        operator = max(holders, key=lambda h: holders[h])
        who = {"operator": operator, "auditor": "sgs", "authority": "aelb-my", "council": "c"}
        lot_of, event_of = {}, {}
        with store.engine.connect() as conn:
            bodies = [json.loads(b) for (b,) in conn.exec_driver_sql("SELECT body FROM events")]
        for role, participant in who.items():
            seen = scope_of(Principal(role, participant), registry)
            lot_of[role] = next(lot.id for lot in lots if seen.sees_lot(lot))
            event_of[role] = next(b["id"] for b in bodies
                                  if seen.sees_event(b) and b["actor"] != "registry")  # fmt: skip
        return lot_of, event_of, operator
    finally:
        store.close()


@pytest.fixture(scope="module")
def world(demo_ledger: DemoLedger) -> World:
    folder = demo_ledger.folder
    lot, event, operator = _scoped_ids(demo_ledger)
    ok("issuer", "keygen", "--did", "did:web:council.example", "--out", "issuer.key", cwd=folder)
    ok("issuer", "status-list", "--key", "issuer.key", "--out", "status.jwt", cwd=folder)
    did = json.loads(ok("issuer", "did-document", "--key", "issuer.key", cwd=folder))
    skey, _ = generate_cosigner_key("witness.example")
    tokens: dict[str, str | None] = {
        "operator": demo_ledger.token(operator, "operator"),
        "auditor": demo_ledger.token("sgs", "auditor"),
        "authority": demo_ledger.token("aelb-my", "authority"),
        "council": demo_ledger.token("council.asean", "council"),
        "witness": demo_ledger.token("witness.example", "witness"),
        "public": None,
    }
    own = json.loads(ok("--db", demo_ledger.db, "log", "prove", event["operator"], "--json",
                        cwd=folder))  # fmt: skip
    assert own["event_id"] == event["operator"]
    from raretrace.service.access import Principal
    from raretrace.service.ledgers import open_store
    from raretrace.service.scoped import event as read_event

    store = open_store(demo_ledger.db)
    try:
        body = read_event(store, Principal("council", "c"), event["operator"])
    finally:
        store.close()
    if body["actor"] != operator:  # the operator's own event, to resubmit idempotently
        raise AssertionError("the operator's visible event is not its own")
    filed, cases = _clearinghouse(demo_ledger, tokens, event, operator)
    return World(demo_ledger, tokens, lot, event, body,
                 CosignatureSigner.from_skey(skey), did, filed, cases)  # fmt: skip


def _clearinghouse(
    ledger: DemoLedger, tokens: dict[str, str | None], event: dict[str, str], operator: str
) -> tuple[dict[str, dict[str, dict[str, object]]], dict[str, str]]:
    """Each filing role's agreement, dispute and statement, signed and recorded through the
    service; the council's review and ruling on them; the authority's licensing event."""
    from raretrace.service.ledgers import open_store

    store = open_store(ledger.db)
    try:
        with store.engine.connect() as conn:
            renewal = json.loads(store.event_bodies(conn, [RENEWAL])[RENEWAL])
    finally:
        store.close()
    other = {"operator": "lynas-au" if operator != "lynas-au" else "lynas-my",
             "authority": "lynas-my"}  # fmt: skip
    disputed = {"operator": event["operator"], "authority": RENEWAL}
    who = {"operator": operator, "authority": "aelb-my"}
    filed: dict[str, dict[str, dict[str, object]]] = {}
    with serving(ledger) as running:
        for role, participant in who.items():
            steps = _steps(participant, other[role], disputed[role], f"W-{role}")
            filed[role] = {k: ledger.sign(v) for k, v in steps.items()}
            with running.client(tokens[role]) as http:
                for path, key in (
                    ("/v1/agreements", "agreement"),
                    ("/v1/disputes", "dispute"),
                    (f"/v1/disputes/D-W-{role}/statements", "statement"),
                ):
                    done = http.post(path, json=filed[role][key])
                    assert done.status_code == 200, done.text
        filed["authority"]["licensing"] = renewal
        with running.client(tokens["council"]) as http:
            for path, body in COUNCIL_STEPS.items():
                done = http.post(path, json=body)
                assert done.status_code == 200, done.text
    return filed, {"agreement": "AGR-LAMP-OFFTAKE-2025", "dispute": "D-W-authority"}


RENEWAL = "demo:licensing:LIC-LAMP-OP:renew:2025-11-20"
COUNCIL_STEPS = {
    "/v1/agreements/AGR-W-operator/reviews": {"status": "under-review"},
    "/v1/disputes/D-W-authority/ruling": {"outcome": "dismissed", "reasons": "no case made"},
}


def _steps(participant: str, other: str, disputed: str, name: str) -> dict[str, dict[str, object]]:
    digest = "0" * 64
    return {
        "agreement": {"id": f"agr-{name}", "type": "agreement", "time": "2026-01-05T00:00:00Z",
                      "actor": participant,
                      "agreement": {"id": f"AGR-{name}", "title": "A walk's offtake",
                                    "kind": "offtake",
                                    "parties": [{"name": participant, "country": "MY",
                                                 "participant": participant},
                                                {"name": "A buyer abroad", "country": "JP"}],
                                    "jurisdictions": ["MY"], "dates": {"signed": "2026-01-02"},
                                    "documents": [{"name": "a.pdf", "sha256": digest}]}},
        "dispute": {"id": f"dsp-{name}", "type": "dispute", "time": "2026-01-05T00:00:00Z",
                    "actor": participant,
                    "dispute": {"id": f"D-{name}", "about": {"event": disputed},
                                "respondents": [other], "summary": "a walk's dispute"}},
        "statement": {"id": f"st-{name}", "type": "statement", "time": "2026-01-06T00:00:00Z",
                      "actor": participant, "dispute": f"D-{name}", "text": "our statement"},
    }  # fmt: skip


@pytest.fixture(scope="module")
def issuing_server(world: World) -> Iterator[Server]:
    folder = world.ledger.folder
    env = {
        "RARETRACE_ISSUER_KEY": str(folder / "issuer.key"),
        "RARETRACE_STATUS_LIST": str(folder / "status.jwt"),
        "RARETRACE_CREDENTIALS_DIR": str(folder / "credentials"),
        "RARETRACE_CREDENTIALS_URL": "https://council.example/credentials",
    }
    (folder / "credentials").mkdir(exist_ok=True)
    with serving(world.ledger, env=env) as running:
        yield running


Call = Callable[[httpx.Client, World, str], httpx.Response]


def _cosigned(http: httpx.Client, w: World) -> dict[str, str]:
    note = http.get("/v1/log/checkpoint").text
    vkey = http.get("/v1/log/vkey").text.strip()
    state = WitnessState(w.ledger.folder / f"wstate-{len(note)}-{id(http)}")
    witness = Witness(w.witness, state, logs=[Ed25519Verifier.from_vkey(vkey)])
    return {"note": witness.cosign(note, old_size=0, consistency_proof=[]),
            "vkey": w.witness.verifier().vkey}  # fmt: skip


def _lot(w: World, role: str) -> str:
    return w.lot.get(role, w.lot["council"])


def _event(w: World, role: str) -> str:
    return w.event.get(role, w.event["council"])


CALLS: dict[str, Call] = {
    "GET /v1/registry": lambda h, w, r: h.get("/v1/registry"),
    "GET /v1/facilities": lambda h, w, r: h.get("/v1/facilities"),
    "GET /v1/stats": lambda h, w, r: h.get("/v1/stats"),
    "GET /v1/log/checkpoint": lambda h, w, r: h.get("/v1/log/checkpoint"),
    "GET /v1/log/vkey": lambda h, w, r: h.get("/v1/log/vkey"),
    "GET /v1/log/consistency": lambda h, w, r: h.get("/v1/log/consistency?old=1"),
    "GET /log/checkpoint": lambda h, w, r: h.get("/log/checkpoint"),
    "GET /log/tile/0/…": lambda h, w, r: h.get(_tile(h, "0")),
    "GET /log/tile/entries/…": lambda h, w, r: h.get(_tile(h, "entries")),
    "POST /v1/credentials/verify": lambda h, w, r: h.post(
        "/v1/credentials/verify", json={"credential": "not a credential", "trust": [w.did]}
    ),
    "GET /v1/lots": lambda h, w, r: h.get("/v1/lots?limit=5"),
    "GET /v1/lots/{lot}": lambda h, w, r: h.get(f"/v1/lots/{_lot(w, r)}"),
    "GET /v1/lots/{lot}/check": lambda h, w, r: h.get(f"/v1/lots/{_lot(w, r)}/check"),
    "GET /v1/lots/{lot}/bundle": lambda h, w, r: h.get(f"/v1/lots/{_lot(w, r)}/bundle"),
    "GET /v1/events/{id}": lambda h, w, r: h.get(f"/v1/events/{_event(w, r)}"),
    "GET /v1/log/proofs/{id}": lambda h, w, r: h.get(f"/v1/log/proofs/{_event(w, r)}"),
    "GET /v1/discrepancies": lambda h, w, r: h.get("/v1/discrepancies"),
    "POST /v1/events": lambda h, w, r: h.post("/v1/events", json=w.own_event),
    "POST /v1/events/batch": lambda h, w, r: h.post(
        "/v1/events/batch",
        content=json.dumps(w.own_event) + "\n",
        headers={"Content-Type": "application/x-ndjson"},
    ),
    "POST /v1/registry": lambda h, w, r: h.post("/v1/registry", json={"participants": []}),
    "POST /v1/lots/{lot}/certify": lambda h, w, r: h.post(
        f"/v1/lots/{_lot(w, r)}/certify", json={"as_of": "2026-01-01"}
    ),
    "POST /v1/log/cosignatures": lambda h, w, r: h.post(
        "/v1/log/cosignatures", json=_cosigned(h, w)
    ),
    "GET /v1/licences": lambda h, w, r: h.get("/v1/licences"),
    "GET /v1/licences/{licence}": lambda h, w, r: h.get("/v1/licences/LIC-LAMP-OP"),
    "GET /v1/agreements": lambda h, w, r: h.get("/v1/agreements"),
    "GET /v1/agreements/{agreement}": lambda h, w, r: h.get(
        f"/v1/agreements/{w.cases['agreement']}"
    ),
    "GET /v1/disputes": lambda h, w, r: h.get("/v1/disputes"),
    "GET /v1/disputes/{dispute}": lambda h, w, r: h.get(f"/v1/disputes/{w.cases['dispute']}"),
    "POST /v1/licensing": lambda h, w, r: h.post("/v1/licensing", json=_filed(w, r, "licensing")),
    "POST /v1/agreements": lambda h, w, r: h.post("/v1/agreements", json=_filed(w, r, "agreement")),
    "POST /v1/disputes": lambda h, w, r: h.post("/v1/disputes", json=_filed(w, r, "dispute")),
    "POST /v1/disputes/{dispute}/statements": lambda h, w, r: h.post(
        f"/v1/disputes/D-W-{_filer(r)}/statements", json=_filed(w, r, "statement")
    ),
    "POST /v1/agreements/{agreement}/reviews": lambda h, w, r: h.post(
        "/v1/agreements/AGR-W-operator/reviews",
        json=COUNCIL_STEPS["/v1/agreements/AGR-W-operator/reviews"],
    ),
    "POST /v1/disputes/{dispute}/ruling": lambda h, w, r: h.post(
        "/v1/disputes/D-W-authority/ruling", json=COUNCIL_STEPS["/v1/disputes/D-W-authority/ruling"]
    ),
}


def _filer(role: str) -> str:
    """The filing role whose steps a role resubmits (its own, or the operator's)."""
    return role if role in ("operator", "authority") else "operator"


def _filed(w: World, role: str, step: str) -> dict[str, object]:
    return w.filed[_filer(role)].get(step) or w.filed["authority"][step]


def _tile(http: httpx.Client, kind: str) -> str:
    size = int(http.get("/log/checkpoint").text.splitlines()[1])
    full, rest = divmod(size, 256)  # other tests of the session may have grown the log
    part = f"{full:03d}.p/{rest}" if rest else f"{full - 1:03d}"
    return f"/log/tile/{kind}/{part}"


def test_the_walk_covers_every_row() -> None:
    assert set(CALLS) == set(role_table())


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_answers_each_role_as_the_table_says(
    issuing_server: Server, world: World, role: str
) -> None:
    before = world.ledger.size()
    wrong = []
    with issuing_server.client(world.tokens[role]) as http:
        for endpoint, (_, allowed) in role_table().items():
            response = CALLS[endpoint](http, world, role)
            if role in allowed:
                if not 200 <= response.status_code < 300:
                    wrong.append(f"{endpoint}: {response.status_code} {response.text[:300]}")
            elif response.status_code not in (403, 404):
                wrong.append(f"{endpoint}: refused expected, got {response.status_code}")
            else:
                assert_error(response, response.status_code)
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
    assert world.ledger.size() == before  # resubmissions and empty registry loads add nothing


def test_an_operator_sees_its_own_lots_and_not_another_s(server: Server, world: World) -> None:
    with server.client(world.tokens["operator"]) as http:
        mine = http.get("/v1/lots?limit=0").json()["lots"]
        council_lot = next(
            lot["lot"] for lot in _all_lots(server, world)
            if lot["lot"] not in {m["lot"] for m in mine}
        )  # fmt: skip
        hidden = http.get(f"/v1/lots/{council_lot}")
        missing = http.get("/v1/lots/NO-SUCH-LOT")
    operator = str(world.own_event["actor"])
    assert mine and world.lot["operator"] in {m["lot"] for m in mine}
    assert all(operator in (m["custodian"], m.get("consignee")) or m["facility"] for m in mine)
    assert_error(hidden, 404, "not-found")
    assert hidden.json()["error"].replace(council_lot, "X") == missing.json()["error"].replace(
        "NO-SUCH-LOT", "X"
    )


def _all_lots(server: Server, world: World) -> list[dict[str, object]]:
    with server.client(world.tokens["council"]) as http:
        lots: list[dict[str, object]] = http.get("/v1/lots?limit=0").json()["lots"]
    return lots
