"""Running the real service for tests: a signed demo ledger built by the CLI, tokens issued by
the CLI, ``raretrace serve`` as a real process on 127.0.0.1 and a free port, and a real HTTP
client (httpx). Nothing is mocked."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from raretrace.domain.keys import sign_event
from raretrace.ledger.keyfiles import read_key_file

ERROR_KEYS = {"error", "rule", "detail"}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m raretrace ARGS`` as a user runs it (RARETRACE_DB only if args give it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RARETRACE_")}
    return subprocess.run(
        [sys.executable, "-m", "raretrace", *args],
        cwd=cwd, env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip


def ok(*args: str, cwd: Path) -> str:
    done = cli(*args, cwd=cwd)
    assert done.returncode == 0, (args, done.stderr[-2000:])
    return done.stdout


@dataclass(frozen=True)
class DemoLedger:
    """A signed demo ledger (SQLite file or PostgreSQL URL), its folder, and the demo
    participants' key files in ``inputs/keys``."""

    db: str
    folder: Path

    def key(self, participant: str) -> Path:
        return self.folder / "inputs" / "keys" / f"{participant}.key"

    def token(self, participant: str, role: str, *extra: str) -> str:
        out = ok("--db", self.db, "token", "issue", "--participant", participant,
                 "--role", role, *extra, cwd=self.folder)  # fmt: skip
        return out.strip()

    def sign(self, event: dict[str, Any]) -> dict[str, Any]:
        """``event`` signed with its actor's demo key."""
        key = read_key_file(self.key(event["actor"]))
        return sign_event(event, key.private_key, key.kid)

    def size(self) -> int:
        from raretrace.service.ledgers import open_store

        store = open_store(self.db)
        try:
            return store.size()
        finally:
            store.close()

    def audit_clean(self) -> None:
        done = cli("--db", self.db, "audit", cwd=self.folder)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]

    def lots_of(self, custodian: str, status: str = "active") -> list[dict[str, Any]]:
        out = ok("--db", self.db, "lots", "--status", status, "--limit", "0", "--json",
                 cwd=self.folder)  # fmt: skip
        lots = [json.loads(line) for line in out.splitlines()]
        return [lot for lot in lots if lot["custodian"] == custodian]


def build_demo(folder: Path, db: str, events: int = 120) -> DemoLedger:
    folder.mkdir(parents=True, exist_ok=True)
    ok("demo", "--events", str(events), "--db", db, "--log-dir", str(folder / "log"),
       "--write", str(folder / "inputs"), cwd=folder)  # fmt: skip
    return DemoLedger(db, folder)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A running ``raretrace serve``."""

    url: str
    process: subprocess.Popen[str]
    log: Path

    def client(self, token: str | None = None, *, headers: dict[str, str] | None = None
               ) -> httpx.Client:  # fmt: skip
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers={**sent, **(headers or {})}, timeout=60)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serving(ledger: DemoLedger, *, workers: int = 1, env: dict[str, str] | None = None
            ) -> Iterator[Server]:  # fmt: skip
    """``raretrace serve`` on a free port until the block ends; its output must hold no
    traceback other than those it logs for a request it answered 500 (none expected)."""
    port = free_port()
    log = ledger.folder / f"serve-{port}.log"
    base = {k: v for k, v in os.environ.items() if not k.startswith("RARETRACE_")}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "raretrace", "--db", ledger.db, "serve", "--port", str(port),
             "--workers", str(workers)],
            cwd=ledger.folder, env={**base, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in server.output(), server.output()[-4000:]


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"serve exited: {server.output()[-3000:]}")
        try:
            if httpx.get(server.url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"serve did not come up: {server.output()[-3000:]}")


def assert_error(response: httpx.Response, status: int, rule: str | None = None) -> dict[str, Any]:
    """The one error shape, exactly: ``{"error": str, "rule": str, "detail": object}``."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["error"], str) and body["error"], body
    assert isinstance(body["rule"], str) and body["rule"], body
    assert isinstance(body["detail"], dict), body
    assert "Traceback" not in response.text and 'File "' not in response.text
    if rule is not None:
        assert body["rule"] == rule, body
    return body
