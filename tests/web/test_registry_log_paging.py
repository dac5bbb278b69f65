"""More of the dashboard in Chromium against the real service: an auditor records an audit
(a date outside its accreditation said next to the field first); the Log page draws the tree
size over time; the lots list and a lineage's events page on the server with htmx (the
address follows, and the pages work as plain links); the demo's sign-in link
(``/ui/signin#token=…``) signs in and leaves no token in the address bar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from web_support import Site

pytestmark = pytest.mark.integration


def test_an_auditor_records_an_audit(visit: Any, site: Site) -> None:
    v = visit()
    page = v.sign_in("auditor")
    page.click("nav.main a[href='/ui/registry']")
    options = page.locator("#audit_facility option").all_inner_texts()
    assert "MY-LYNAS-HRE1" in options and "CN-BAOTOU-SEP" not in options  # only its own
    today = datetime.now(UTC).date()
    page.select_option("#audit_facility", "MY-LYNAS-HRE1")
    page.select_option("#standard", "oecd-ddg")
    page.fill("#audit_date", "2030-01-10")  # after sgs's accreditation ends
    page.fill("#audit_until", "2031-01-10")
    page.check("input[name=result][value=pass]")
    page.click("#audit-form button[type=submit]")
    assert "no accreditation for 'oecd-ddg'" in page.inner_text("#standard-error")
    page.fill("#audit_date", today.isoformat())
    page.fill("#audit_until", (today + timedelta(days=365)).isoformat())
    page.fill("#findings", "tailings storage inspected\nno finding")
    page.click("#audit-form button[type=submit]")
    assert "recorded" in page.inner_text("[data-testid=done]")
    audit = f"AUD-MY-LYNAS-HRE1-oecd-ddg-{today.isoformat().replace('-', '')}"
    assert "sgs" in page.inner_text(f"[data-audit='{audit}']")
    assert not page.script_errors
    v.assert_local()
    site.ledger.audit_clean()


def test_the_log_page_draws_the_tree_size_over_time(visit: Any, site: Site) -> None:
    v = visit()
    page = v.page()
    page.goto(f"{site.url}/ui/log")
    page.wait_for_selector("#tree-size.js-plotly-plot")
    points = page.evaluate("document.getElementById('tree-size').data[0].y")
    assert len(points) >= 2 and points == sorted(points), points
    assert points[-1] == int(page.inner_text("[data-testid=tree-size]").replace(",", ""))
    assert not page.script_errors
    v.assert_local()


def test_lots_and_lineage_events_page_on_the_server(visit: Any, site: Site) -> None:
    v = visit()
    page = v.sign_in("council")
    page.goto(f"{site.url}/ui/lots")
    first = page.locator("#lots-table tbody td:first-child a").all_inner_texts()
    assert len(first) == 25 and first == sorted(first)
    assert "of " in page.inner_text("[data-testid=lot-count]")  # the total, counted
    page.click("[data-testid=lots-page-pager] a[rel=next]")
    page.wait_for_url(f"{site.url}/ui/lots?after=*")  # hx-push-url: the address follows
    second = page.locator("#lots-table tbody td:first-child a").all_inner_texts()
    assert second and second[0] > first[-1] and second == sorted(second)
    page.click("[data-testid=lots-page-pager] a[rel=prev]")
    page.wait_for_url(f"{site.url}/ui/lots?before=*")
    assert page.locator("#lots-table tbody td:first-child a").all_inner_texts() == first
    page.goto(f"{site.url}/ui/lots?after={first[-1]}")  # as a plain link
    assert page.locator("#lots-table tbody td:first-child a").all_inner_texts() == second

    page.goto(f"{site.url}/ui/lots/{site.magnet}?rows=5")  # five events a page
    rows = page.locator("#lineage-events tbody tr")
    assert rows.count() == 5
    shown = page.locator("#lineage-events tbody tr td:first-child").all_inner_texts()
    page.click("[data-testid=lineage-events-pager] a[rel=next]")
    page.wait_for_selector("[data-testid=lineage-events-range]:text-matches('^Events 6 to ')")
    later = page.locator("#lineage-events tbody tr td:first-child").all_inner_texts()
    assert later and not set(later) & set(shown)
    assert page.locator("#check-table tbody tr").count() > 0  # loaded after the page
    assert not page.script_errors
    v.assert_local()


def test_the_demo_sign_in_link_signs_in(visit: Any, site: Site) -> None:
    v = visit()
    page = v.page()
    page.goto(f"{site.url}/ui/signin#token={site.tokens['council']}")
    page.wait_for_url(f"{site.url}/ui/")
    assert page.inner_text("[data-testid=who]").startswith("Signed in as council.asean")
    assert "token" not in page.url and site.tokens["council"] not in page.url
    page.go_back()
    assert site.tokens["council"] not in page.url  # replaced in the history, too
    assert not page.script_errors
    v.assert_local()
