"""Helpers of the dashboard's browser tests: one signed demo ledger served by the real
``raretrace serve`` (with an issuer, so the council can certify), tokens per role, and one
Debian Chromium driven by Playwright for the session (never a downloaded browser).

Every page a test opens records its requests; ``assert_local`` fails a test whose page asked
for anything not on 127.0.0.1. A test that fails leaves a screenshot of each page it had
open in its kept temporary folder (the path is printed).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from service_support import DemoLedger, Server, ok

CHROMIUM = Path(os.environ.get("RARETRACE_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 667}
ROLE_OF = {"operator": None, "auditor": "sgs", "authority": "aelb-my",
           "council": "council.asean", "witness": "witness.example"}  # fmt: skip


@dataclass
class Site:
    """The served ledger, its tokens, and what the tests pick from it."""

    server: Server
    ledger: DemoLedger
    tokens: dict[str, str]
    operator: str
    magnet: str

    @property
    def url(self) -> str:
        return self.server.url


def busiest_operator(ledger: DemoLedger) -> tuple[str, str]:
    """The custodian of the most active lots (a magnet maker in the demo) and a magnet lot."""
    out = ok("--db", ledger.db, "lots", "--limit", "0", "--json", cwd=ledger.folder)
    lots = [json.loads(line) for line in out.splitlines()]
    counts: dict[str, int] = {}
    for lot in lots:
        counts[lot["custodian"]] = counts.get(lot["custodian"], 0) + 1
    magnet = next(lot for lot in lots if lot["form"] == "magnet" and lot["status"] == "active")
    return max(counts, key=lambda c: counts[c]), magnet["lot"]


@dataclass
class Visit:
    """One browser context (a viewer): its pages and every URL they requested."""

    context: Any
    site: Site
    requests: list[str] = field(default_factory=list)
    pages: list[Any] = field(default_factory=list)

    def page(self) -> Any:
        page = self.context.new_page()
        page.on("request", lambda r: self.requests.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.script_errors = errors
        self.pages.append(page)
        return page

    def sign_in(self, role: str) -> Any:
        """A page signed in as ``role`` through the sign-in form (public: just a page)."""
        page = self.page()
        if role == "public":
            return page
        page.goto(f"{self.site.url}/ui/signin")
        page.fill("#token", self.site.tokens[role])
        page.click("#signin-form button[type=submit]")
        page.wait_for_url(f"{self.site.url}/ui/")
        assert "Signed in as" in page.inner_text("[data-testid=who]")
        return page

    def assert_local(self) -> None:
        """Every request went to the service on 127.0.0.1 (or was inline data)."""
        home = self.site.url + "/"
        away = [u for u in self.requests if not u.startswith((home, "data:", "blob:"))]
        assert not away, f"requests left 127.0.0.1: {away[:10]}"
