"""Each role signs in and walks the dashboard in a real browser: the pages its role may use
answer and render (no script error, nothing fetched from elsewhere), and every page or
action it may not use is missing from its navigation and refused (403, or 404 for a thing
outside its scope). The walk follows the "Dashboard pages" table of docs/service.md, which
must be the code's table (``web.access.PAGES``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from web_support import Site

from raretrace.service.access import ROLES
from raretrace.web.access import PAGES, allowed
from raretrace.web.render import NAV

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"
YES, NO = "✓", "—"


def page_table() -> dict[str, tuple[str, set[str]]]:
    """Page → (action, roles allowed), from the dashboard table in docs/service.md."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("| page | action | operator |", 1)[1].split("\n\n", 1)[0]
    rows: dict[str, tuple[str, set[str]]] = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        marks = cells[2:]
        assert set(marks) <= {YES, NO}, line
        rows[cells[0].strip("`")] = (
            cells[1], {r for r, m in zip(ROLES, marks, strict=True) if m == YES})  # fmt: skip
    return rows


def test_the_documented_page_table_is_the_code_s() -> None:
    rows = page_table()
    assert set(rows) == set(PAGES)
    for name, (action, roles) in rows.items():
        assert action == PAGES[name], name
        assert roles == {r for r in ROLES if allowed(r, action)}, name


def _lot_for(page: Any, site: Site, role: str) -> str:
    """A lot ``role`` may see (the first of its lots list), or the demo's magnet."""
    if not allowed(role, "read-lots"):
        return site.magnet
    page.goto(f"{site.url}/ui/lots")
    first = page.locator("#lots-table tbody a").first
    return str(first.inner_text())


def _call(page: Any, site: Site, name: str, lot: str) -> Any:
    method, path = name.split(" ", 1)
    url = site.url + path.replace("{lot}", lot).replace("{facility}", "MY-LYNAS-LAMP")
    url = url.replace("{folder}", "no-such-folder").replace("{name}", "dpp.jwt")
    url = url.replace("/ui/log/consistency", "/ui/log/consistency?old=1")
    url = url.replace("{licence}", "LIC-LAMP-OP").replace("{dispute}", "D-SHORT-1")
    url = url.replace("{agreement}", "AGR-LAMP-OFFTAKE-2025")  # public: approved
    if method == "GET":
        return page.request.get(url, max_redirects=0)
    forms = {
        "/ui/verify": {"credential": "not a credential"},
        "/ui/scenarios/run": {"shock": "lynas-outage"},
        "/ui/scenarios/corridor": {},
        "/ui/registry/licences": {"facility": ""},  # allowed: the form's errors (422)
        "/ui/registry/audits": {"facility": ""},  # likewise
        # The clearinghouse: the role may, the input is refused (422), nothing recorded.
        "/ui/agreements/{agreement}/review": {"status": "no-such-status"},
        "/ui/disputes/{dispute}/ruling": {"outcome": "no-such-outcome", "reasons": "x"},
        "/ui/cases/prepare": {"kind": "statement", "dispute": "D-SHORT-1", "text": "x"},
        "/ui/cases/submit": {"kind": "statement", "event": "{}"},
        "/ui/lots/{lot}/certify": {"as_of": "2026-01-01"},
    }
    return page.request.post(url, form=forms[path], max_redirects=0)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_walks_its_pages(visit: Any, site: Site, role: str) -> None:
    v = visit()
    page = v.sign_in(role)
    page.goto(f"{site.url}/ui/")
    shown = {a.get_attribute("href") for a in page.locator("nav.main a").all()}
    assert shown == {item.path for item in NAV if allowed(role, item.action)}, role
    for item in NAV:
        if allowed(role, item.action):
            page.click(f"nav.main a[href='{item.path}']")
            page.wait_for_load_state("load")
            assert page.locator("h1").first.is_visible(), item.path
    lot = _lot_for(page, site, role)
    wrong = []
    for name, action in PAGES.items():
        if name == "POST /ui/lots/{lot}/certify" and allowed(role, action):
            continue  # issuing is slow and writes: tests/web/test_flows.py issues once
        answer = _call(page, site, name, lot)
        if "{folder}" in name:  # no such credential: the role's refusal comes first
            good = answer.status == (404 if allowed(role, action) else 403)
        elif allowed(role, action):
            form_errors = name.startswith("POST") and answer.status == 422
            good = 200 <= answer.status < 300 or form_errors
        else:
            good = answer.status in (403, 404) and "Traceback" not in answer.text()
        if not good:
            said = re.sub(r"\s+", " ", answer.text())[:200]
            wrong.append(f"{name}: {answer.status} {said}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
    assert not page.script_errors, page.script_errors
    v.assert_local()
