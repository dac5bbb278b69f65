"""Fixtures for the dashboard's browser tests: one signed demo ledger served by the real
``raretrace serve`` (with an issuer, so the council can certify), tokens per role, and one
Debian Chromium driven by Playwright for the session (never a downloaded browser). A test
that fails leaves a screenshot of each page it had open in its kept temporary folder (the
path is printed)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from service_support import build_demo, ok, serving
from web_support import (
    ARGS,
    CHROMIUM,
    DESKTOP,
    ROLE_OF,
    Site,
    Visit,
    busiest_operator,
)  # fmt: skip

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("web-ledger")
    ledger = build_demo(folder, str(folder / "ledger.db"))
    ok("issuer", "keygen", "--did", "did:web:council.example", "--out", "issuer.key", cwd=folder)
    ok("issuer", "status-list", "--key", "issuer.key", "--out", "status.jwt", cwd=folder)
    (folder / "credentials").mkdir()
    operator, magnet = busiest_operator(ledger)
    roles = {**ROLE_OF, "operator": operator}
    tokens = {role: ledger.token(who, role) for role, who in roles.items() if who}
    env = {
        "RARETRACE_ISSUER_KEY": str(folder / "issuer.key"),
        "RARETRACE_STATUS_LIST": str(folder / "status.jwt"),
        "RARETRACE_CREDENTIALS_DIR": str(folder / "credentials"),
        "RARETRACE_CREDENTIALS_URL": "https://council.example/credentials",
    }
    with serving(ledger, env=env) as server:
        yield Site(server, ledger, tokens, operator, magnet)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def visit(browser: Any, site: Site, request: pytest.FixtureRequest,
          tmp_path: Path) -> Iterator[Any]:  # fmt: skip
    """``visit(size, zone)``: a fresh browser context; screenshots kept if the test fails."""
    opened: list[Visit] = []

    def make(size: dict[str, int] = DESKTOP, zone: str = "Asia/Kuala_Lumpur") -> Visit:
        context = browser.new_context(viewport=size, timezone_id=zone, locale="en-GB")
        context.set_default_timeout(30_000)
        v = Visit(context, site)
        opened.append(v)
        return v

    yield make
    failed = request.node.stash.get(FAILED, False)
    for i, v in enumerate(opened):
        for j, page in enumerate(v.pages):
            if failed and not page.is_closed():
                shot = tmp_path / f"failure-{i}-{j}.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot of the failing page {page.url}: {shot}")
        v.context.close()
