"""10,000+ generated bad requests (seeded, so a failure replays) against one running service:
every answer is the one error shape (or, for a batch, per-line rejections and nothing
accepted), no traceback, and afterwards the ledger is unchanged and its audit clean."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from service_support import ERROR_KEYS, DemoLedger, Server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COUNT = 10_240
SEED = 20261130
Request = tuple[str, str, dict[str, str], bytes]


def _noise(rng: random.Random) -> bytes:
    return rng.randbytes(rng.randrange(0, 300))


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 2**63, 1e308, -0.0, 3.5])
    if kind == 2:
        return "".join(rng.choice('aé\u202e\x00{}"\\ ') for _ in range(rng.randrange(12)))
    if kind == 3:
        return rng.choice(["adjust", "ship", "receive", "transform", "extract", "registry"])
    if kind in (4, 5):
        keys = ["id", "type", "time", "actor", "lot", "mass_kg", "sig", "reason", "x"]
        return {rng.choice(keys): _json_value(rng, depth + 1) for _ in range(rng.randrange(6))}
    return [_json_value(rng, depth + 1) for _ in range(rng.randrange(4))]


def _mutated(rng: random.Random, event: dict[str, Any]) -> dict[str, Any]:
    """A real signed event with one field changed (so its signature no longer holds) or
    dropped."""
    copy = dict(event)
    key = rng.choice(sorted(copy))
    if rng.random() < 0.3:
        del copy[key]
    else:
        copy[key] = _json_value(rng)
    return copy


def _generators(event: dict[str, Any], token: str) -> list[Callable[[random.Random], Request]]:
    js = {"Content-Type": "application/json"}
    auth = {"Authorization": f"Bearer {token}", **js}
    lines = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    good = json.dumps(event).encode()
    paths = ["/v1/lots", "/v1/lots/X", "/v1/events/Y", "/v1/log/proofs/Z", "/v1/discrepancies",
             "/v1/log/consistency", "/log/tile/entries/000"]  # fmt: skip
    queries = ["limit=-3", "old=x", "status=%7F", "form=%00", "as_of=2026-02-30"]

    def value(r: random.Random) -> bytes:
        return json.dumps(_json_value(r)).encode()

    def mutated(r: random.Random) -> bytes:
        return json.dumps(_mutated(r, event)).encode()

    def bad_token(r: random.Random) -> dict[str, str]:
        made = f"Bearer rt_{r.randbytes(6).hex()}_{r.randbytes(8).hex()}"
        return {"Authorization": r.choice(["Bearer x", "Basic y", made]), **js}

    def odd_type(r: random.Random) -> dict[str, str]:
        return {**auth, "Content-Type": r.choice(["text/plain", "", "application/xml"])}

    def batch(r: random.Random) -> bytes:
        return b"\n".join(mutated(r) for _ in range(3)) + b"\n" + _noise(r)

    def path(r: random.Random) -> str:
        return "/v1/" + "".join(r.choice("abc/%.é") for _ in range(r.randrange(1, 40)))

    return [
        lambda r: ("POST", "/v1/events", auth, _noise(r)),
        lambda r: ("POST", "/v1/events", auth, value(r)),
        lambda r: ("POST", "/v1/events", auth, mutated(r)),
        lambda r: ("POST", "/v1/events", odd_type(r), good),
        lambda r: ("POST", "/v1/events", bad_token(r), good),
        lambda r: ("POST", "/v1/events", js, good),
        lambda r: ("POST", "/v1/events/batch", lines, batch(r)),
        lambda r: ("POST", "/v1/registry", auth, value(r)),
        lambda r: ("POST", "/v1/log/cosignatures", js, value(r)),
        lambda r: ("POST", "/v1/credentials/verify", js, value(r)),
        lambda r: (
            r.choice(["GET", "DELETE", "PUT", "PATCH"]),
            r.choice(paths) + "?" + r.choice(queries),
            {},
            b"",
        ),
        lambda r: ("GET", path(r), {}, b""),
    ]


def _check(method: str, response: httpx.Response) -> str | None:
    if "Traceback" in response.text or 'File "' in response.text:
        return "traceback"
    if (
        response.status_code == 200
        and response.headers.get("content-type") == "application/x-ndjson"
    ):
        last = json.loads(response.text.splitlines()[-1])
        return None if last["summary"]["accepted"] == 0 else "a batch accepted something"
    if response.status_code == 200 and response.headers.get("raretrace-replay") == "true":
        return None  # a mutation that left the accepted event as it was: a safe retry
    if method == "GET" and response.status_code in (302, 303, 307, 308):
        # '/v1/..' is '/' once dot segments are removed (RFC 3986 5.2.4): the dashboard's
        # redirect, which changes nothing
        return None if response.headers.get("location", "").startswith("/ui") else "redirect"
    if response.status_code < 400:
        return f"{method}: accepted with {response.status_code}"
    body = response.json()
    return None if set(body) == ERROR_KEYS and isinstance(body["detail"], dict) else "shape"


async def _send(server: Server, requests: list[Request]) -> list[str]:
    problems: list[str] = []
    dropped: list[str] = []
    limits = httpx.Limits(max_connections=24)
    async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:
        gate = asyncio.Semaphore(24)

        async def one(request: Request) -> None:
            method, path, headers, body = request
            async with gate:
                try:
                    response = await http.request(method, path, headers=headers, content=body)
                except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError) as exc:
                    # A kept-alive connection the server closed as the request went out
                    # (RFC 9112 9.3.1): a client retries once on a new connection;
                    # submissions are idempotent by event id, so the retry is safe.
                    dropped.append(f"{type(exc).__name__}: {method} {path} {body[:80]!r}")
                    response = await http.request(method, path, headers=headers, content=body)
            problem = _check(method, response)
            if problem is not None:
                problems.append(
                    f"{problem}: {method} {path} {body[:120]!r} -> {response.text[:200]}"
                )

        await asyncio.gather(*(one(r) for r in requests))
    if len(dropped) > len(requests) // 100:  # a dropped connection now and then, not a habit
        problems.append(f"{len(dropped)} connections dropped: " + "; ".join(dropped[:5]))
    return problems


def test_ten_thousand_bad_requests_change_nothing(demo_ledger: DemoLedger, server: Server) -> None:
    out = demo_ledger.folder / "inputs" / "events.jsonl"
    event = json.loads(out.read_text().splitlines()[-1])
    token = demo_ledger.token(event["actor"], "operator")
    rng = random.Random(SEED)
    makers = _generators(event, token)
    requests = [rng.choice(makers)(rng) for _ in range(COUNT)]
    before = demo_ledger.size()
    problems = asyncio.run(_send(server, requests))
    assert not problems, f"{len(problems)} of {COUNT}:\n" + "\n".join(problems[:20])
    assert demo_ledger.size() == before
    demo_ledger.audit_clean()
